"""Twilio SMS webhooks: inbound messages and delivery status callbacks.

The adapter reads the form (the signature was checked by the middleware), hands the message
to the turn (``kanavat/turn/``: event, opt-out, data requests, the conversation, replies to
the outbox, one transaction) and answers Twilio at once with empty TwiML; the sender
delivers the replies by REST after the commit, so their delivery is tracked and a slow or
odd provider never delays or fails the webhook. With ``[server] sms_replies = "twiml"`` the
answer carries the replies instead (``answer.py``). The MessageSid is the idempotency key.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from kanavat import sender as sending
from kanavat.appkeys import SENDER, TURN_BATCHES
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.privacy.data import pack
from kanavat.sms import answer, render
from kanavat.turn import text
from kanavat.turn.entry import Channel
from kanavat.turn.message import Message, Result

log = logging.getLogger("kanavat.sms")
routes = web.RouteTableDef()
SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
ROUTINE_STATUSES = frozenset({"accepted", "queued", "sending", "sent", "delivered"})
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/xml")


async def _fields(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@routes.post("/twilio/sms")
async def inbound(request: web.Request) -> web.Response:
    fields = await _fields(request)
    for name in ("MessageSid", "From"):
        if not fields.get(name):
            log.warning("sms.inbound.rejected reason=missing_field field=%s", name)
            raise web.HTTPBadRequest(text=f"missing field {name}")
    sid = fields["MessageSid"]
    if not SID.match(sid):
        raise web.HTTPBadRequest(text="MessageSid is not a message sid")
    message = Message(
        "sms",
        "inbound",
        sid,
        text=fields.get("Body", ""),
        phone=fields["From"],
        provider_opted_out=bool(fields.get("OptOutType")),
    )
    # Taken with the messages arriving with it: their events in one commit, then their
    # turns in one (``kanavat/turn/batch.py``); answered after its turn's commit.
    reply = await request.app[TURN_BATCHES].take(message)
    sender, answered = request.app[SENDER], EMPTY_TWIML
    if reply.claimed:  # the turn's channel answers with its replies (``sms_replies``)
        answered = answer.twiml(sender.store, sender.provider, sender.status_callback, reply.outbox)
    else:
        sender.kick(reply.outbox)
    # The turn logged its outcome (``turn.handled``, by event id); a repeat is news.
    log.log(
        logging.INFO if reply.again else logging.DEBUG,
        "sms.inbound.handled sid=%s outcome=%s again=%s",
        sid,
        reply.outcome,
        reply.again,
    )
    return _twiml(answered)


def render_result(message: Message, result: Result) -> list[Outgoing]:
    """What the turn says, as text messages to the sender's number."""
    out = []
    for said in result.said:
        bodies = render.messages(said.prompts, None) + pack(list(said.paragraphs))
        out += [
            Outgoing(
                "sms",
                body,
                said.purpose,
                to=said.to,
                campaign_id=said.campaign_id,
                contact_id=said.contact_id,
                session_id=said.session_id,
                segments=render.segments(body),
            )
            for body in bodies
        ]
    return out


CHANNEL = Channel("sms", ("inbound",), text.handle, render_result, OutboundStatus.SENDING)


@routes.post("/twilio/sms/status")
async def status(request: web.Request) -> web.Response:
    fields = await _fields(request)
    callback = sending.StatusCallback.of(fields, request.query.get("row"))
    if callback is None:
        raise web.HTTPBadRequest(text="missing field MessageSid or MessageStatus")
    sid, state, code = callback.sid, callback.status, callback.code
    outcome = await request.app[SENDER].statuses.take(callback)
    if outcome is None:
        return web.Response(text="duplicate")
    if outcome == sending.WAITING:  # stored: applied once its message's sid is (sweep)
        log.debug("sms.status.waiting sid=%s status=%s", sid, state)
        return web.Response(text="waiting: unknown sid")
    # Two callbacks come back for every message sent: a delivery is routine, the rest news.
    routine = state in ROUTINE_STATUSES and code is None
    log.log(
        logging.DEBUG if routine else logging.INFO,
        "sms.status sid=%s status=%s code=%s",
        sid,
        state,
        code,
    )
    return web.Response(text="ok")
