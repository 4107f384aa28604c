"""Twilio voice webhooks: the call's TwiML, its status callbacks, and the Media Streams socket.

Every call, human or machine, known or unknown, is answered with ``<Connect><Stream>``: the
whole dialog (and the short messages to a machine or an unknown caller) runs over the
bidirectional stream, so prompts always come from the same recorded audio. The stream's
custom parameters identify the attempt and carry an HMAC, so nobody can open a stream for
someone else's call. After the socket closes the TwiML's ``<Hangup/>`` ends the call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from aiohttp import web
from twilio.twiml.voice_response import Connect, VoiceResponse

from kanavat import outcomes
from kanavat.appkeys import AUTH_TOKEN, CONFIG, STORE
from kanavat.contacts import InvalidPhone, normalise_phone
from kanavat.store import Store
from kanavat.webhooks import websocket_base

log = logging.getLogger("kanavat.voice")
routes = web.RouteTableDef()

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other"}
STATUS_RANK = {
    "sending": 0,
    "queued": 1,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    "completed": 5,
    "busy": 5,
    "no-answer": 5,
    "failed": 5,
    "canceled": 5,
}
NOT_REACHED = {"busy", "no-answer", "failed", "canceled"}


def stream_token(secret: str, *values: object) -> str:
    message = "\x00".join(str(v) for v in values).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def stream_url(public_url: str) -> str:
    return websocket_base(public_url) + "/twilio/voice/stream"


def _form(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise web.HTTPBadRequest(text=f"missing field {name}")
    return value


@routes.post("/twilio/voice")
async def answer(request: web.Request) -> web.Response:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    call_sid = _form(fields, "CallSid")
    if not CALL_SID.match(call_sid):
        raise web.HTTPBadRequest(text="CallSid is not a call sid")
    store = request.app[STORE]
    store.record_event(
        "voice",
        "twiml",
        None,
        {
            "CallSid": call_sid,
            "Direction": fields.get("Direction"),
            "AnsweredBy": fields.get("AnsweredBy"),
        },
    )
    direction = fields.get("Direction", "inbound")
    if direction.startswith("outbound"):
        params = _outbound(store, request.query.get("attempt", ""), call_sid, fields)
    else:
        params = _inbound(request.app, call_sid, fields)
    params["token"] = stream_token(
        request.app[AUTH_TOKEN], call_sid, params["mode"], params.get("attempt", "")
    )
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url(request.app[CONFIG].server.public_url))
    for name, value in params.items():
        stream.parameter(name=name, value=str(value))
    response.append(connect)
    response.hangup()
    log.info(
        "voice.twiml call=%s mode=%s attempt=%s", call_sid, params["mode"], params.get("attempt")
    )
    return web.Response(text=str(response), content_type="text/xml")


def _outbound(store: Store, attempt: str, call_sid: str, fields: dict[str, str]) -> dict[str, str]:
    row = (
        store.one(
            "SELECT id, provider_sid FROM attempts WHERE id = ? AND channel = 'voice'", [attempt]
        )
        if attempt.isdigit()
        else None
    )
    if row is None or row["provider_sid"] not in (None, call_sid):
        log.warning("voice.twiml.unknown_attempt call=%s", call_sid)
        return {"mode": "unknown"}
    answered_by = fields.get("AnsweredBy", "")
    store.execute(
        "UPDATE attempts SET provider_sid = ?, answered_by = coalesce(?, answered_by), "
        "updated_at = ? WHERE id = ?",
        [call_sid, answered_by or None, store.now(), row["id"]],
    )
    if answered_by in MACHINE or answered_by == "fax":
        return {"mode": "fax" if answered_by == "fax" else "machine", "attempt": str(row["id"])}
    return {"mode": "survey", "attempt": str(row["id"])}


def _inbound(app: web.Application, call_sid: str, fields: dict[str, str]) -> dict[str, str]:
    """A call-back: find the caller's open campaign, or greet an unknown caller politely."""
    store, config = app[STORE], app[CONFIG]
    try:
        phone = normalise_phone(fields.get("From", ""), None)
    except InvalidPhone:
        return {"mode": "unknown"}
    contact = store.one("SELECT id FROM contacts WHERE phone = ?", [phone])
    if contact is None or store.is_opted_out(phone):
        return {"mode": "unknown"}
    voice_campaigns = [cid for cid, c in config.campaigns.items() if "voice" in c.channels]
    if not voice_campaigns:
        return {"mode": "unknown"}
    marks = ",".join("?" * len(voice_campaigns))
    row = store.one(
        f"SELECT cc.campaign_id FROM campaign_contacts cc JOIN campaigns k ON k.id = cc.campaign_id "
        f"WHERE cc.contact_id = ? AND cc.campaign_id IN ({marks}) AND k.status IN ('running', 'paused') "
        "AND cc.disposition IN ('pending', 'partial') ORDER BY cc.updated_at DESC LIMIT 1",
        [contact["id"], *voice_campaigns],
    )
    if row is None:
        return {"mode": "unknown"}
    now = store.now()
    cur = store.execute(
        "INSERT INTO attempts(campaign_id, contact_id, channel, provider_sid, status, created_at, updated_at) "
        "VALUES (?, ?, 'voice', ?, 'in-progress', ?, ?) ON CONFLICT(provider_sid) DO NOTHING",
        [row["campaign_id"], contact["id"], call_sid, now, now],
    )
    attempt = (
        cur.lastrowid
        if cur.rowcount
        else store.one("SELECT id FROM attempts WHERE provider_sid = ?", [call_sid])["id"]
    )  # type: ignore[index]
    return {"mode": "survey", "attempt": str(attempt)}


@routes.post("/twilio/voice/status")
async def status(request: web.Request) -> web.Response:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    call_sid = _form(fields, "CallSid")
    call_status = _form(fields, "CallStatus")
    store = request.app[STORE]
    seq = fields.get("SequenceNumber", call_status)
    if store.record_event("voice", "status", f"{call_sid}:{seq}:{call_status}", fields) is None:
        return web.Response(text="duplicate")
    row = store.one(
        "SELECT id, status, campaign_id, contact_id, answered_by FROM attempts "
        "WHERE provider_sid = ?",
        [call_sid],
    )
    if row is None:
        return web.Response(text="ignored: unknown call")
    if STATUS_RANK.get(call_status, 0) >= STATUS_RANK.get(row["status"], 0):
        store.execute(
            "UPDATE attempts SET status = ?, answered_by = coalesce(?, answered_by), "
            "updated_at = ? WHERE id = ?",
            [call_status, fields.get("AnsweredBy") or None, store.now(), row["id"]],
        )
    answered_by = fields.get("AnsweredBy") or row["answered_by"] or ""
    if call_status in NOT_REACHED:
        outcomes.retry_or_give_up(
            store, request.app[CONFIG], row["campaign_id"], row["contact_id"], call_status
        )
    elif call_status == "completed" and (answered_by in MACHINE or answered_by == "fax"):
        outcomes.retry_or_give_up(
            store, request.app[CONFIG], row["campaign_id"], row["contact_id"], "machine"
        )
    log.info("voice.status call=%s status=%s", call_sid, call_status)
    return web.Response(text="ok")
