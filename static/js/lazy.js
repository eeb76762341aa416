// Pictures of a long grid (templates/_images.html, late=True) hold their addresses in
// data-srcset / data-src until they come within 300px of the screen. Chrome's own
// loading="lazy" starts 2500px ahead on a slow connection: on a phone, the whole grid.
// Without IntersectionObserver every picture is shown at once.
(function () {
  "use strict";
  var held = document.querySelectorAll("picture.late");

  function show(picture) {
    picture.querySelectorAll("source[data-srcset]").forEach(function (source) {
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
    held.forEach(show);
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        show(entry.target);
      }
    });
  }, { rootMargin: "300px 0px" });
  held.forEach(function (picture) { observer.observe(picture); });
})();
