// The waiting page: ask the shop (not the gateway) whether the order moved, less and less often
// (5 s, then doubling up to 60 s), and reload only when it did. Without JavaScript a
// <noscript> refresh every 60 s does the same job.
(function () {
  "use strict";
  var box = document.getElementById("order-status");
  var url = box && box.getAttribute("data-status-url");
  if (!url || !window.fetch) { return; }
  var seen = box.getAttribute("data-status") + "/" + box.getAttribute("data-payment-status");
  var delay = 5000;
  function ask() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && state.status + "/" + state.payment_status !== seen) {
          window.location.reload();
          return;
        }
        later();
      })
      .catch(later);
  }
  function later() {
    delay = Math.min(delay * 2, 60000);
    window.setTimeout(ask, delay);
  }
  window.setTimeout(ask, delay);
}());
