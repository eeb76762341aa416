"""Product photos: resized WebP/JPEG variants without metadata, served immutable under
content-hash URLs, shown through the picture macro; the old image column migrated."""
from __future__ import annotations

import io
import os
import re

import pytest
from flask_migrate import downgrade, upgrade
from PIL import Image
from sqlalchemy import func, select, text

from extensions import db
from media import images
from models import ImageBlob, Product, ProductImage
from shop.demo import seed_demo

GPS_IFD, MAKE, ORIENTATION = 0x8825, 0x010F, 0x0112


def photo(width=2000, height=1500, fmt="JPEG", orientation=None, colour=(200, 60, 40), **save) -> bytes:
    """A camera-like photo: a coloured frame with a white block in its top-left corner."""
    image = Image.new("RGB", (width, height), colour)
    image.paste((255, 255, 255), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {2: (12.0, 22.0, 0.0)}  # a latitude: where the merchant lives
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes() if fmt in ("JPEG", "WEBP", "PNG") else None, **save)
    return out.getvalue()


def variant(processed, width, fmt) -> bytes:
    return processed.variants[images.variant_key(processed.digest, width, fmt)][1]


def test_three_widths_in_webp_and_jpeg():
    done = images.process(photo())
    assert done.widths == [320, 640, 1280] and (done.width, done.height) == (1280, 960)
    for width in done.widths:
        webp, jpeg = Image.open(io.BytesIO(variant(done, width, "webp"))), Image.open(io.BytesIO(variant(done, width, "jpg")))
        assert (webp.format, jpeg.format) == ("WEBP", "JPEG")
        assert webp.size == jpeg.size == (width, width * 3 // 4)


def test_small_photo_is_never_enlarged():
    done = images.process(photo(500, 500, "PNG"))
    assert done.widths == [320, 500] and (done.width, done.height) == (500, 500)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_exif_is_stripped(fmt):
    done = images.process(photo(800, 600, fmt))
    for key, (_, data) in done.variants.items():
        assert b"PhoneMaker" not in data and b"Exif" not in data, key
        assert not Image.open(io.BytesIO(data)).getexif(), key


def test_orientation_is_applied():
    """A phone held upright writes a landscape frame plus 'rotate 90°': we store it upright."""
    done = images.process(photo(2000, 1500, orientation=6))
    assert (done.width, done.height) == (1280, 1707)  # portrait now
    upright = Image.open(io.BytesIO(variant(done, 640, "jpg"))).convert("RGB")
    # the white corner was top-left in the frame; after a 90° clockwise turn it is top-right
    assert upright.getpixel((630, 10))[2] > 200 and upright.getpixel((10, 10))[2] < 120


def test_transparent_png_is_put_on_white():
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    done = images.process(out.getvalue())
    assert Image.open(io.BytesIO(variant(done, 320, "jpg"))).convert("RGB").getpixel((5, 5)) > (240, 240, 240)


def test_same_pixels_same_digest_other_pixels_other_digest():
    assert images.process(photo(700, 500)).digest == images.process(photo(700, 500)).digest
    assert images.process(photo(700, 500)).digest != images.process(photo(700, 500, colour=(0, 90, 0))).digest


@pytest.mark.parametrize("data", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b"GIF89a not a png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\xff\xd8\xff\xe0" + b"\x00" * 64, b"",
])
def test_what_is_not_a_photo_is_refused(data):
    with pytest.raises(images.ImageError, match="PNG, JPEG or WebP"):
        images.process(data)


def test_gif_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(images.ImageError, match="PNG, JPEG or WebP"):
        images.process(out.getvalue())


def test_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # tiny file, 81 megapixels
    assert len(out.getvalue()) < 200_000
    with pytest.raises(images.ImageError, match="too many pixels"):
        images.process(out.getvalue())


# --- served -----------------------------------------------------------------------------

def _main_image(slug: str) -> ProductImage:
    return db.session.scalar(select(Product).where(Product.slug == slug)).main_image


def test_demo_products_have_drawn_photos(ctx):
    products = db.session.scalars(select(Product)).all()
    assert products and all(p.main_image is not None for p in products)
    assert len({p.main_image.digest for p in products}) == len(products)  # each its own picture


