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

from kanavat import attempts, contacts, inbound, locks, optouts
from kanavat.appkeys import AUTH_TOKEN, CONFIG, STORE
from kanavat.attempts import NOT_REACHED, AttemptStatus
from kanavat.contacts import InvalidPhone, normalise_phone
from kanavat.loop import voicecall
from kanavat.outreach import outcomes
from kanavat.store import Store
from kanavat.webhooks import websocket_base

log = logging.getLogger("kanavat.voice")
routes = web.RouteTableDef()

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other"}


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
    payload = {k: fields.get(k) for k in ("CallSid", "Direction", "AnsweredBy")}
    recorded = inbound.record(store, "voice", "twiml", None, payload)
    direction = fields.get("Direction", "inbound")
    with store.transaction(_caller(store, call_sid, direction, request.query.get("attempt"))):
        notice = request.query.get("notice")
        if direction.startswith("outbound") and notice is not None:
            answered = fields.get("AnsweredBy", "")
            params = voicecall.twiml_params(store, notice, call_sid, answered)
        elif direction.startswith("outbound"):
            params = _outbound(store, request.query.get("attempt", ""), call_sid, fields)
        else:
            params = _inbound(request.app, call_sid, fields)
        inbound.finish(store, recorded.id, f"twiml:{params['mode']}")
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


def _caller(store: Store, call_sid: str, direction: str, attempt: str | None) -> str:
    """The name a call's answer locks: the resident the campaign called, or the call."""
    if direction.startswith("outbound") and attempt and attempt.isdigit():
        return locks.of_attempt(store, int(attempt), f"call:{call_sid}")
    return f"call:{call_sid}"


def _outbound(store: Store, attempt: str, call_sid: str, fields: dict[str, str]) -> dict[str, str]:
    row = attempts.attempt(store, int(attempt)) if attempt.isdigit() else None
    if row is None or row["channel"] != "voice" or row["provider_sid"] not in (None, call_sid):
        log.warning("voice.twiml.unknown_attempt call=%s", call_sid)
        return {"mode": "unknown"}
    answered_by = fields.get("AnsweredBy", "")
    attempts.call_answered(store, row["id"], call_sid, answered_by)
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
    contact = contacts.by_phone(store, phone)
    voice_campaigns = [cid for cid, c in config.campaigns.items() if "voice" in c.channels]
    if contact is None or optouts.is_opted_out(store, phone) or not voice_campaigns:
        return _suggestion_line(app, call_sid, phone)
    marks = ",".join("?" * len(voice_campaigns))
    row = store.one(
        f"SELECT cc.campaign_id FROM campaign_contacts cc JOIN campaigns k ON k.id = cc.campaign_id "
        f"WHERE cc.contact_id = ? AND cc.campaign_id IN ({marks}) AND k.status IN ('running', 'paused') "
        "AND cc.disposition IN ('pending', 'partial') ORDER BY cc.updated_at DESC LIMIT 1",
        [contact["id"], *voice_campaigns],
    )
    if row is None:
        return _suggestion_line(app, call_sid, phone)
    attempt = attempts.open_attempt(
        store,
        row["campaign_id"],
        contact["id"],
        "voice",
        status=AttemptStatus.IN_PROGRESS,
        provider_sid=call_sid,
    )
    return {"mode": "survey", "attempt": str(attempt)}


def _suggestion_line(app: web.Application, call_sid: str, phone: str) -> dict[str, str]:
    """A caller with no survey open may say a suggestion (``[suggestions] voice``). The
    number is kept with the call's event (as every inbound event keeps its sender), for the
    answer; the stream's parameters carry only the event's id."""
    if not app[CONFIG].suggestions.voice:
        return {"mode": "unknown"}
    recorded = inbound.record(app[STORE], "voice", "suggestion_call", call_sid, {"From": phone})
    return {"mode": "suggestion", "attempt": str(recorded.id)}


@routes.post("/twilio/voice/status")
async def status(request: web.Request) -> web.Response:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    call_sid = _form(fields, "CallSid")
    call_status = _form(fields, "CallStatus")
    store = request.app[STORE]
    seq = fields.get("SequenceNumber", call_status)
    recorded = inbound.record(store, "voice", "status", f"{call_sid}:{seq}:{call_status}", fields)
    if recorded.handled:
        return web.Response(text="duplicate")
    with store.transaction(locks.of_call(store, call_sid)):
        row = attempts.call_status(store, call_sid, call_status, fields.get("AnsweredBy"))
        machine = (fields.get("AnsweredBy") or "").startswith("machine")
        if row is None and voicecall.call_status(store, call_sid, call_status, machine):
            inbound.finish(store, recorded.id, f"notice:{call_status}")
            return web.Response(text="ok")
        inbound.finish(store, recorded.id, "ignored:unknown_call" if row is None else call_status)
        if row is None:
            return web.Response(text="ignored: unknown call")
        answered_by = fields.get("AnsweredBy") or row["answered_by"] or ""
        config = request.app[CONFIG]
        if call_status in NOT_REACHED:
            outcomes.retry_or_give_up(
                store, config, row["campaign_id"], row["contact_id"], call_status
            )
        elif call_status == "completed" and (answered_by in MACHINE or answered_by == "fax"):
            outcomes.retry_or_give_up(
                store, config, row["campaign_id"], row["contact_id"], "machine"
            )
    log.info("voice.status call=%s status=%s", call_sid, call_status)
    return web.Response(text="ok")
