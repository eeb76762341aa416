"""Africa's Talking's SMS API, simulated: ``POST /_sim/africastalking/version1/messaging``.

As strict as the real one where the shop could get it wrong: the ``apiKey`` header and the
``username`` must be the simulator's (else 401, "The supplied authentication is invalid"), the
message must not be empty (400), and each ``to`` number must be E.164 (else that recipient's
status is 403 InvalidPhoneNumber). What it accepted is kept in ``STATE.texts`` (tests read it)
and listed at ``GET /_sim/africastalking/messages``. ``STATE.sms_fault`` plays "http500" or
"blacklist" (every recipient 406 UserInBlacklist).
"""
from __future__ import annotations

import re
import secrets

from flask import jsonify, request

from . import SIM_SMS, bp
from .state import STATE, SimText

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
COST = "KES 0.8000"


@bp.post("/africastalking/version1/messaging")
def africastalking_messaging():
    """Send a bulk message, answered as Africa's Talking does (201 with each recipient's status)."""
    if request.headers.get("apiKey") != SIM_SMS["api_key"] or request.form.get("username") != SIM_SMS["username"]:
        return "The supplied authentication is invalid", 401
    if STATE.sms_fault == "http500":
        return "Internal Server Error", 500
    message = request.form.get("message", "")
    numbers = [n.strip() for n in request.form.get("to", "").split(",") if n.strip()]
    if not message.strip():
        return "Must have message", 400
    if not numbers:
        return "Must have to", 400
    recipients = []
    for number in numbers:
        if not E164.fullmatch(number):
            recipients.append({"statusCode": 403, "number": number, "status": "InvalidPhoneNumber",
                               "cost": "0", "messageId": "None"})
        elif STATE.sms_fault == "blacklist":
            recipients.append({"statusCode": 406, "number": number, "status": "UserInBlacklist",
                               "cost": "0", "messageId": "None"})
        else:
            message_id = "ATXid_" + secrets.token_hex(16)
            STATE.add_text(SimText(to=number, message=message, sender=request.form.get("from", ""),
                                   message_id=message_id))
            recipients.append({"statusCode": 101, "number": number, "status": "Success", "cost": COST,
                               "messageId": message_id})
    sent = sum(1 for r in recipients if r["statusCode"] == 101)
    summary = f"Sent to {sent}/{len(recipients)} Total Cost: {COST if sent else 'KES 0'}"
    return jsonify({"SMSMessageData": {"Message": summary, "Recipients": recipients}}), 201


@bp.get("/africastalking/messages")
def africastalking_messages():
    """What the simulated SMS API accepted, newest last."""
    return jsonify([{"to": t.to, "message": t.message, "from": t.sender, "messageId": t.message_id,
                     "at": t.at.isoformat()} for t in STATE.texts_sent()])