def test_variant_served_immutable_with_its_type(shopper):
    image = _main_image("beurre-de-karite")
    for fmt, mime, magic in (("webp", "image/webp", b"RIFF"), ("jpg", "image/jpeg", b"\xff\xd8\xff")):
        response = shopper.get(f"/media/{image.digest}-640.{fmt}")
        assert response.status_code == 200 and response.headers["Content-Type"] == mime
        assert response.content.startswith(magic)
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Set-Cookie" not in response.headers
        again = shopper.get(f"/media/{image.digest}-640.{fmt}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and not again.content


@pytest.mark.parametrize("key", ["0" * 32 + "-640.webp", "../../app.py", "abc-640.webp", "0" * 32 + "-640.gif"])
def test_unknown_or_malformed_key_is_404(shopper, key):
    assert shopper.get(f"/media/{key}").status_code == 404


def test_catalogue_uses_picture_with_srcset_size_and_lazy_loading(shopper):
    page = shopper.get("/").text
    shown = re.findall(r"<picture>(.*?)</picture>", page, re.S)
    held = re.findall(r'<picture class="late">(.*?)</picture>\s*<noscript><picture>(.*?)</picture></noscript>', page, re.S)
    assert len(shown) == 14 and len(held) == 10  # 4 above the fold, 10 held back, each with a <noscript> copy
    first = shown[0]
    assert re.search(r'<source type="image/webp" srcset="/media/\w{32}-320\.webp 320w, /media/\w{32}-640\.webp 640w, '
                     r'/media/\w{32}-1280\.webp 1280w" sizes="[^"]+">', first)
    assert re.search(r'<source media="\(max-width: 600px\)" type="image/webp" srcset="/media/\w{32}-320\.webp">', first)
    assert 'width="1280" height="960"' in first and 'alt=""' in first  # the name is the card's heading
    assert 'fetchpriority="high"' in first and 'loading="lazy"' not in first  # above the fold
    waiting, fallback = held[-1]
    # Held back: no address the browser would fetch, only data-* ones for static/js/lazy.js …
    assert not re.search(r'\s(src|srcset)="/media/', waiting)
    assert re.search(r'<source media="\(max-width: 600px\)" type="image/webp" data-srcset="/media/\w{32}-320\.webp">', waiting)
    assert re.search(r'data-src="/media/\w{32}-640\.jpg" data-srcset="/media/\w{32}-320\.jpg 320w', waiting)
    assert 'src="data:image/svg+xml,' in waiting and "viewBox='0%200%201280%20960'" in waiting  # the box keeps its shape
    assert 'width="1280" height="960"' in waiting
    # … and the same picture, natively lazy, for browsers without JavaScript.
    assert 'loading="lazy"' in fallback and re.search(r'<img src="/media/\w{32}-640\.jpg" srcset=', fallback)
    assert re.search(r'<script src="/static/js/lazy(\.\w+)?\.js" defer>', page)


def test_product_page_shows_main_photo_eagerly_with_its_name(shopper):
    page = shopper.get("/products/beurre-de-karite").text
    main = re.search(r"<picture>(.*?)</picture>", page, re.S).group(1)
    assert 'alt="Beurre de karité brut"' in main and 'fetchpriority="high"' in main
    assert _main_image("beurre-de-karite").digest in main


def test_product_without_photo_shows_a_placeholder(shopper, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    images.remove_images(product, {i.id for i in product.images})
    db.session.commit()
    page = shopper.get("/products/savon-noir").text
    assert "/static/img/no-photo.svg" in page and "<picture>" not in page
    assert shopper.get("/static/img/no-photo.svg").status_code == 200


def test_removing_a_shared_picture_keeps_its_variants_for_the_other_product(ctx):
    karite, savon = (db.session.scalar(select(Product).where(Product.slug == s)) for s in ("beurre-de-karite", "savon-noir"))
    shared = images.attach(savon, images.process(photo(640, 480)))
    images.attach(karite, images.process(photo(640, 480)))
    db.session.commit()
    keys = lambda: db.session.scalar(select(func.count()).select_from(ImageBlob).where(ImageBlob.key.startswith(shared.digest)))  # noqa: E731
    assert keys() == 4
    images.remove_images(savon, {shared.id})
    db.session.commit()
    assert keys() == 4  # karité still shows it
    images.remove_images(karite, {i.id for i in karite.images if i.digest == shared.digest})
    db.session.commit()
    assert keys() == 0


# --- migration --------------------------------------------------------------------------

def test_migration_moves_uploaded_files_and_drops_svg_placeholders(app, ctx):
    folder = os.path.join(app.static_folder, "uploads", "products")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "migration-test.jpg")
    with open(path, "wb") as handle:
        handle.write(photo(900, 600))
    try:
        db.session.remove()
        downgrade(revision="0003")
        db.session.execute(text("UPDATE product SET image = 'uploads/products/migration-test.jpg' WHERE slug = 'cafe-rwanda'"))
        db.session.execute(text("UPDATE product SET image = 'img/products/savon-noir.svg' WHERE slug = 'savon-noir'"))
        db.session.commit()
        upgrade()
    finally:
        os.remove(path)
    cafe = db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda"))
    savon = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    assert [i.widths for i in cafe.images] == ["320,640,900"] and cafe.main_image.is_main
    assert savon.images == []
    assert "karite" in db.session.scalar(select(Product.search_text).where(Product.slug == "beurre-de-karite"))
    seed_demo()  # the demo pictures come back for the next tests' sake (fresh_database re-seeds anyway)
