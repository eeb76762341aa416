"""Screenshots of every page, on a phone (390 × 844) and a desktop (1280 × 800), into docs/screenshots/.

    .venv/bin/python -m bench.screenshots [--out docs/screenshots]

Serves the app (development config, simulator on) from a throw-away SQLite database with the demo
catalogue, walks a customer's journey and the merchant's dashboard in Debian's Chromium, and saves
one full-page PNG per page and size (``phone-03-cart.png``, ``desktop-03-cart.png``). Run it again
whenever a page changes, and look at the pictures before committing them.
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
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Camera:
    """Saves ``<size>-<nn>-<name>.png`` for each page visited."""

    def __init__(self, page, size: str, out: Path):
        self.page, self.size, self.out, self.count = page, size, out, 0

    def __call__(self, name: str) -> None:
        self.count += 1
        self.page.wait_for_load_state("load")
        self.page.evaluate(LOAD_ALL_IMAGES)  # a full-page shot shows what is below the fold too
        path = self.out / f"{self.size}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)


def customer(page, shot: Camera) -> None:
    """Catalogue → product → cart → checkout (errors, then LigdiCash) → back → order → paid."""
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
    page.locator("#phone").fill("70 12 34 56")
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
    shot("order-paid")
    page.goto("/orders")
    shot("my-orders")
    page.goto("/no-such-page")
    shot("not-found")
    page.goto(f"/p/{LINK['code']}")
    shot("payment-link")


def merchant(page, shot: Camera) -> None:
    """Login → overview → orders → one order → products."""
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
                    for journey in (customer, merchant):
                        context = browser.new_context(base_url=f"http://127.0.0.1:{port}", locale="fr-FR",
                                                      **options)
                        page = context.new_page()
                        page.set_default_timeout(15_000)
                        shot = Camera(page, size, args.out)
                        shot.count = 0 if journey is customer else 20
                        journey(page, shot)
                        context.close()
                browser.close()
        finally:
            server.shutdown()
    print(f"screenshots: {len(list(args.out.glob('*.png')))} pages in {args.out}")


if __name__ == "__main__":
    main()
