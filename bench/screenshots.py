"""Screenshots of every page, on a phone (390 × 844) and a desktop (1280 × 800), into docs/screenshots/.

    .venv/bin/python -m bench.screenshots [--out docs/screenshots]

Serves the app (development config, simulator on) from a throw-away SQLite database with the demo
catalogue (plus two promo codes, and cash on delivery / pay at pickup accepted in Ouagadougou), walks
a customer's journey, the merchant's dashboard and the customer finding their order again in
Debian's Chromium, and saves one full-page PNG per page and size (``phone-03-cart.png``,
``desktop-03-cart.png``): 01–14 the customer, 15–16 finding the order, 21–37 the dashboard. Run it
again whenever a page changes, and look at the pictures before committing them.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
#: Scroll through the page (the grid's held pictures load as they near the screen), back to the
#: top, then wait for every picture.
LOAD_ALL_IMAGES = """async () => {
  const pause = () => new Promise(done => setTimeout(done, 50));
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
    window.scrollTo(0, y);
    await pause();
  }
  window.scrollTo(0, 0);
  await Promise.all([...document.images].map(img => {
    img.loading = "eager";
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
  }));
}"""
ADMIN = ("merchant@example.bf", "screenshots only, not a secret")
LINK: dict[str, str] = {}  # the demo payment link's code, made when the server starts
DEMO: dict[str, str] = {}  # the shirt's product id (made when the server starts); the paid order's reference
PHONE = "70 12 34 56"  # the customer's, as typed at checkout and in "Find my order"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, database: Path):
    """The app on ``port`` with a fresh demo database; returns the server (stop with shutdown())."""
    os.environ.update(COMPTOIR_ENV="development", DATABASE_URL=f"sqlite:///{database}",
                      PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", SIMULATOR_ENABLED="1")
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from extensions import db
    from merchant.accounts import save_admin
    from shop.demo import seed_demo
    from links.payment_links import FreeLine, LinkRequest, ProductLine, create_link

    app = create_app()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
        save_admin(*ADMIN)
        from models import Product

        coffee = db.session.scalar(db.select(Product.id).where(Product.slug == "cafe-rwanda"))
        link = create_link(LinkRequest("XOF", products=[ProductLine(coffee, 2)],
                                       free=[FreeLine("Retouche sur mesure", 2500)], customer_name="Awa",
                                       note="Livraison jeudi, comme convenu"), actor=ADMIN[0])
        LINK["code"] = link.code
        DEMO["shirt"] = str(seed_promos_and_cash())
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def seed_promos_and_cash() -> int:
    """Two promo codes (one for the textiles, one for free delivery) and cash accepted in
    Ouagadougou (home delivery up to 50 000 F CFA, the shop's pickup point); returns the
    variant shirt's product id."""
    from extensions import db
    from models import Category, DeliveryZone, PickupPoint, Product
    from shop.promos import PromoData, save_promo

    textiles = db.session.scalar(db.select(Category.id).where(Category.slug == "textiles"))
    save_promo(None, PromoData("TABASKI10", "percent", percent=10, max_uses=100, category_ids=(textiles,)))
    save_promo(None, PromoData("LIVRAISON", "free_delivery", markets={"XOF": ("", "20000")}, max_uses_per_phone=1))
    zone = db.session.scalar(db.select(DeliveryZone).where(DeliveryZone.name == "Ouagadougou centre"))
    zone.cash_enabled, zone.cash_max = True, 50_000  # minor units (whole francs in XOF)
    point = db.session.scalar(db.select(PickupPoint).where(PickupPoint.name == "Boutique Comptoir Ouaga 2000"))
    point.cash_enabled = True
    db.session.commit()
    return db.session.scalar(db.select(Product.id).where(Product.slug == "kitenge-chemise"))


class Camera:
    """Saves ``<size>-<nn>-<name>.png`` for each page visited, numbered on from ``count``; a number
    already taken in this run (``taken``, shared by a size's journeys) is an error."""

    def __init__(self, page, size: str, out: Path, count: int = 0, taken: set[int] | None = None):
        self.page, self.size, self.out, self.count = page, size, out, count
        self.taken = taken if taken is not None else set()

    def __call__(self, name: str) -> None:
        self.count += 1
        if self.count in self.taken:
            raise RuntimeError(f"screenshots: {self.size}-{self.count:02d} is taken twice ({name})")
        self.taken.add(self.count)
        self.page.wait_for_load_state("load")
        self.page.evaluate(LOAD_ALL_IMAGES)  # a full-page shot shows what is below the fold too
        path = self.out / f"{self.size}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)


def customer(page, shot: Camera) -> None:
    """Catalogue → product → cart → checkout (errors, then LigdiCash) → back → order → paid;
    then a shirt in one size, a promo code in the cart, and a checkout offering cash on delivery."""
    page.goto("/")
    shot("home")
    page.get_by_role("link", name="Café du Rwanda").first.click()
    shot("product")
    page.get_by_role("button", name=re.compile("Add to cart|Ajouter au panier")).click()
    page.locator("button.step").last.click()
    shot("cart")
    page.locator(".actions a.button").click()
    shot("checkout")
    page.locator("#pay").click()
    shot("checkout-errors")
    page.goto("/checkout")  # a fresh GET, so that Back from the gateway lands on it (not on a POST)
    page.locator("#name").fill("Awa Ouédraogo")
    page.locator("#email").fill("awa@example.bf")
    page.locator("#phone").fill(PHONE)
    page.locator("input[value=ligdicash]").check()
    page.locator("#pay").click()
    page.wait_for_url(re.compile(r"/_sim/"))
    page.go_back()  # the customer changes their mind on the gateway's page
    shot("cart-back-from-gateway")
    page.locator("#waiting-order a.button").click()
    shot("order-waiting")
    page.locator("#order-status a.button").first.click()
    page.locator("#phone").fill("22670000000")  # the simulated LigdiCash page
    page.get_by_role("button", name="Payer", exact=True).click()
    page.wait_for_selector("#order-status[data-status=paid]")
    DEMO["order"] = re.search(r"CMD-[\w-]+", page.locator("h1").inner_text()).group(0)
    shot("order-paid")
    page.goto("/orders")
    shot("my-orders")
    page.goto("/no-such-page")
    shot("not-found")
    page.goto(f"/p/{LINK['code']}")
    shot("payment-link")
    page.goto("/products/kitenge-chemise")  # sizes S to XXL, XXL sold out
    page.locator("label.variant", has_text=re.compile(r"^\s*M\s*$")).click()
    shot("product-variants")
    page.locator("#variants-form button[type=submit], #variants-form input[type=submit]").click()
    page.goto("/cart")
    page.locator("#promo-code").fill("tabaski10")
    page.locator("#promo button[name=apply]").click()
    page.wait_for_selector("#promo-applied")
    shot("cart-promo")
    page.goto("/checkout")
    page.locator("#name").fill("Awa Ouédraogo")
    page.locator("#email").fill("awa@example.bf")
    page.locator("#phone").fill(PHONE)
    page.locator("label.delivery-option", has_text="Ouagadougou centre").locator("input").check()
    page.locator("#delivery_city").fill("Ouaga 2000")
    page.locator("#delivery_address").fill("Rue 15.32, portail bleu, près de la pharmacie")
    page.locator("input[value=cash]").check()
    shot("checkout-cash")  # not placed: the dashboard's newest order stays the paid one


def returning_customer(page, shot: Camera) -> None:
    """Another browser: "Find my order" with the paid order's number and phone → its page, whose
    history shows what the merchant has done since (run after the dashboard's journey)."""
    page.goto("/orders/find")
    page.locator("#reference").fill(DEMO["order"])
    page.locator("#phone").fill(PHONE)
    shot("find-order")
    page.locator("form.find-order [type=submit]").click()
    page.wait_for_selector("#timeline")
    shot("order-timeline")


def merchant(page, shot: Camera) -> None:
    """Login → overview → orders → one order → products → to fulfil → delivery → payment links;
    then the refund form, variants, promo codes, the CSV import, the jobs, and the paid order
    prepared and made ready for pickup (for the customer's history)."""
    page.goto("/admin/")
    shot("admin-login")
    page.get_by_label("E-mail").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    shot("admin-overview")
    page.goto("/admin/orders")
    shot("admin-orders")
    page.locator("#orders tbody a").first.click()
    shot("admin-order")
    page.goto("/admin/products")
    shot("admin-products")
    page.goto("/admin/fulfil")
    shot("admin-to-fulfil")
    page.locator("#to-fulfil a").first.click()
    shot("admin-order-to-fulfil")
    page.goto(page.url + "/slip")
    shot("admin-packing-slip")
    page.goto("/admin/delivery")
    shot("admin-delivery")
    page.goto("/admin/links")
    shot("admin-links")
    page.goto(f"/admin/links/{LINK['code']}")
    shot("admin-link")
    page.goto("/admin/links/new")
    shot("admin-link-new")
    page.goto(f"/admin/orders/{DEMO['order']}")
    page.locator("#refund summary").click()
    shot("admin-order-refund")
    page.goto(f"/admin/products/{DEMO['shirt']}/variants")
    shot("admin-product-variants")
    page.goto("/admin/promos")
    shot("admin-promos")
    page.goto("/admin/products/import")
    shot("admin-import")
    page.goto("/admin/jobs")
    shot("admin-jobs")
    page.goto(f"/admin/orders/{DEMO['order']}")
    for step in ("preparing", "ready_for_pickup"):
        page.locator(f"#fulfilment form:has(input[name=action][value={step}]) button").click()
        page.wait_for_selector(f"#fulfilment[data-fulfilment={step}]")


#: Each journey and the number its shots follow, in the order they run (a size's journeys share
#: one browser database: the dashboard acts on the customer's order, then the customer finds it).
JOURNEYS = ((customer, 0), (merchant, 20), (returning_customer, 14))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("screenshots: no chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = serve(port, Path(tmp) / "screenshots.db")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for size, options in SIZES.items():
                    taken: set[int] = set()
                    for journey, start in JOURNEYS:
                        context = browser.new_context(base_url=f"http://127.0.0.1:{port}", locale="fr-FR",
                                                      **options)
                        page = context.new_page()
                        page.set_default_timeout(15_000)
                        journey(page, Camera(page, size, args.out, start, taken))
                        context.close()
                browser.close()
        finally:
            server.shutdown()
    print(f"screenshots: {len(list(args.out.glob('*.png')))} pages in {args.out}")


if __name__ == "__main__":
    main()
