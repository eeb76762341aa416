// The product page's combinations: picking one shows its price, its stock and (when it has one)
// its photo without reloading. Without JavaScript the radio buttons and the server do it all.
(function () {
  "use strict";
  var form = document.getElementById("variants-form");
  if (!form) return;
  var price = document.getElementById("variant-price");
  var stock = document.getElementById("variant-stock");
  var quantity = form.querySelector("input[name=quantity]");
  var main = document.getElementById("main-picture");
  var originalPicture = main ? main.innerHTML : "";
  form.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "variant_id") return;
    if (price && radio.dataset.price) price.textContent = radio.dataset.price;
    if (stock) stock.textContent = radio.dataset.stock;
    if (quantity) {
      quantity.max = radio.dataset.max;
      if (Number(quantity.value) > Number(radio.dataset.max)) quantity.value = radio.dataset.max;
    }
    if (!main) return;
    var item = radio.dataset.image && document.querySelector('.gallery-item[data-digest="' + radio.dataset.image + '"]');
    main.innerHTML = item ? item.innerHTML : originalPicture;
    var img = main.querySelector("img");
    if (img) { img.removeAttribute("loading"); }
  });
})();
