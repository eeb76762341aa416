"""Page weight: bytes a phone downloads on a first visit, in Chromium, on slow 3G.

The shop runs under gunicorn (production config) on a SQLite copy of the demo catalogue
with its drawn photos, plus 10 more photographed products (mirrored, re-tinted demo
photos: each its own picture), so that the home page lists 24 products. Chromium
(Debian's, through Playwright) opens each page in a fresh context (empty cache) with the
network throttled through the DevTools protocol (Network.emulateNetworkConditions:
400 kbit/s down and up, 400 ms latency); the figure is the sum of the encoded bytes of
every response (headers included) until the load event and network idle, without
scrolling — what lazy loading leaves for later is not counted there; a last row scrolls the phone
home page to its end and counts everything it then fetched (no budget: the whole grid).

    .venv/bin/python bench/page_weight.py [--quick] [--dpr 3]

Budgets (issue 17): phone home page <= 150 KB, product page <= 100 KB. Reported, never asserted.
"""
from __future__ import annotations

import argparse
import shutil
import time
from collections import defaultdict

import common

KBIT = 1000 / 8  # bytes per second per kbit/s
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
BUDGETS = {"phone home": 150 * 1024, "phone product": 100 * 1024}
EXTRA_PRODUCTS = 10


def add_photographed_products(db_url: str, count: int, grain: bool) -> None:
    """``count`` more products priced in every market, each with its own drawn photo; with
    ``grain``, every product's photo (the demo's too) gets camera-like noise, so that it
    compresses like a real photograph (the flat drawings compress far better)."""
    from PIL import ImageOps

    from extensions import db
    from models import Category, Price, Product
    from shop import demo_pictures
    from media import images
    from shop.demo import PRODUCTS

    app = common.make_app(db_url)
    with app.app_context():
        category = db.session.scalars(db.select(Category)).first()
        if grain:
            for product in db.session.scalars(db.select(Product)):
                images.remove_images(product, {i.id for i in product.images})
                images.attach(product, images.process(_png(_grainy(demo_pictures.draw(product.slug)))))
        for i in range(count):
            slug, name, _, _, description, prices = PRODUCTS[i % len(PRODUCTS)]
            picture = ImageOps.mirror(demo_pictures.draw(slug)).point(lambda v, k=i: min(255, v + 6 + k))
            product = Product(slug=f"{slug}-{i}", name=f"{name} ({i + 2})", description=description,
                              stock=10, active=True, category=category,
                              prices=[Price(currency=c, amount=a) for c, a in prices.items()])
            db.session.add(product)
            images.attach(product, images.process(_png(_grainy(picture) if grain else picture)))
        db.session.commit()


def _grainy(image):
    """Blotchy noise: about the entropy of a real phone photo (a 640 px WebP of ~28 KB,
    1280 px ~70 KB, where the flat drawings give 2-15 KB)."""
    from PIL import Image

    noise = Image.effect_noise((image.width // 4, image.height // 4), 60)
    noise = noise.resize(image.size, Image.Resampling.BICUBIC).convert("RGB")
    return Image.blend(image, noise, 0.2)


def _png(image) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def weigh(browser, url: str, context_args: dict, scroll: bool = False) -> dict:
    """Bytes by resource type, requests and load time of one first visit to ``url`` (with
    ``scroll``, then scrolled to the end, a screen at a time, until the network is idle)."""
    context = browser.new_context(**context_args)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    types, sizes = {}, defaultdict(int)
    cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e["type"]))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], sizes[e["requestId"]] + e["encodedDataLength"]))
    start = time.monotonic()
    page.goto(url, wait_until="load")
    loaded = time.monotonic() - start
    page.wait_for_load_state("networkidle")
    if scroll:
        while page.evaluate("window.scrollY + window.innerHeight < document.documentElement.scrollHeight - 1"):
            page.evaluate("window.scrollBy(0, window.innerHeight)")
            page.wait_for_timeout(300)
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=120_000)
        page.wait_for_timeout(1000)
    by_type = defaultdict(int)
    for request_id, size in sizes.items():
        by_type[types.get(request_id, "Other")] += size
    context.close()
    return {"total": sum(sizes.values()), "by_type": dict(by_type), "requests": len(sizes), "load_s": loaded}


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(same run: it is short anyway)")
    parser.add_argument("--dpr", type=float, default=3.0, help="phone device pixel ratio (iPhone 12-15: 3)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("page_weight: no chromium on PATH (apt-get install chromium); skipped")
        return []
    tables = []
    for grain in (False, True):
        tables.append(measure(chromium, args.dpr, grain))
    return tables


def measure(chromium: str, dpr: float, grain: bool) -> str:
    """One table: the four pages, on a fresh database with drawn or grainy photos."""
    from playwright.sync_api import sync_playwright

    db_url = common.sqlite_url("pageweight")
    common.prepare_demo_db(db_url)
    add_photographed_products(db_url, EXTRA_PRODUCTS, grain)
    port = common.free_port()
    phone, desktop = {**PHONE, "device_scale_factor": dpr}, {**DESKTOP, "device_scale_factor": 1}
    cases = [("phone home", "/", phone, False),  # name, path, context, scrolled to the end
             ("phone product", "/products/beurre-de-karite", phone, False),
             ("desktop home", "/", desktop, False),
             ("desktop product", "/products/beurre-de-karite", desktop, False),
             ("phone home, scrolled to the end", "/", phone, True)]
    rows = []
    with common.serving("app:create_app()", port, common.env_for(db_url, port)):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--disable-quic"])
            for name, path, context_args, scroll in cases:
                result = weigh(browser, f"http://127.0.0.1:{port}{path}", context_args, scroll)
                budget = BUDGETS.get(name)
                verdict = "-" if budget is None else ("within" if result["total"] <= budget else "OVER")
                kinds = ", ".join(f"{k} {v / 1024:.1f}" for k, v in sorted(result["by_type"].items()))
                rows.append([name, f"{result['total'] / 1024:.1f}", f"{budget // 1024 if budget else '-'}",
                             verdict, result["requests"], f"{result['load_s']:.1f}", kinds])
            browser.close()
    kind = "photo-like pictures (drawn + camera grain)" if grain else "the drawn demo pictures"
    return common.table(["page", "KB", "budget KB", "", "requests", "load s (3G)", "KB by type"], rows,
                        title=f"First visit, slow 3G (400 kbit/s, 400 ms), phone 390x844 @{dpr:g}x, "
                              f"{14 + EXTRA_PRODUCTS} products with {kind}")


if __name__ == "__main__":
    main()
