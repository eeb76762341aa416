"""Africa's Talking's SMS API: ``POST {base}/version1/messaging``, a form (``username``, ``to``,
``message``, ``from``) with the ``apiKey`` header, answered with each recipient's status.

Its documented answer (201)::

    {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000",
      "Recipients": [{"statusCode": 101, "number": "+254711XXXYYY", "status": "Success",
                      "cost": "KES 0.8000", "messageId": "ATPid_SampleTxnId123"}]}}

Status codes 100 (processed), 101 (sent) and 102 (queued) are accepted; 403 (invalid phone
number), 406 (user in blacklist) and 407 (could not route) will never go through and are not
retried; anything else (401 risk hold, 405 insufficient balance, 5xx) is tried again later.
The API key goes in a header only: never in an error, a log line or the outbox.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from notifications.errors import SmsError, SmsRejected

PATH = "/version1/messaging"
LIVE_BASE_URL = "https://api.africastalking.com"
SANDBOX_BASE_URL = "https://api.sandbox.africastalking.com"
ACCEPTED = {100, 101, 102}
HOPELESS = {403, 406, 407}


@dataclass(frozen=True)
class Settings:
    username: str
    api_key: str
    sender_id: str
    base_url: str
    timeout: float


def send(settings: Settings, to: str, message: str) -> str:
    """Send one text; returns the provider's message id, or raises SmsError (try again later)
    or SmsRejected (this number will never get it)."""
    data = {"username": settings.username, "to": to, "message": message}
    if settings.sender_id:
        data["from"] = settings.sender_id
    url = settings.base_url.rstrip("/") + PATH
    headers = {"apiKey": settings.api_key, "Accept": "application/json"}
    try:
        response = requests.post(url, data=data, timeout=settings.timeout, headers=headers)
    except requests.RequestException as exc:
        raise SmsError(f"Africa's Talking unreachable: {type(exc).__name__}") from None
    if response.status_code not in (200, 201):
        raise SmsError(f"Africa's Talking answered HTTP {response.status_code}: {response.text[:120]}")
    try:
        answer = response.json()["SMSMessageData"]
        recipients = answer.get("Recipients") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SmsError("Africa's Talking answered something that is not its JSON") from None
    mine = next((r for r in recipients if isinstance(r, dict) and r.get("number") == to), None)
    if mine is None:  # nobody was sent to: the batch-level message says why (InvalidSenderId, …)
        raise SmsError(f"not sent: {str(answer.get('Message', ''))[:120]}")
    try:
        code = int(str(mine.get("statusCode")))
    except (TypeError, ValueError):
        raise SmsError(f"unknown recipient status {mine.get('status')!r}") from None
    if code in ACCEPTED:
        return str(mine.get("messageId") or "")[:100]
    if code in HOPELESS:
        raise SmsRejected(f"{mine.get('status', code)} ({code})")
    raise SmsError(f"{mine.get('status', code)} ({code})")
