"""Issue 29: resizing a product photo is a job when the shop has a queue.

The merchant uploads photos on the dashboard (over real HTTP, to the suite's server); with a job
queue configured the request only checks each file and keeps it, and a worker resizes it: until
then the product page shows no photo and the dashboard says the photos are being prepared. An RQ
worker (``rq.SimpleWorker``, in burst mode, on the real Redis at ``TEST_REDIS_URL``) then runs
the queued jobs. Without Redis answering, the photo is resized after the response; an upload
whose job was lost is resized by the periodic pass. A real ``flask worker`` process does it in
tests/test_jobs_worker.py."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from extensions import db
from media import images
from models import ImageUpload, Product
from models.base import utcnow
from payments.reconcile import reconcile_once
from tests.admin.conftest import text_of
from tests.admin.test_product_photos import _form, _post, _product
from tests.dynos import free_port
from tests.helpers import REDIS_URL, forget_redis_keys, redis_or_skip
from tests.media.test_images import photo


@pytest.fixture
def redis_queue(app):
    """A queue of this test's own on the real Redis (skipped without one); removed at the end."""
    from rq import Queue

    client = redis_or_skip()
    name = f"comptoir-test-{uuid.uuid4().hex[:10]}"
    app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=name)
    yield Queue(name, connection=client)
    forget_redis_keys(client, name)
    client.close()


def run_jobs(queue) -> None:
    """What the Procfile's worker does with the queue, in this process: every job, then stop."""
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _wait(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)
        db.session.rollback()


def test_with_a_queue_the_worker_resizes_the_photos(admin, shopper, redis_queue):
    files = [("images", ("a.jpg", photo(1600, 1200), "image/jpeg")),
             ("images", ("b.png", photo(800, 800, "PNG", colour=(0, 80, 160)), "image/png"))]
    response = _post(admin, "/admin/products/new", _form(), files)
    assert response.status_code == 303, text_of(response)[:500]

    product = _product()
    assert product.images == [] and len(product.uploads) == 2  # kept, not resized by the web process
    assert sorted(job.func_name for job in redis_queue.get_jobs()) == ["core.jobs.perform"] * 2
    assert sorted(job.args for job in redis_queue.get_jobs()) == [
        ("media.images.prepare", u.id) for u in product.uploads]
    form = text_of(admin.get(f"/admin/products/{product.id}"))
    assert "2 photos are being prepared" in form
    assert "<picture>" not in shopper.get("/products/sac-en-raphia").text

    run_jobs(redis_queue)

    product = _product()
    assert product.uploads == []
    assert [(i.is_main, i.widths) for i in product.images] == [(True, "320,640,1280"), (False, "320,640,800")]
    page = shopper.get("/products/sac-en-raphia").text
    assert page.count("<picture>") == 2 and all(i.digest in page for i in product.images)
    key = images.variant_key(product.main_image.digest, 640, "webp")
    served = shopper.get(f"/media/{key}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
    assert "being prepared" not in text_of(admin.get(f"/admin/products/{product.id}"))


def test_a_job_run_twice_attaches_the_photo_once(admin, redis_queue, ctx):
    _post(admin, "/admin/products/new", _form(), [("images", ("a.jpg", photo(700, 500), "image/jpeg"))])
    upload_id = _product().uploads[0].id
    run_jobs(redis_queue)
    assert images.prepare(upload_id) == 0  # a second delivery of the same job does nothing
    assert len(_product().images) == 1


def test_a_bad_file_is_still_refused_on_the_form(admin, redis_queue):
    response = _post(admin, "/admin/products/new", _form(), [("images", ("fake.png", b"GIF89a no", "image/png"))])
    assert response.status_code == 400
    assert "The image must be a PNG, JPEG or WebP file." in text_of(response)
    assert _product() is None
    assert redis_queue.count == 0 and db.session.scalars(select(ImageUpload)).all() == []


def test_photos_waiting_count_towards_the_eight(admin, redis_queue):
    files = [("images", (f"{n}.jpg", photo(400, 300, colour=(n, 0, 0)), "image/jpeg")) for n in range(8)]
    assert _post(admin, "/admin/products/new", _form(), files).status_code == 303
    product = _product()
    data = _form(slug=product.slug, stock_seen="12")
    response = _post(admin, f"/admin/products/{product.id}", data, [("images", ("9.jpg", photo(400, 300), "image/jpeg"))])
    assert response.status_code == 400 and "A product has at most 8 pictures" in text_of(response)


def test_with_redis_away_the_photo_is_resized_after_the_response(admin, app, caplog):
    app.config.update(JOBS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/5", JOBS_REDIS_TIMEOUT_SECONDS=0.5)
    with caplog.at_level(logging.WARNING):
        response = _post(admin, "/admin/products/new", _form(), [("images", ("a.jpg", photo(900, 600), "image/jpeg"))])
    assert response.status_code == 303
    _wait(lambda: (p := _product()) is not None and len(p.images) == 1)
    assert _product().uploads == [] and _product().main_image.widths == "320,640,900"
    assert "job queue unreachable (ConnectionError): media.images.prepare is done without it" in caplog.text


def test_the_periodic_pass_resizes_an_upload_whose_job_was_lost(ctx, caplog):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    before = len(product.images)
    lost = ImageUpload(product=product, data=photo(700, 500, colour=(9, 9, 9)),
                       created_at=utcnow() - timedelta(minutes=5))
    fresh = ImageUpload(product=product, data=photo(700, 500, colour=(8, 8, 8)))  # its job may still come
    hopeless = ImageUpload(product=product, data=photo(700, 500), attempts=images.PREPARE_ATTEMPTS,
                           created_at=utcnow() - timedelta(minutes=5))
    db.session.add_all([lost, fresh, hopeless])
    db.session.commit()
    fresh_id = fresh.id

    with caplog.at_level(logging.WARNING):
        report = reconcile_once()

    assert report.photos_prepared == 1 and "prepared 1 photo(s) whose job was lost" in report.summary()
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    assert len(product.images) == before + 1
    assert [u.id for u in product.uploads] == [fresh_id]
    assert f"dropped after {images.PREPARE_ATTEMPTS} attempts" in caplog.text


def test_a_failing_storage_counts_the_attempt_and_keeps_the_upload(ctx, app, monkeypatch):
    from media.storage import StorageUnavailable

    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    upload = ImageUpload(product=product, data=photo(700, 500))
    db.session.add(upload)
    db.session.commit()
    upload_id = upload.id

    def away(self, variants):
        raise StorageUnavailable("put: the bucket does not answer")

    monkeypatch.setattr(images.DatabaseStorage, "put", away)
    with pytest.raises(StorageUnavailable):
        images.prepare(upload_id)
    db.session.expire_all()
    assert db.session.get(ImageUpload, upload_id).attempts == 1  # RQ retries it, then the periodic pass
    monkeypatch.undo()
    assert images.prepare(upload_id) == 1
