// Checkout: once "Pay" is pressed, say that we are reaching the gateway and refuse a second press.
// The page works without this file; the server also ignores a repeated submit (checkout_key).
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  var button = document.getElementById("pay");
  if (!form || !button) { return; }
  var label = button.textContent;
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter !== button) { return; }  // the language switch
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = button.getAttribute("data-busy");
  });
  // Back from the gateway (page restored from the cache): the button works again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  });
}());
