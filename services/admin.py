"""The merchant's accounts and actions on orders: every action is logged with its author.

Actions change state with conditional UPDATEs (a second click, or a gateway
update in between, changes nothing) and write a ``PaymentEvent`` carrying the
order, the admin's e-mail as ``actor`` and what was done, in the same transaction.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db
from models import AdminSession, AdminUser, Order, Payment, PaymentEvent, utcnow
from services import orders as order_service
from services import states
from services.attention import describe, reference_in
from services.payments import refresh_status
from services.states import OrderStatus

log = logging.getLogger(__name__)

PASSWORD_MIN_LENGTH = 10
#: Checked against when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone")


class AdminError(ValueError):
    """An action that cannot be done; the message is for the merchant."""


# accounts

def normalise_email(email: str) -> str:
    """E-mails are compared in lower case, without surrounding spaces."""
    return email.strip().lower()


def save_admin(email: str, password: str) -> tuple[AdminUser, bool]:
    """Create the admin ``email``, or set its password; returns (admin, created)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AdminError("Give an e-mail address.")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AdminError(f"The password must have at least {PASSWORD_MIN_LENGTH} characters.")
    admin = find_admin(email)
    created = admin is None
    if created:
        admin = AdminUser(email=email, active=True, password_hash="")
        db.session.add(admin)
    admin.password_hash = generate_password_hash(password)
    if not created:
        revoke_sessions(admin)  # a new password ends every session opened with the old one
    db.session.commit()
    return admin, created


def find_admin(email: str) -> AdminUser | None:
    """The admin with this e-mail (any case)."""
    return db.session.scalar(select(AdminUser).where(AdminUser.email == normalise_email(email)))


def authenticate(email: str, password: str) -> AdminUser | None:
    """The active admin whose e-mail and password these are, or None (never saying which was wrong)."""
    admin = find_admin(email)
    if admin is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(admin.password_hash, password) or not admin.active:
        return None
    return admin


def load_admin(session_id: str) -> AdminUser | None:
    """Flask-Login's loader: ``<id>.<hash fragment>``; a changed password ends old sessions."""
    raw_id, _, fragment = session_id.partition(".")
    if not raw_id.isdigit() or len(raw_id) > 12:
        return None
    admin = db.session.get(AdminUser, int(raw_id))
    if admin is None or not admin.active or admin.get_id() != session_id:
        return None
    return admin


# dashboard sessions (server-side, so that signing out really ends them)

#: ``last_seen_at`` is written at most this often, not on every page.
_SEEN_EVERY = timedelta(seconds=60)


def _lifetimes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (timedelta(minutes=config["ADMIN_SESSION_IDLE_MINUTES"]),
            timedelta(hours=config["ADMIN_SESSION_MAX_HOURS"]))


def open_session(admin: AdminUser) -> str:
    """Record a new dashboard session for ``admin``; returns its random id (for the cookie)."""
    idle, lifetime = _lifetimes()
    now = utcnow()
    db.session.execute(delete(AdminSession).where(or_(
        AdminSession.created_at < now - lifetime, AdminSession.last_seen_at < now - idle)))
    session_id = secrets.token_urlsafe(32)
    db.session.add(AdminSession(id=session_id, admin_id=admin.id, created_at=now, last_seen_at=now))
    db.session.commit()
    return session_id


def session_is_live(session_id: object, admin: AdminUser) -> bool:
    """True while ``session_id`` is ``admin``'s, not revoked, not idle too long, not too old;
    notes that it was used (at most once a minute)."""
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 64:
        return False
    idle, lifetime = _lifetimes()
    now = utcnow()
    row = db.session.get(AdminSession, session_id)
    if (row is None or row.admin_id != admin.id or row.revoked_at is not None
            or row.created_at <= now - lifetime or row.last_seen_at <= now - idle):
        return False
    if now - row.last_seen_at >= _SEEN_EVERY:
        _seen(session_id, now)
    return True


def _seen(session_id: str, now: datetime) -> None:
    db.session.execute(update(AdminSession).where(AdminSession.id == session_id)
                       .values(last_seen_at=now).execution_options(synchronize_session=False))
    db.session.commit()


