"""Product photos in an S3-compatible bucket (IMAGE_STORAGE=s3, media/s3.py), against
moto's S3 server on a local port: real HTTP from boto3, nothing patched.

The merchant uploads through the dashboard (real HTTP to the live test server); customers'
pages link the bucket's public URL when there is one, else /media/, which reads the object
through the shop. Deletes reach the bucket only once the database has committed. A bucket that
is down or refuses is a form error on the dashboard (nothing saved) and a 503 on /media/."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from extensions import db
from media import images
from media import s3 as image_s3
from models import ImageBlob, Product
from shop import catalog
from tests.admin.conftest import text_of
from tests.admin.test_product_photos import _form, _post, _product
from tests.media.test_images import photo

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Access-Key-never-shown-0123456789"
IMMUTABLE = "public, max-age=31536000, immutable"
DOWN = "The photo storage is not answering, so nothing was saved: choose the photos again in a moment."


def start_moto() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def moto_url():
    """moto's S3 (and the rest of AWS) as an HTTP server on a free local port."""
    server, url = start_moto()
    yield url
    server.stop()
    image_s3.forget_clients()


@pytest.fixture
def aws_credentials(monkeypatch):
    """Dummy credentials through boto3's own chain (the environment), nothing from ~/.aws."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTINGONLY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


class Bucket:
    """The test's view of the bucket, through its own boto3 client."""

    def __init__(self, endpoint: str, name: str):
        self.endpoint, self.name = endpoint, name
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def make_public(self) -> None:
        """Anyone may read its objects, as a public bucket behind a CDN is set up."""
        self.s3.put_bucket_policy(Bucket=self.name, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{self.name}/*"}]}))

    def keys(self, prefix: str = "") -> set[str]:
        listed = self.s3.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return {o["Key"] for o in listed.get("Contents", [])}

    def head(self, key: str) -> dict:
        return self.s3.head_object(Bucket=self.name, Key=key)

    def body(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()


def use_bucket(app, endpoint: str, public: str = "") -> Bucket:
    """A new bucket on ``endpoint``, and the app configured to keep its photos there."""
    bucket = Bucket(endpoint, f"photos-{uuid.uuid4().hex[:12]}")
    bucket.s3.create_bucket(Bucket=bucket.name)
    app.config.update(IMAGE_STORAGE="s3", S3_BUCKET=bucket.name, S3_ENDPOINT_URL=endpoint,
                      S3_REGION="us-east-1", IMAGE_PUBLIC_BASE_URL=public)
    catalog.clear_cache()  # pages cached under the database storage linked /media/ (the config is restored after)
    return bucket


@pytest.fixture
def bucket(app, moto_url, aws_credentials) -> Bucket:
    return use_bucket(app, moto_url)


def dead_endpoint() -> str:
    """A local port nobody listens on: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def variant_keys(digest: str, widths=(320, 640, 1280)) -> set[str]:
    return {images.variant_key(digest, w, f) for w in widths for f in ("webp", "jpg")}


def blobs(digest: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ImageBlob).where(ImageBlob.key.startswith(digest)))


def upload(admin, *files: bytes, **form):
    sent = [("images", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(files)]
    return _post(admin, "/admin/products/new", _form(**form), sent)


# --- upload ---------------------------------------------------------------------------------

def test_upload_puts_each_variant_in_the_bucket_with_its_type_and_a_year_of_cache(admin, bucket):
    response = upload(admin, photo(1600, 1200))
    assert response.status_code == 303, text_of(response)[:500]
    digest = _product().main_image.digest
    assert bucket.keys(digest) == variant_keys(digest)
    for key in variant_keys(digest):
        head = bucket.head(key)
        assert head["ContentType"] == ("image/webp" if key.endswith(".webp") else "image/jpeg"), key
        assert head["CacheControl"] == IMMUTABLE, key
    assert bucket.body(f"{digest}-640.jpg").startswith(b"\xff\xd8\xff")
    assert blobs(digest) == 0  # nothing of it in the database


def test_without_public_url_pages_link_media_which_reads_the_bucket(admin, shopper, bucket):
    upload(admin, photo(900, 600))
    digest = _product().main_image.digest
    page = shopper.get("/products/sac-en-raphia").text
    assert f'src="/media/{digest}-640.jpg"' in page and f"/media/{digest}-320.webp 320w" in page
    assert f"/media/{digest}-320.webp" in shopper.get("/").text
    for fmt, mime in (("webp", "image/webp"), ("jpg", "image/jpeg")):
        key = f"{digest}-640.{fmt}"
        served = shopper.get(f"/media/{key}")
        assert served.status_code == 200 and served.headers["Content-Type"] == mime
        assert served.headers["Cache-Control"] == IMMUTABLE and "Set-Cookie" not in served.headers
        assert served.content == bucket.body(key)
    assert shopper.get(f"/media/{digest}-999.jpg").status_code == 404  # not in the bucket
    assert "img-src 'self' data:;" in shopper.get("/").headers["Content-Security-Policy"]


def test_with_public_url_pages_link_the_bucket_and_the_csp_allows_it(admin, shopper, bucket, app):
    upload(admin, photo(900, 600))
    digest = _product().main_image.digest
    bucket.make_public()
    public = f"{bucket.endpoint}/{bucket.name}"
    app.config["IMAGE_PUBLIC_BASE_URL"] = public
    catalog.clear_cache()
    for path in ("/products/sac-en-raphia", "/"):
        response = shopper.get(path)
        assert f"{public}/{digest}-320.webp 320w" in response.text, path
        assert f"/media/{digest}" not in response.text, path
        assert f"img-src 'self' data: {bucket.endpoint};" in response.headers["Content-Security-Policy"]
    page = shopper.get("/products/sac-en-raphia").text
    linked = re.search(rf'src="({re.escape(public)}/{digest}-640\.jpg)"', page).group(1)
    fetched = shopper.get(linked)  # what the customer's browser does
    assert fetched.status_code == 200 and fetched.content == bucket.body(f"{digest}-640.jpg")
    assert fetched.headers["Cache-Control"] == IMMUTABLE
    assert shopper.get(f"/media/{digest}-640.jpg").status_code == 200  # old links keep working


def test_a_refused_upload_leaves_harmless_orphans_that_the_same_photo_reuses(admin, bucket):
    """Objects are put before the transaction commits: a save refused afterwards leaves them,
    referenced by nothing and never linked; the same photo uploaded again has the same keys."""
    good = photo(700, 500, colour=(90, 90, 0))
    digest = images.process(good).digest
    refused = _post(admin, "/admin/products/new", _form(), [("images", ("a.jpg", good, "image/jpeg")),
                                                            ("images", ("b.png", b"GIF89a no", "image/png"))])
    assert refused.status_code == 400 and _product() is None
    assert bucket.keys(digest) == variant_keys(digest, (320, 640, 700))  # the orphans
    assert upload(admin, good).status_code == 303
    assert _product().main_image.digest == digest
    assert bucket.keys(digest) == variant_keys(digest, (320, 640, 700))


# --- delete ---------------------------------------------------------------------------------

def test_deleting_a_photo_in_the_dashboard_removes_its_objects(admin, bucket):
    upload(admin, photo(700, 500), photo(700, 500, colour=(10, 10, 200)))
    product = _product()
    first, second = product.images
    keep, gone = first.digest, second.digest
    data = _form(slug="sac-en-raphia", stock_seen="12", main_image=str(first.id), delete_images=[str(second.id)])
    assert _post(admin, f"/admin/products/{product.id}", data, []).status_code == 303
    assert bucket.keys(gone) == set()
    assert bucket.keys(keep) == variant_keys(keep, (320, 640, 700))


def test_a_save_that_fails_after_deleting_a_photo_deletes_nothing(admin, bucket):
    """Delete a photo and add a file that is not one: the form is refused, the rollback keeps
    the photo, and so its objects stay."""
    upload(admin, photo(700, 500), photo(700, 500, colour=(10, 10, 200)))
    product = _product()
    first, second = product.images
    data = _form(slug="sac-en-raphia", stock_seen="12", main_image=str(first.id), delete_images=[str(second.id)])
    response = _post(admin, f"/admin/products/{product.id}", data, [("images", ("x.png", b"GIF89a no", "image/png"))])
    assert response.status_code == 400 and "The image must be a PNG, JPEG or WebP file." in text_of(response)
    assert [i.id for i in _product().images] == [first.id, second.id]
    assert bucket.keys(second.digest) == variant_keys(second.digest, (320, 640, 700))


def test_delete_waits_for_the_commit_and_a_rollback_keeps_the_objects(bucket, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    image = images.attach(product, images.process(photo(640, 480, colour=(1, 2, 3))))
    db.session.commit()
    image_id, digest = image.id, image.digest
    stored = variant_keys(digest, (320, 640))
    assert bucket.keys(digest) == stored
    images.remove_images(product, {image_id})
    db.session.flush()
    assert bucket.keys(digest) == stored  # noted, not done: the transaction may still fail
    db.session.rollback()
    assert bucket.keys(digest) == stored
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    assert image_id in {i.id for i in product.images}  # the page still shows it, and it is there
    images.remove_images(product, {image_id})
    db.session.commit()
    assert bucket.keys(digest) == set()


def test_a_photo_removed_and_added_back_in_one_transaction_keeps_its_objects(bucket, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    processed = images.process(photo(640, 480, colour=(4, 5, 6)))
    image = images.attach(product, processed)
    db.session.commit()
    images.remove_images(product, {image.id})
    images.attach(product, processed)
    db.session.commit()
    assert bucket.keys(processed.digest) == variant_keys(processed.digest, (320, 640))


def test_a_photo_another_product_shows_is_not_deleted(bucket, ctx):
    karite, savon = (db.session.scalar(select(Product).where(Product.slug == s)) for s in ("beurre-de-karite", "savon-noir"))
    processed = images.process(photo(640, 480, colour=(7, 8, 9)))
    shared = images.attach(savon, processed)
    images.attach(karite, processed)
    db.session.commit()
    images.remove_images(savon, {shared.id})
    db.session.commit()
    assert bucket.keys(processed.digest) == variant_keys(processed.digest, (320, 640))


def test_delete_objects_is_sent_in_batches_of_at_most_a_thousand(bucket, app):
    with app.app_context():
        store = images.storage()
        store.put({"a" * 32 + "-320.jpg": ("image/jpeg", b"one"), "b" * 32 + "-320.jpg": ("image/jpeg", b"two")})
        batches: list[int] = []

        def count(params, **_):
            batches.append(len(params["Delete"]["Objects"]))

        client = image_s3.client(bucket.endpoint, "us-east-1")
        client.meta.events.register("provide-client-params.s3.DeleteObjects", count)
        try:
            store.delete_now([f"{n:032x}-320.jpg" for n in range(2498)] + ["a" * 32 + "-320.jpg", "b" * 32 + "-320.jpg"])
        finally:
            client.meta.events.unregister("provide-client-params.s3.DeleteObjects", count)
    assert batches == [1000, 1000, 500]
    assert bucket.keys() == set()


# --- the bucket fails -----------------------------------------------------------------------

def test_bucket_down_new_product_is_a_form_error_and_nothing_is_saved(admin, bucket, app, caplog):
    app.config["S3_ENDPOINT_URL"] = dead_endpoint()
    products = db.session.scalar(select(func.count()).select_from(Product))
    with caplog.at_level(logging.DEBUG):
        response = upload(admin, photo(900, 600))
    assert response.status_code == 503
    assert DOWN in text_of(response)
    assert 'value="Sac en raphia"' in response.text  # what the merchant typed is still there
    assert _product() is None and db.session.scalar(select(func.count()).select_from(Product)) == products
    assert "the photo bucket did not answer put_object: EndpointConnectionError" in caplog.text
    assert SECRET not in caplog.text and SECRET not in response.text


def test_bucket_down_edit_keeps_the_product_as_it_was(admin, bucket, app):
    upload(admin, photo(700, 500))
    before = _product()
    images_before = [(i.id, i.digest) for i in before.images]
    app.config["S3_ENDPOINT_URL"] = dead_endpoint()
    data = _form(slug="sac-en-raphia", stock_seen="12", stock="30", price_XOF="12000",
                 main_image=str(images_before[0][0]), delete_images=[str(images_before[0][0])])
    response = _post(admin, f"/admin/products/{before.id}", data, [("images", ("n.jpg", photo(800, 600), "image/jpeg"))])
    assert response.status_code == 503 and DOWN in text_of(response)
    after = _product()
    assert [(i.id, i.digest) for i in after.images] == images_before
    assert after.stock == 12 and after.price_in("XOF").amount == 9500
    app.config["S3_ENDPOINT_URL"] = bucket.endpoint
    assert bucket.keys(images_before[0][1])  # the delete was never sent


def test_deleting_a_photo_while_the_bucket_is_down_saves_and_leaves_orphans(admin, bucket, app, caplog):
    """The delete is sent after the commit: the save stands, the objects stay (logged)."""
    upload(admin, photo(700, 500), photo(700, 500, colour=(10, 10, 200)))
    product = _product()
    first, second = product.images
    gone = second.digest
    app.config["S3_ENDPOINT_URL"] = dead_endpoint()
    data = _form(slug="sac-en-raphia", stock_seen="12", main_image=str(first.id), delete_images=[str(second.id)])
    with caplog.at_level(logging.WARNING):
        assert _post(admin, f"/admin/products/{product.id}", data, []).status_code == 303
    assert [i.id for i in _product().images] == [first.id]
    assert ("photo variants not deleted from the bucket, left as orphans (6 keys): the photo bucket "
            "did not answer delete_objects: EndpointConnectionError") in caplog.text
    assert bucket.keys(gone) == variant_keys(gone, (320, 640, 700))


def test_a_refusing_bucket_is_a_form_error_too(admin, bucket, app):
    app.config["S3_BUCKET"] = "no-such-bucket-here"
    response = upload(admin, photo(900, 600))
    assert response.status_code == 503 and DOWN in text_of(response) and _product() is None


def test_bucket_stopped_media_is_a_503_and_uploads_are_refused(admin, shopper, app, aws_credentials):
    server, endpoint = start_moto()
    try:
        use_bucket(app, endpoint)
        assert upload(admin, photo(900, 600)).status_code == 303
        digest = _product().main_image.digest
        assert shopper.get(f"/media/{digest}-640.jpg").status_code == 200
    finally:
        server.stop()
    response = shopper.get(f"/media/{digest}-640.jpg")
    assert response.status_code == 503
    assert response.text == "The photo storage is not answering; try again in a moment.\n"
    assert response.headers["Retry-After"] == "30" and response.headers["Cache-Control"] == "no-store"
    again = upload(admin, photo(800, 600, colour=(0, 0, 0)), name="Autre sac")
    assert again.status_code == 503 and DOWN in text_of(again) and _product("autre-sac") is None


# --- moving a shop to the bucket ------------------------------------------------------------

def test_photos_kept_in_the_database_are_copied_to_the_bucket(bucket, app, runner, shopper, ctx):
    """The demo's photos were saved with the database storage: the command copies them, then the
    shop switched to the bucket serves them from there."""
    app.config["IMAGE_STORAGE"] = "database"
    keys = set(db.session.scalars(select(ImageBlob.key)))
    assert keys and not bucket.keys()
    result = runner.invoke(args=["copy-photos-to-bucket"])
    assert result.exit_code == 0, result.output
    assert f"{len(keys)} photo variants copied to the bucket {bucket.name}." in result.output
    assert bucket.keys() == keys
    key = sorted(keys)[0]
    assert bucket.head(key)["CacheControl"] == IMMUTABLE
    assert bucket.body(key) == db.session.get(ImageBlob, key).data
    app.config["IMAGE_STORAGE"] = "s3"
    assert shopper.get(f"/media/{key}").content == bucket.body(key)


def test_copying_to_a_bucket_that_is_down_says_how_far_it_got(bucket, app, runner):
    app.config.update(IMAGE_STORAGE="database", S3_ENDPOINT_URL=dead_endpoint())
    result = runner.invoke(args=["copy-photos-to-bucket"])
    assert result.exit_code == 1
    assert "the photo bucket did not answer put_object: EndpointConnectionError (0 of " in result.output
    assert SECRET not in result.output


# --- the client -----------------------------------------------------------------------------

def test_one_client_per_process_with_short_timeouts_and_one_retry(bucket):
    found: list[object] = []
    image_s3.forget_clients()
    threads = [threading.Thread(target=lambda: found.append(image_s3.client(bucket.endpoint, "us-east-1")))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in found}) == 1
    config = found[0].meta.config  # type: ignore[attr-defined]
    assert (config.connect_timeout, config.read_timeout) == (3, 5)
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}  # the first and one retry


def test_the_default_storage_never_imports_boto3():
    """A shop on the database storage serves pages and photos without loading boto3."""
    code = ("import sys\n"
            "from app import create_app\n"
            "app = create_app('testing')\n"
            "client = app.test_client()\n"
            "assert client.get('/').status_code == 200\n"
            "assert client.get('/media/' + '0' * 32 + '-640.jpg').status_code == 404\n"
            "print(sorted(m for m in ('boto3', 'botocore', 'media.s3') if m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "TEST_DATABASE_URL")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "COMPTOIR_ENV": "testing"}, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
