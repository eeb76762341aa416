"""Customer texts through an outbox: each is sent once, in the background.

``enqueue`` writes the text in the same transaction as the change it announces, and only the
transaction that won that change gets there (``orders.states`` effects), so a callback racing
the return page still writes one "paid" text; a unique ``dedupe_key`` (kind and order, or the
refund) refuses a second. ``deliver`` then sends what is due with the e-mails'
mechanics (``core.outbox``): a conditional UPDATE claims each text, so two senders never send
the same one; a failure goes back to pending with a growing delay (at most MAX_ATTEMPTS tries), a
number the provider will never reach is marked failed at once. New texts go out after the
response that wrote them (``deliver_after_response``), or with the next ``flask reconcile``.

Nothing is written unless SMS_PROVIDER names a provider that is set up: ``log`` (development),
or ``africastalking`` with AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY (or, with the
simulator mounted, the simulator's own). Numbers are the checkout's E.164.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core import jobs, outbox
from core.money import format_money
from core.urls import external_url
from extensions import db
from models import Order, OutboxSms, PaymentEvent, shop_identity, utcnow
from notifications import africastalking, devlog
from notifications.errors import SmsError, SmsRejected

log = logging.getLogger(__name__)
KINDS = ("received", "paid", "shipped", "ready_for_pickup", "delivered", "picked_up", "refunded")
PROVIDERS = ("log", "africastalking")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
NO_BREAK_SPACES = re.compile("[\u00a0\u202f\u2007]")
MAX_ATTEMPTS = 8
CLAIM_MINUTES = 10


def settings() -> africastalking.Settings | None:
    """Africa's Talking's settings: the configured account, else the simulator's (when it is
    mounted), else None."""
    config = current_app.config
    username, api_key = config.get("AFRICASTALKING_USERNAME") or "", config.get("AFRICASTALKING_API_KEY") or ""
    base_url = config.get("AFRICASTALKING_BASE_URL") or africastalking.LIVE_BASE_URL
    simulated = config.get("SIMULATED_SMS")
    if not (username and api_key) and simulated:
        username, api_key = simulated["username"], simulated["api_key"]
        base_url = (config.get("PUBLIC_BASE_URL") or "").rstrip("/") + simulated["path"]
    if not (username and api_key):
        return None
    return africastalking.Settings(username, api_key, config.get("SMS_SENDER_ID") or "", base_url,
                                   float(config.get("SMS_TIMEOUT_SECONDS") or 10))


def provider() -> str:
    """The provider texts go through now, or "" when SMS is off."""
    name = current_app.config.get("SMS_PROVIDER") or ""
    if name == "log" or (name == "africastalking" and settings() is not None):
        return name
    return ""


def body(order: Order, kind: str, **extra: Any) -> str:
    """The text for ``kind`` in the current language (short: one or two SMS)."""
    shop = shop_identity(current_app.config).name
    values = {"shop": shop, "reference": order.reference,
              "amount": format_money(order.total, order.currency),
              "url": external_url("checkout.order", token=order.token)}
    if kind == "received":
        return _("%(shop)s: we have your order %(reference)s (%(amount)s). Follow it here: %(url)s", **values)
    if kind == "paid":
        return _("%(shop)s: payment of %(amount)s received for order %(reference)s. Thank you!", **values)
    if kind == "shipped":
        return _("%(shop)s: your order %(reference)s is on its way to you. %(url)s", **values)
    if kind == "ready_for_pickup":
        return _("%(shop)s: your order %(reference)s is ready for pickup at %(place)s. %(url)s",
                 place=order.delivery_label, **values)
    if kind == "delivered":
        return _("%(shop)s: your order %(reference)s has been delivered. Thank you!", **values)
    if kind == "picked_up":
        return _("%(shop)s: you have collected your order %(reference)s. Thank you!", **values)
    refund = extra["refund"]
    values["amount"] = format_money(refund.amount, order.currency)
    return _("%(shop)s: we have refunded %(amount)s on your order %(reference)s. %(url)s", **values)


def enqueue(order: Order, kind: str, *, key: str | None = None, **extra: Any) -> OutboxSms | None:
    """Write one text for ``order`` in the current transaction (the caller commits); None when
    SMS is off, the order has no usable number, or this text was written already."""
    if kind not in KINDS or not provider():
        return None
    number = order.customer_phone or ""
    if not E164.fullmatch(number):
        log.warning("order %s: no SMS, the phone number is not E.164", order.reference)
        return None
    key = key or f"{kind}:{order.id}"
    if db.session.scalar(select(OutboxSms.id).where(OutboxSms.dedupe_key == key)) is not None:
        return None
    language = order.language or current_app.config.get("DEFAULT_LOCALE", "fr")
    with force_locale(language):
        # Babel's (narrow) no-break spaces are not in the GSM alphabet: one would make the text
        # UCS-2, 70 characters a part instead of 160.
        text = NO_BREAK_SPACES.sub(" ", str(body(order, kind, **extra)))[:480]
    sms = OutboxSms(order_id=order.id, kind=kind, dedupe_key=key, to_number=number, language=language,
                    body=text)
    db.session.add(sms)
    g.setdefault("sms_written", True)
    return sms


def due(now=None, limit: int = 50) -> list[int]:
    """Ids of texts to send now: pending and due, or claimed too long ago by a sender that died."""
    return outbox.due(OutboxSms, now or utcnow(), CLAIM_MINUTES, limit)


def deliver(now=None) -> int:
    """Send every due text this process can claim; return how many were sent."""
    if not provider():
        return 0
    sent = 0
    for sms_id in due(now):
        if _claim(sms_id, now or utcnow()):
            sent += _send(db.session.get(OutboxSms, sms_id))
    return sent


def _claim(sms_id: int, now) -> bool:
    return outbox.claim(OutboxSms, sms_id, now, CLAIM_MINUTES)


def transport(to: str, message: str) -> str:
    """Hand one text to the configured provider; its message id."""
    if provider() == "log":
        return devlog.send(to, message)
    found = settings()
    if found is None:
        raise SmsError("SMS provider not configured")
    return africastalking.send(found, to, message)


def _send(sms: OutboxSms) -> int:
    try:
        sms.provider_ref = transport(sms.to_number, sms.body)
    except SmsError as exc:
        sms.last_error = str(exc)[:300]
        if isinstance(exc, SmsRejected) or sms.attempts >= MAX_ATTEMPTS:
            sms.status = "failed"
        else:
            sms.status = "pending"
            sms.next_attempt_at = outbox.retry_at(sms.attempts, utcnow())
        _note(sms, f"{sms.kind} SMS not sent (attempt {sms.attempts}"
                   f"{', given up' if sms.status == 'failed' else ''}): {sms.last_error}")
        db.session.commit()
        log.warning("SMS %s for order %s not sent (attempt %s): %s", sms.kind, sms.order_id,
                    sms.attempts, sms.last_error)
        return 0
    sms.status, sms.sent_at, sms.last_error = "sent", utcnow(), None
    _note(sms, f"{sms.kind} SMS sent to {sms.to_number} ({sms.language})")
    db.session.commit()
    return 1


def _note(sms: OutboxSms, text: str) -> None:
    if sms.order_id is not None:
        db.session.add(PaymentEvent(order_id=sms.order_id, gateway="", kind="sms", note=text[:300]))


def deliver_after_response(response):
    """After a request that wrote texts: with a job queue, one drain job for a worker; without
    one (or with Redis away), send them here once the response has gone out."""
    if not g.get("sms_written") or not current_app.config.get("SMS_SEND_AFTER_RESPONSE", True):
        return response
    if current_app.config.get("JOBS_REDIS_URL") and jobs.enqueue("core.jobs.drain", "sms",
                                                                   description="send due texts"):
        return response
    return jobs.after_response(response, deliver, "sending texts")
