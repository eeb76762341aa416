"""Locust shoppers for ``bench/load.py``: browse, add to cart, check out, pay through the simulator.

Each shopper picks the CFA-franc market (PayUnit), then mostly browses (the home page, a
category, a product) and now and then buys: cart, checkout form, checkout (303 to PayUnit's
simulated page), pays there with a phone number, and follows the gateway back to the order
page. The simulator's callback is what pays the order, so "paid" is counted from the database
by ``bench/load.py``, not here. Product slugs and ids come from ``BENCH_PRODUCTS``
(``slug:id,slug:id``), written by ``bench/load.py``.

The shop runs its production configuration over loopback HTTP: its cookies are ``Secure``, so
the client is told to send them anyway, as a browser does over the router's HTTPS (and follows
redirects itself, for the same reason). Each request opens its own connection (``Connection:
close``): a kept-alive one that gunicorn closes after its 2 s keep-alive while the shopper reads
would be reset under the client, which a browser retries silently and Locust counts as a failure.
"""
from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CHECKOUT_KEY = re.compile(r'id="checkout_key" name="checkout_key" type="hidden" value="([^"]+)"')
CHECKED_DELIVERY = re.compile(r'<input checked [^>]*name="delivery" type="radio" value="([^"]+)"')
PRODUCTS = [tuple(item.split(":")) for item in os.environ.get("BENCH_PRODUCTS", "").split(",") if item]
#: What a form page says is wrong (a field's error, a flash message), for the failure's reason.
PROBLEM = re.compile(r'<p class="(?:error|flash [a-z]+)"[^>]*>([^<]{1,200})<')
CUSTOMER = {"name": "Awa Ouédraogo", "email": "awa@example.bf", "phone": "+226 70 12 34 56"}


class Shopper(HttpUser):
    wait_time = between(1, 3)  # a person reading a page

    def on_start(self) -> None:
        self.page("/")
        self.choose_market()

    def choose_market(self) -> None:
        with self.post("/market", {"currency": "XAF"}, csrf_from="/", name="/market", catch_response=True) as answer:
            if answer.status_code != 303:
                answer.failure(f"market answered {answer.status_code}")

    # --- what a browser does --------------------------------------------------------------
    def _cookies_as_browser(self) -> None:
        for cookie in self.client.cookies:
            cookie.secure = False

    def page(self, path: str, name: str | None = None):
        """GET, following redirects by hand: requests would send the next hop without the Secure
        cookie it just received, and the shop would start a new session."""
        for _ in range(5):
            self._cookies_as_browser()
            response = self.client.get(path, name=name or path, allow_redirects=False,
                                       headers={"Connection": "close"})
            if response.status_code not in (301, 302, 303, 307) or "Location" not in response.headers:
                return response
            path, name = response.headers["Location"], f"{name or path} (redirected)"
        return response

    def post(self, path: str, data: dict, *, csrf_from: str, name: str, allow_redirects: bool = False,
             catch_response: bool = False):
        token = CSRF.search(self.page(csrf_from, name=f"{csrf_from} (form)").text or "")
        self._cookies_as_browser()
        return self.client.post(path, data={**data, "csrf_token": token.group(1) if token else ""},
                                name=name, allow_redirects=allow_redirects, catch_response=catch_response,
                                headers={"Connection": "close"})

    # --- shoppers -------------------------------------------------------------------------
    @task(6)
    def browse(self) -> None:
        self.page("/")
        slug, _ = random.choice(PRODUCTS)
        self.page(f"/products/{slug}", name="/products/<slug>")

    @task(2)
    def search(self) -> None:
        self.page(f"/?q={random.choice(['pagne', 'wax', 'savon', 'cafe', 'sac'])}", name="/?q=<search>")

    @task(1)
    def buy(self) -> None:
        _, product_id = random.choice(PRODUCTS)
        self.post("/cart/add", {"product_id": product_id, "quantity": 1}, csrf_from="/", name="/cart/add")
        form = self.page("/checkout", name="/checkout (form)").text or ""
        key, delivery = CHECKOUT_KEY.search(form), CHECKED_DELIVERY.search(form)
        if not key:
            return
        if 'value="payunit"' not in form:
            self.environment.events.request.fire(
                request_type="CHECK", name="market kept", response_time=0, response_length=0,
                exception=Exception(f"the cart is not in XAF any more: {self.client.cookies.keys()}"))
            self.choose_market()
            return
        token = CSRF.search(form)
        self._cookies_as_browser()
        with self.client.post("/checkout", name="/checkout", allow_redirects=False, catch_response=True,
                              headers={"Connection": "close"},
                              data={**CUSTOMER, "gateway": "payunit", "checkout_key": key.group(1),
                                    "delivery": delivery.group(1) if delivery else "",
                                    "csrf_token": token.group(1) if token else ""}) as answer:
            if answer.status_code != 303:
                said = PROBLEM.findall(answer.text or "")
                answer.failure(f"checkout answered {answer.status_code}: {'; '.join(said) or 'no message'}")
                return
            gateway_page = answer.headers["Location"]
        # the gateway's page (the simulator), paid; the gateway sends the browser back to the shop
        self.page(gateway_page, name="gateway: PayUnit page")
        self._cookies_as_browser()
        with self.client.post(gateway_page, data={"action": "pay", "phone": "677000000"}, name="gateway: pay",
                              allow_redirects=False, catch_response=True, headers={"Connection": "close"}) as paid:
            if paid.status_code != 303:
                paid.failure(f"the gateway's page answered {paid.status_code}")
                return
            back = paid.headers["Location"]
        self.page(back, name="/payments/callback/payunit/<ref> (return, to the order page)")
