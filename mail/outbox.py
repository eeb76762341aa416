"""Customer e-mails through an outbox: each is sent exactly once.

``enqueue`` writes the e-mail in the same transaction as the change it
announces (an order placed, paid, a payment failed), and only the transaction
that won that change gets there, so callbacks, the return page and
reconciliation racing each other still write one receipt (a unique
``dedupe_key`` refuses a second). ``deliver`` then sends what is due: a
conditional UPDATE claims each e-mail, so two senders never send the same one;
a failed send goes back to pending with a growing delay and is retried later by
the next request's delivery or by ``flask reconcile``. With a job queue (``core.jobs``,
Redis configured) the web process only queues one ``send_one`` job per due e-mail and a worker
sends it: a slow SMTP server then holds a worker, never a web thread, and an e-mail whose
server keeps refusing is retried by the queue with its backoff, then listed as a failed job in
the dashboard with a retry button. The table stays the source of truth: a job lost with Redis
is sent by the next periodic pass (``core.jobs.drain``). If a process dies between
the SMTP server accepting a message and our marking it sent, the claim expires
after MAIL_CLAIM_MINUTES and it is sent again: at least once in that one case.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core import jobs, outbox
from core.money import format_money
from core.urls import external_url
from extensions import db
from models import Order, OutboxEmail, Payment, PaymentEvent, Variant, shop_identity, utcnow

log = logging.getLogger(__name__)
KINDS = ("confirmation", "receipt", "payment_failed", "shipped", "ready_for_pickup",
         "merchant_paid", "merchant_summary", "merchant_low_stock", "refunded")
#: Sent e-mails kept in memory when MAIL_BACKEND is "memory" (tests).
MEMORY: list[EmailMessage] = []


def _subject(kind: str, order: Order) -> str:
    if kind == "confirmation":
        return _("Your order %(reference)s", reference=order.reference)
    if kind == "receipt":
        return _("Payment received for order %(reference)s", reference=order.reference)
    if kind == "shipped":
        return _("Your order %(reference)s is on its way", reference=order.reference)
    if kind == "ready_for_pickup":
        return _("Your order %(reference)s is ready for pickup", reference=order.reference)
    if kind == "refunded":
        return _("Refund for your order %(reference)s", reference=order.reference)
    if kind == "merchant_paid":
        return _("New paid order %(reference)s: %(amount)s", reference=order.reference,
                 amount=format_money(order.total, order.currency))
    return _("Your payment for order %(reference)s did not go through", reference=order.reference)


def enqueue(order: Order, kind: str, payment: Payment | None = None, *, key: str | None = None,
            **extra) -> OutboxEmail | None:
    """Write one e-mail for ``order`` in the current transaction (the caller commits).
    ``key`` replaces the default dedupe key (one per kind and order) when an order may get
    several of a kind (one refund note per refund); ``extra`` goes to the templates."""
    key = key or f"{kind}:{payment.id if kind == 'payment_failed' and payment else order.id}"
    if db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key)) is not None:
        return None
    context = {"order": order, "payment": payment,
               "order_url": external_url("checkout.order", token=order.token),
               "shop_name": shop_identity(current_app.config).name, **extra}
    with force_locale(order.language or current_app.config.get("DEFAULT_LOCALE", "fr")):
        email = OutboxEmail(
            order_id=order.id, kind=kind, dedupe_key=key, to_address=order.customer_email,
            language=order.language, subject=_subject(kind, order),
            body_text=render_template(f"email/{kind}.txt", **context),
            body_html=render_template(f"email/{kind}.html", **context),
        )
    db.session.add(email)
    g.setdefault("outbox_written", []).append(email)
    return email


def merchant_addresses() -> list[str]:
    """MERCHANT_EMAIL read as one or more addresses (commas, semicolons or spaces between)."""
    raw = current_app.config.get("MERCHANT_EMAIL") or ""
    return [a for a in raw.replace(";", ",").replace(" ", ",").split(",") if "@" in a]


def _merchant_key(kind: str, what: str, address: str) -> str:
    """One e-mail per (kind, order or day, address); the address hashed to fit the key."""
    return f"{kind}:{what}:{hashlib.sha256(address.lower().encode()).hexdigest()[:16]}"


def _write_merchant(kind: str, key: str, address: str, subject, context: dict,
                    order_id: int | None) -> OutboxEmail | None:
    if db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key)) is not None:
        return None
    language = current_app.config.get("MERCHANT_LOCALE") or current_app.config["DEFAULT_LOCALE"]
    with force_locale(language):
        email = OutboxEmail(
            order_id=order_id, kind=kind, dedupe_key=key, to_address=address, language=language,
            subject=str(subject())[:200], body_text=render_template(f"email/{kind}.txt", **context),
            body_html=render_template(f"email/{kind}.html", **context),
        )
    db.session.add(email)
    g.setdefault("outbox_written", []).append(email)
    return email


def enqueue_merchant(order: Order, kind: str = "merchant_paid") -> list[OutboxEmail]:
    """Tell every MERCHANT_EMAIL address about ``order`` (once each; caller commits)."""
    context = {"order": order, "admin_url": external_url("admin.order", reference=order.reference),
               "order_url": external_url("admin.order", reference=order.reference),
               "shop_name": shop_identity(current_app.config).name, "payment": None}
    written = [_write_merchant(kind, _merchant_key(kind, str(order.id), address), address,
                               lambda: _subject(kind, order), context, order.id)
               for address in merchant_addresses()]
    return [e for e in written if e is not None]


def enqueue_summary(day, orders: list[Order], refunds: list | None = None) -> list[OutboxEmail]:
    """The merchant's summary of what waits to be fulfilled on ``day`` (and of the refunds
    recorded the day before), once per day and address."""
    context = {"orders": orders, "day": day, "shop_name": shop_identity(current_app.config).name,
               "refunds": refunds or [],
               "queue_url": external_url("admin.to_fulfil"), "order_url": external_url("admin.to_fulfil")}
    subject = lambda: _("%(num)d order(s) to fulfil on %(day)s", num=len(orders), day=day.isoformat())  # noqa: E731
    written = [_write_merchant("merchant_summary", _merchant_key("merchant_summary", day.isoformat(), address),
                               address, subject, context, None)
               for address in merchant_addresses()]
    return [e for e in written if e is not None]


def enqueue_low_stock(variants: list) -> list[OutboxEmail]:
    """Tell every MERCHANT_EMAIL address that ``variants`` (models.Variant) fell to their low-stock
    threshold: one e-mail for them all, whatever the number of orders that took them there
    (shop.stock marks each crossing once, in the transaction that made it; the caller commits)."""
    if not variants:
        return []
    left = dict(db.session.execute(select(Variant.id, Variant.stock).where(Variant.id.in_([v.id for v in variants]))).all())
    items = [{"name": v.product.name or v.product.name_en, "variant": v.label, "stock": left.get(v.id, 0),
              "url": external_url("admin.edit_product", product_id=v.product_id)} for v in variants]
    context = {"items": items, "shop_name": shop_identity(current_app.config).name,
               "admin_url": external_url("admin.products", low="1")}
    crossing = f"{variants[0].id}.{secrets.token_hex(4)}"  # each crossing is a new e-mail
    subject = lambda: _("Low stock: %(name)s and %(num)d more", name=items[0]["name"], num=len(items) - 1) \
        if len(items) > 1 else _("Low stock: %(name)s", name=items[0]["name"])  # noqa: E731
    written = [_write_merchant("merchant_low_stock", _merchant_key("merchant_low_stock", crossing, address),
                               address, subject, context, None)
               for address in merchant_addresses()]
    return [e for e in written if e is not None]


def due(now=None, limit: int = 50) -> list[int]:
    """Ids of e-mails to send now: pending and due, or claimed too long ago by a sender that died."""
    return outbox.due(OutboxEmail, now or utcnow(), current_app.config["MAIL_CLAIM_MINUTES"], limit)


def deliver(now=None) -> int:
    """Send every due e-mail this process can claim; return how many were sent."""
    sent = 0
    for email_id in due(now):
        if _claim(email_id, now or utcnow()):
            sent += _send(db.session.get(OutboxEmail, email_id))
    return sent


class NotSent(Exception):
    """A job's e-mail was refused or the server could not be reached: the queue retries it."""


