"""SMS in both directions: the REST-created message's lifecycle and inbound webhooks.

Outbound: ``queued`` (in the REST reply, no callback) → ``sending`` → ``sent`` →
``delivered`` / ``undelivered``, or ``failed`` instead of ``sent``, per the recipient
handset's behaviour; status callbacks are signed form POSTs (twilio-protocol.md §2).
Inbound: a handset posts the number's SMS webhook; a TwiML ``<Message>`` reply becomes an
``outbound-reply`` message delivered back to it. STOP-family keywords block the pair (§3).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .wire import API_VERSION, RestError, is_e164, new_sid, now, rfc2822, segments

if TYPE_CHECKING:
    from .core import Emulator

log = logging.getLogger("kanavat.emulator.sms")

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN = {"START", "YES", "UNSTOP"}
HELP = {"HELP", "INFO"}
KEYWORD_REPLIES = {  # Twilio's default auto-replies, sent only with settings.keyword_replies
    "STOP": "You have successfully been unsubscribed. You will not receive any more messages "
    "from this number. Reply START to resubscribe.",
    "START": "You have successfully been re-subscribed to messages from this number. "
    "Reply HELP for help. Reply STOP to unsubscribe.",
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}
DEFAULT_ERRORS = {"undelivered": 30003, "failed": 30008}  # unreachable handset, unknown error
GEO = {"FromCity": "", "FromState": "", "FromZip": "", "FromCountry": "FI"}


@dataclass
class MessageRecord:
    sid: str
    from_: str
    to: str
    body: str
    direction: str
    status: str
    status_callback: str | None = None
    error_code: int | None = None
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    date_sent: datetime | None = None

    def to_json(self, account_sid: str) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "messaging_service_sid": None,
            "from": self.from_,
            "to": self.to,
            "body": self.body,
            "status": self.status,
            "direction": self.direction,
            "num_segments": str(segments(self.body)[0]),
            "num_media": "0",
            "error_code": self.error_code,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "date_sent": rfc2822(self.date_sent),
            "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json"},
        }


@dataclass(frozen=True)
class InboundResult:
    """What happened to a message a handset sent: the server's HTTP status and replies."""

    sid: str
    status: int
    replies: tuple[MessageRecord, ...]


def keyword(body: str) -> str | None:
    """Twilio's keyword group for a single-word body, else None ("STOP PLEASE" is none)."""
    word = body.strip().upper()
    if word in OPT_OUT:
        return "STOP"
    if word in OPT_IN:
        return "START"
    if word in HELP:
        return "HELP"
    return None


def create_outbound(
    emu: Emulator,
    to: str,
    from_: str,
    body: str,
    status_callback: str | None = None,
    direction: str = "outbound-api",
) -> MessageRecord:
    """Validate and queue one message (raises ``RestError`` like the REST API would)."""
    if not to:
        raise RestError(400, 21604, "A 'To' phone number is required.")
    if not is_e164(to):
        raise RestError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not from_:
        raise RestError(400, 21603, "A 'From' phone number is required.")
    if not body:
        raise RestError(400, 21602, "Message body is required.")
    if len(body) > 1600:
        raise RestError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    blocked = (to, from_) in emu.blocked
    if blocked and emu.settings.opt_out_mode == "sync":
        raise RestError(400, 21610, "Attempt to send to unsubscribed recipient")
    msg = MessageRecord(new_sid("SM"), from_, to, body, direction, "queued", status_callback)
    emu.messages[msg.sid] = msg
    emu.handset(to)
    emu.spawn(_lifecycle(emu, msg, 21610 if blocked else None), name=f"sms-{msg.sid}")
    log.info("sms.queued sid=%s direction=%s", msg.sid, direction)
    return msg


async def _lifecycle(emu: Emulator, msg: MessageRecord, blocked_code: int | None) -> None:
    behaviour = emu.behaviour(msg.to)
    step = emu.settings.sms_step_seconds
    await emu.sleep(step)
    _set(msg, "sending")
    await emu.sleep(step)
    if blocked_code or behaviour.sms_outcome == "failed":
        code = blocked_code or behaviour.sms_error_code or DEFAULT_ERRORS["failed"]
        await _transition(emu, msg, "failed", code)
        return
    msg.date_sent = now()
    await _transition(emu, msg, "sent")
    await emu.sleep(step)
    if behaviour.sms_outcome == "undelivered":
        code = behaviour.sms_error_code or DEFAULT_ERRORS["undelivered"]
        await _transition(emu, msg, "undelivered", code)
        return
    emu.handset(msg.to).receive(msg)
    await _transition(emu, msg, "delivered")


