"""Twilio SMS webhooks: inbound messages and delivery status callbacks.

Order of work for an inbound message: the signature was checked by the middleware; the event
is stored (its MessageSid is the idempotency key: Twilio retries deliver the same sid and are
acknowledged without being processed again); then opt-out keywords; then the contact's open
conversation takes the text. Replies go out through the REST API so their delivery is tracked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import defaultdict

from aiohttp import web

from kanavat.appkeys import CONFIG, CONVERSATIONS, STORE
from kanavat.contacts import InvalidPhone, normalise_phone
from kanavat.conversations import Conversations
from kanavat.privacy import commands as privacy_commands
from kanavat.privacy.data import Person
from kanavat.provider import OptedOut, ProviderError
from kanavat.questions.lexicon import texts
from kanavat.questions.normalise import Input, clean
from kanavat.sms.send import SmsSender
from kanavat.store import Store

log = logging.getLogger("kanavat.sms")
routes = web.RouteTableDef()

SENDER: web.AppKey[SmsSender] = web.AppKey("sms_sender")
# Twilio's standard opt-out keywords (single word, any case) and the local ones.
TWILIO_OPT_OUT_WORDS = {
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
}
LOCAL_OPT_OUT_WORDS = {"LOPETA", "SLUTA"}
MAX_BODY = 1600  # Twilio's limit for one message body
SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
STATUS_RANK = {
    "sending": 0,
    "accepted": 1,
    "queued": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


def twiml_ok() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


def opt_out_word(body: str) -> str | None:
    """The opt-out keyword a message consists of (any case, surrounding punctuation), if any."""
    word = re.sub(r"^[\W_]+|[\W_]+$", "", body.strip()).upper()
    return word if word in TWILIO_OPT_OUT_WORDS | LOCAL_OPT_OUT_WORDS else None


@routes.post("/twilio/sms")
async def inbound(request: web.Request) -> web.Response:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    for name in ("MessageSid", "From"):
        if not fields.get(name):
            log.warning("sms.inbound.rejected reason=missing_field field=%s", name)
            raise web.HTTPBadRequest(text=f"missing field {name}")
    sid = fields["MessageSid"]
    if not SID.match(sid):
        raise web.HTTPBadRequest(text="MessageSid is not a message sid")
    store = request.app[STORE]
    event_id = store.record_event("sms", "inbound", sid, fields)
    if event_id is None:
        log.info("sms.inbound.duplicate sid=%s", sid)
        return twiml_ok()
    async with _locks[fields["From"]]:
        try:
            outcome = await handle_inbound(request.app, fields, event_id)
        except ProviderError as exc:
            outcome = f"reply_failed:{exc.code}"
        store.finish_event(event_id, outcome)
    log.info("sms.inbound.handled sid=%s outcome=%s", sid, outcome)
    return twiml_ok()


async def handle_inbound(app: web.Application, fields: dict[str, str], event_id: int) -> str:
    config, store = app[CONFIG], app[STORE]
    conversations: Conversations = app[CONVERSATIONS]
    sender = app[SENDER]
    body = fields.get("Body", "")
    try:
        phone = normalise_phone(fields["From"], None)
    except InvalidPhone:
        return "ignored:bad_sender"
    contact = store.one("SELECT id, language FROM contacts WHERE phone = ?", [phone])
    language = contact["language"] if contact else config.default_language
    t = texts(language)["sms"]

    async def reply(
        text: str, purpose: str, campaign_id: str | None = None, session_id: int | None = None
    ) -> None:
        await sender.send_texts(
            phone,
            [text],
            campaign_id=campaign_id,
            contact_id=contact["id"] if contact else None,
            session_id=session_id,
            purpose=purpose,
        )

    keyword = opt_out_word(body)
    if keyword:
        new = store.opt_out(phone, "sms-keyword")
        if contact:
            _stop_sessions(store, conversations, contact["id"])
        store.audit("opt_out", channel="sms", contact=contact["id"] if contact else None)
        # Confirm once. OptOutType means Twilio's Advanced Opt-Out has already replied; where
        # Twilio's default keyword handling blocked the number itself (not verified for +358
        # long codes, twilio-protocol.md §3) our reply fails with 21610, which is expected.
        if new and not fields.get("OptOutType"):
            with contextlib.suppress(OptedOut):
                await reply(t["opted_out"], "opt_out")
        return "opted_out" if new else "opted_out_again"
    # Residents' data requests (TIETONI, POISTA + KYLLÄ): kanavat/privacy/commands.py, issue 11.
    # Before the opt-out check: a resident who opted out may still see or erase their data.
    asked = privacy_commands.respond(store, config, Person(phone=phone), body)
    if asked is not None:
        with contextlib.suppress(OptedOut):
            await sender.send_texts(
                phone,
                privacy_commands.sms_bodies(asked),
                campaign_id=None,
                contact_id=None,
                session_id=None,
                purpose="privacy",
            )
        return asked.outcome
    if store.is_opted_out(phone):
        return "ignored:opted_out"
    if contact is None:
        await reply(t["unknown_sender"], "unknown_sender")
        return "unknown_sender"
    session = _open_session(store, contact["id"])
    if session is None:
        return "ignored:no_open_session"
    if len(body) > MAX_BODY:
        await reply(t["too_long"], "hint", session["campaign_id"], session["id"])
        return "too_long"
    if not clean(body):
        await reply(t["no_text"], "hint", session["campaign_id"], session["id"])
        return "empty"
    if _is_echo(store, session, body, event_id):
        return "ignored:repeated_reply"
    turn = conversations.take(session["id"], Input("text", body))
    await sender.send_prompts(
        phone,
        turn.prompts,
        turn.language,
        campaign_id=session["campaign_id"],
        contact_id=contact["id"],
        session_id=session["id"],
        purpose="reply",
    )
    return turn.event


def _open_session(store: Store, contact_id: int) -> dict | None:
    """The contact's active conversation by text: the most recent one still open.

    ``campaign_id IN (campaigns)`` changes nothing in what is found (every session belongs to
    a campaign row, and campaign rows are never deleted) but lets SQLite search the
    ``sessions(campaign_id, contact_id)`` index once per campaign instead of scanning all of
    it: without it every inbound text read every session in the store (bench/RESULTS.md).
    """
    return store.one(
        "SELECT * FROM sessions WHERE campaign_id IN (SELECT id FROM campaigns) "
        "AND contact_id = ? AND channel = 'sms' AND status = 'active' "
        "ORDER BY updated_at DESC, id DESC LIMIT 1",
        [contact_id],
    )


def _is_echo(store: Store, session: dict, body: str, event_id: int) -> bool:
    """A text identical to the previous answer that arrived before the next question was sent
    is that answer sent twice (a double tap, a phone's resend: new sids), not an answer to a
    question the resident had not seen. Arriving after it went out, it is an answer: the same
    reply to two questions in a row ("2", "2") is common and must never be dropped."""
    last = store.one(
        "SELECT raw, answered_at FROM answers WHERE session_id = ? ORDER BY id DESC LIMIT 1",
        [session["id"]],
    )
    if not last or clean(last["raw"] or "") != clean(body):
        return False
    arrived = store.one("SELECT received_at FROM events WHERE id = ?", [event_id])
    asked = store.one(
        "SELECT min(created_at) AS at FROM outbound WHERE session_id = ? AND created_at >= ?",
        [session["id"], last["answered_at"]],
    )
    return arrived is not None and (
        asked is None or asked["at"] is None or arrived["received_at"] < asked["at"]
    )


def _stop_sessions(store: Store, conversations: Conversations, contact_id: int) -> None:
    for row in store.query(
        "SELECT id FROM sessions WHERE contact_id = ? AND status = 'active'", [contact_id]
    ):
        conversations.stop(row["id"])


@routes.post("/twilio/sms/status")
async def status(request: web.Request) -> web.Response:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    state = fields.get("MessageStatus") or fields.get("SmsStatus")
    if not sid or not state:
        raise web.HTTPBadRequest(text="missing field MessageSid or MessageStatus")
    store = request.app[STORE]
    event_id = store.record_event("sms", "status", f"{sid}:{state}", fields)
    if event_id is None:
        return web.Response(text="duplicate")
    row = store.one("SELECT id, status, contact_id, campaign_id FROM outbound WHERE sid = ?", [sid])
    if row is None:
        store.finish_event(event_id, "ignored:unknown_sid")
        return web.Response(text="ignored: unknown sid")
    code = int(fields["ErrorCode"]) if fields.get("ErrorCode", "").isdigit() else None
    rank, current = STATUS_RANK.get(state, 0), STATUS_RANK.get(row["status"], 0)
    # Later states win; a final state (delivered, undelivered, failed) is never replaced by
    # another final one that arrives late.
    if rank > current or (rank == current and rank < STATUS_RANK["delivered"]):
        store.execute(
            "UPDATE outbound SET status = ?, error_code = coalesce(?, error_code), "
            "updated_at = ? WHERE id = ?",
            [state, code, store.now(), row["id"]],
        )
    if code == 21610 and row["contact_id"]:
        contact = store.one("SELECT phone FROM contacts WHERE id = ?", [row["contact_id"]])
        if contact and contact["phone"]:
            store.opt_out(contact["phone"], "provider-21610")
    store.finish_event(event_id, f"status:{state}")
    log.info("sms.status sid=%s status=%s code=%s", sid, state, code)
    return web.Response(text="ok")


def setup(app: web.Application, sender: SmsSender) -> None:
    app[SENDER] = sender
