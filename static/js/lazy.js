// Pictures of a long grid (templates/_images.html, late=True) hold their addresses in
// data-srcset / data-src until they come within 300px of the screen. Chrome's own
// loading="lazy" starts 2500px ahead on a slow connection: on a phone, the whole grid.
// Without IntersectionObserver (KaiOS 2.5, older Android browsers) every picture is shown at
// once; nothing here needs more than ES5, not even NodeList.forEach.
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var held = document.querySelectorAll("picture.late");

  function show(picture) {
    each(picture.querySelectorAll("source[data-srcset]"), function (source) {
      source.srcset = source.getAttribute("data-srcset");
      source.removeAttribute("data-srcset");
    });
    var img = picture.querySelector("img[data-src]");
    if (img) {
      img.srcset = img.getAttribute("data-srcset");
      img.src = img.getAttribute("data-src");
      img.removeAttribute("data-srcset");
      img.removeAttribute("data-src");
    }
    picture.classList.remove("late");
  }

  if (!("IntersectionObserver" in window)) {
    each(held, show);
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    each(entries, function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        show(entry.target);
      }
    });
  }, { rootMargin: "300px 0px" });
  each(held, function (picture) { observer.observe(picture); });
})();