def revoke_session(session_id: object) -> None:
    """End one dashboard session (signing out): its cookie, even copied, no longer signs anyone in."""
    if isinstance(session_id, str) and session_id:
        db.session.execute(update(AdminSession).where(AdminSession.id == session_id,
                                                      AdminSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()


def revoke_sessions(admin: AdminUser) -> None:
    """End every open session of ``admin`` (caller commits)."""
    db.session.execute(update(AdminSession).where(AdminSession.admin_id == admin.id,
                                                  AdminSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


# logging what the merchant does

def record(order: Order, actor: str, note: str, *, kind: str = "manual",
           payment: Payment | None = None, status_after: str | None = None) -> PaymentEvent:
    """Add a merchant action or note to the order's log (caller commits)."""
    event = PaymentEvent(
        order_id=order.id, payment_id=payment.id if payment else None, actor=actor,
        gateway=payment.gateway if payment else "", kind=kind, note=note[:300],
        status_after=status_after or (payment.status if payment else order.status),
    )
    db.session.add(event)
    return event


def add_note(order: Order, actor: str, text: str) -> None:
    """A free note on the order, kept in its log."""
    text = text.strip()
    if not text:
        raise AdminError("Write the note first.")
    record(order, actor, text, kind="note")
    db.session.commit()


# actions on orders

def recheck(order: Order, payment: Payment, actor: str) -> str:
    """Ask the gateway now about ``payment`` and apply its answer; returns what happened."""
    if payment.order_id != order.id:
        raise AdminError("This payment is not part of this order.")
    if not payment.gateway_ref:
        raise AdminError("This attempt never reached the gateway: there is nothing to ask it.")
    before = payment.status
    report = refresh_status(payment, force=True, kind="status-check", note=f"re-check asked by {actor}")
    db.session.refresh(payment)
    if report is None:
        outcome = "the gateway could not be asked (see the log)"
    else:
        outcome = f"gateway says {report.status}; payment {before} → {payment.status}"
    record(order, actor, f"re-checked {payment.reference} with the gateway: {outcome}", payment=payment)
    db.session.commit()
    return outcome


def cancel(order: Order, actor: str) -> None:
    """Cancel a pending order and release its stock; open attempts are asked first,
    so an order that was in fact paid is not cancelled."""
    if order.status != OrderStatus.PENDING:
        raise AdminError(f"Only a pending order can be cancelled; this one is {order.status}.")
    for payment in [p for p in order.payments if p.status in Payment.ACTIVE and p.gateway_ref]:
        refresh_status(payment, force=True, kind="status-check", note=f"before cancel by {actor}")
    db.session.refresh(order)
    if not order_service.cancel_order(order, actor=actor):
        db.session.refresh(order)
        raise AdminError(f"The order was not cancelled: it is now {order.status}.")


def mark_refunded(order: Order, actor: str, note: str = "") -> None:
    """Record that a paid order was refunded (the money goes back at the gateway)."""
    why = "marked refunded" + (f": {note.strip()}" if note.strip() else "")
    if order.fulfilment_status in states.FULFILMENT_GONE:
        raise AdminError("This order's goods have left the shop (shipped, ready for pickup or handed over): "
                         "refunding it is not offered here. If you refund at the gateway anyway, add a note here.")
    if not states.transition(order, OrderStatus.REFUNDED, actor=actor, why=why,
                             when=[Order.fulfilment_status.not_in(states.FULFILMENT_GONE)]):
        db.session.rollback()
        raise AdminError(f"Only a paid order can be marked refunded; this one is {order.status}.")
    db.session.commit()
    db.session.refresh(order)


def acknowledge(payment: Payment, actor: str, note: str = "") -> None:
    """Clear a payment's attention flag, keeping why it was raised and who cleared it."""
    reason = describe(payment)
    result = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.attention_kind.is_not(None))
        .values(attention_kind=None, attention=None, attention_amount=None, attention_expected=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AdminError("This payment no longer needs attention.")
    text = f"acknowledged “{reason}”" + (f": {note.strip()}" if note.strip() else "")
    record(payment.order, actor, text, payment=payment)
    db.session.commit()
    db.session.refresh(payment)


def review_callback(event: PaymentEvent, actor: str, note: str = "") -> None:
    """Mark a rejected callback as looked at, so it leaves the attention list."""
    result = db.session.execute(
        update(PaymentEvent).where(PaymentEvent.id == event.id, PaymentEvent.reviewed_at.is_(None))
        .values(reviewed_by=actor, reviewed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AdminError("This callback was already reviewed.")
    order = linked_order(event)
    if order is not None:
        record(order, actor, f"reviewed rejected callback #{event.id}" + (f": {note.strip()}" if note.strip() else ""))
    db.session.commit()


def linked_order(event: PaymentEvent) -> Order | None:
    """The order a logged callback is about: its payment's, or one named in its body."""
    if event.payment is not None:
        return event.payment.order
    reference = reference_in(event)
    if reference is None:
        return None
    payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
    return payment.order if payment is not None else None