def send_one(email_id: int) -> bool:
    """Job: send one e-mail now, whatever its backoff (the queue's retries pace it). Safe to run
    twice: an e-mail already sent, or being sent by another sender, is left alone. Raises
    NotSent when it could not be sent, so the queue retries it and, out of retries, shows it."""
    if not _claim(email_id, utcnow()):
        return False
    email = db.session.get(OutboxEmail, email_id)
    if not _send(email):
        raise NotSent(f"{email.kind} e-mail #{email.id} for order {email.order_id} not sent "
                      f"(attempt {email.attempts}): {email.last_error}")
    return True


def queue(email_ids: list[int]) -> bool:
    """Queue one ``send_one`` job per e-mail; False as soon as the queue cannot take one (no
    queue, or Redis away): the caller then sends them itself."""
    return all(jobs.enqueue("mail.outbox.send_one", email_id, job_id=f"email-{email_id}",
                            description=f"send e-mail #{email_id}") for email_id in email_ids)


def _claim(email_id: int, now) -> bool:
    return outbox.claim(OutboxEmail, email_id, now, current_app.config["MAIL_CLAIM_MINUTES"])


def _send(email: OutboxEmail) -> int:
    try:
        transport(message_for(email))
    except (OSError, smtplib.SMTPException) as exc:
        email.status, email.last_error = "pending", f"{type(exc).__name__}: {exc}"[:300]
        email.next_attempt_at = outbox.retry_at(email.attempts, utcnow())  # 2, 4, 8 … minutes
        db.session.commit()
        log.warning("e-mail %s for order %s not sent (attempt %s): %s",
                    email.kind, email.order_id, email.attempts, type(exc).__name__)
        return 0
    email.status, email.sent_at, email.last_error = "sent", utcnow(), None
    if email.order_id is not None:
        db.session.add(PaymentEvent(order_id=email.order_id, gateway="", kind="email",
                                    note=f"{email.kind} e-mail sent to {email.to_address} ({email.language})"))
    db.session.commit()
    return 1