def _set(msg: MessageRecord, status: str, error_code: int | None = None) -> None:
    msg.status = status
    msg.error_code = error_code
    msg.date_updated = now()


async def _transition(
    emu: Emulator, msg: MessageRecord, status: str, code: int | None = None
) -> None:
    _set(msg, status, code)
    log.info("sms.status sid=%s status=%s error=%s", msg.sid, status, code)
    if not msg.status_callback or not emu.settings.status_callbacks:
        return
    params = [
        ("AccountSid", emu.settings.account_sid),
        ("ApiVersion", API_VERSION),
        ("From", msg.from_),
        ("MessageSid", msg.sid),
        ("MessageStatus", status),
        ("SmsSid", msg.sid),
        ("SmsStatus", status),
        ("To", msg.to),
    ]
    if code is not None:
        params.append(("ErrorCode", str(code)))
    if status in ("delivered", "undelivered"):
        params.append(("RawDlrDoneDate", now().strftime("%y%m%d%H%M")))
    reply = await emu.post_form(msg.status_callback, params)
    log.info("sms.callback sid=%s status=%s http=%s", msg.sid, status, reply.status)


def inbound_params(emu: Emulator, msg: MessageRecord, kind: str | None) -> list[tuple[str, str]]:
    """The form Twilio posts for an inbound SMS (field set from real captures, §2)."""
    params = [
        ("ToCountry", "FI"),
        ("ToState", ""),
        ("SmsMessageSid", msg.sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", msg.sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", msg.body),
        ("FromCountry", "FI"),
        ("To", msg.to),
        ("ToZip", ""),
        ("NumSegments", str(segments(msg.body)[0])),
        ("ReferralNumMedia", "0"),
        ("MessageSid", msg.sid),
        ("AccountSid", emu.settings.account_sid),
        ("From", msg.from_),
        ("ApiVersion", API_VERSION),
    ]
    if kind and emu.settings.advanced_opt_out:
        params.append(("OptOutType", kind))
    return params


def receive_inbound(
    emu: Emulator, resident: str, body: str, to: str
) -> tuple[MessageRecord, str | None]:
    """Record an inbound message and apply keyword handling; returns it and its keyword."""
    msg = MessageRecord(new_sid("SM"), resident, to, body, "inbound", "received")
    emu.messages[msg.sid] = msg
    kind = keyword(body)
    pair = (resident, to)
    if kind == "STOP":
        emu.blocked.add(pair)
    elif kind == "START":
        emu.blocked.discard(pair)
    if kind:
        group = {"STOP": "opt-out", "START": "opt-in", "HELP": "help"}[kind]
        log.info("sms.keyword sid=%s group=%s", msg.sid, group)
        # An opted-out resident gets no HELP reply (§3).
        if emu.settings.keyword_replies and not (kind == "HELP" and pair in emu.blocked):
            reply = MessageRecord(
                new_sid("SM"), to, resident, KEYWORD_REPLIES[kind], "outbound-reply", "delivered"
            )
            emu.messages[reply.sid] = reply
            emu.handset(resident).receive(reply)
    return msg, kind


def replies_from_twiml(emu: Emulator, msg: MessageRecord, text: str) -> list[MessageRecord]:
    """Queue each ``<Message>`` of a messaging TwiML reply as an ``outbound-reply``."""
    if not text.strip():
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        log.warning("sms.reply-not-twiml sid=%s", msg.sid)
        return []
    replies = []
    for el in root.iter("Message"):
        body_el = el.find("Body")
        body = (body_el.text if body_el is not None else el.text) or ""
        if not body.strip():
            continue
        to = el.get("to") or msg.from_
        from_ = el.get("from") or msg.to
        try:
            replies.append(
                create_outbound(emu, to, from_, body, el.get("action"), "outbound-reply")
            )
        except RestError as exc:
            log.warning("sms.reply-refused sid=%s code=%s", msg.sid, exc.code)
    return replies
