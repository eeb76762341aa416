// Checkout: once "Pay" is pressed, say that we are reaching the gateway and refuse a second press.
// The page works without this file; the server also ignores a repeated submit (checkout_key).
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  var button = document.getElementById("pay");
  if (!form || !button) { return; }
  var first = form.querySelector("input[name=delivery]:checked");
  var label = (first && first.getAttribute("data-pay")) || button.textContent;
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter !== button) { return; }  // the language switch
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = button.getAttribute(cashChosen() ? "data-cash-busy" : "data-busy");
  });
  // Cash on delivery / pay at pickup: offered only while the checked delivery takes cash (the CSS
  // hides it too); a hidden choice is unchecked, and the button says no payment happens now.
  function cashChosen() {
    var cash = form.querySelector("input[name=gateway][value=cash]");
    return !!(cash && cash.checked);
  }
  function showCash() {
    var cash = form.querySelector("input[name=gateway][value=cash]");
    var checked = form.querySelector("input[name=delivery]:checked");
    if (cash && checked && checked.getAttribute("data-cash") === "0") { cash.checked = false; }
    button.textContent = cashChosen() ? button.getAttribute("data-cash-label") : label;
    var note = document.getElementById("pay-note");  // no gateway page for cash
    if (note) { note.textContent = note.getAttribute(cashChosen() ? "data-cash" : "data-online"); }
  }
  // Another delivery choice: the button, the summary's fee and total say what will be paid.
  function show(id, text) {
    var element = document.getElementById(id);
    if (element && text) { element.textContent = text; }
  }
  // The address fields only for home delivery (the CSS does it too, with :has(), for pages without
  // this script); fields that carry an error stay in view.
  var address = document.getElementById("delivery-address");
  function showAddress() {
    var checked = form.querySelector("input[name=delivery]:checked");
    if (!address || !checked) { return; }
    address.hidden = checked.getAttribute("data-method") === "pickup" && !address.classList.contains("with-error");
  }
  showAddress();
  form.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name === "gateway") { showCash(); return; }
    if (radio.name !== "delivery" || !radio.checked) { return; }
    showAddress();
    label = radio.getAttribute("data-pay") || label;
    showCash();
    show("checkout-total", radio.getAttribute("data-total"));
    var fee = document.querySelector("#summary-delivery .amount");
    if (fee && radio.getAttribute("data-fee")) { fee.textContent = radio.getAttribute("data-fee"); }
  });
  // Back from the gateway (page restored from the cache): the button works again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    showCash();
  });
}());