def message_for(email: OutboxEmail) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative."""
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = email.to_address
    message["Message-ID"] = make_msgid(idstring=f"comptoir-{email.dedupe_key.replace(':', '-')}")
    message.set_content(email.body_text)
    message.add_alternative(email.body_html, subtype="html")
    return message


def transport(message: EmailMessage) -> None:
    """Hand ``message`` to the configured backend: smtp, log (development) or memory (tests)."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        MEMORY.append(message)
    elif backend == "log":
        body = message.get_body(("plain",))
        log.info("e-mail (MAIL_BACKEND=log, not sent) to %s: %s\n%s", message["To"],
                 message["Subject"], body.get_content() if body is not None else "")
    else:
        _smtp(message)


def _smtp(message: EmailMessage) -> None:
    config = current_app.config
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    if config["MAIL_USE_SSL"]:
        server: smtplib.SMTP = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    with server:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            server.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            server.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        server.send_message(message)


def deliver_after_response(response):
    """After a request that wrote e-mails: with a job queue, queue them for a worker; without
    one (or with Redis away), send them here once the response has gone out."""
    if not g.get("outbox_written") or not current_app.config["MAIL_SEND_AFTER_RESPONSE"]:
        return response
    if current_app.config.get("JOBS_REDIS_URL"):
        # only this request's e-mails: the ones written before are already queued, or waiting
        # for their backoff, and the worker's periodic pass sends whatever a lost job left
        written = jobs.committed_ids(g.get("outbox_written") or [])
        if written and queue(written):
            return response
    return jobs.after_response(response, deliver, "sending e-mails")
