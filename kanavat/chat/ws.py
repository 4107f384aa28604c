"""The chat page's websocket: the JSON protocol of ``PROTOCOL.md`` over one connection.

Each action frame becomes one turn (``kanavat/turn/``: the event, data requests, the
conversation, the reply, one transaction) and its reply one ``bot`` frame, in order: a
connection handles its frames one at a time. Per connection state is explicit (a
:class:`Visit`), never global. The frame's client-chosen ``id`` is the idempotency key, so a
frame re-sent after a dropped connection gets the answer it got the first time. Caller mistakes get an ``error`` frame in the visitor's language;
our own errors are logged and answered politely, and the connection stays up.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from kanavat.appkeys import CONFIG, CONVERSATIONS, STORE, TURNS, WEBSOCKETS
from kanavat.chat import output, visits
from kanavat.chat.language import choose, moment, texts
from kanavat.chat.limits import MAX_FRAME_BYTES, MAX_MESSAGE_CHARS, Limits
from kanavat.config import Config
from kanavat.loop import chatnews
from kanavat.loop import texts as loop_texts
from kanavat.outreach import campaigns
from kanavat.privacy import commands as privacy_commands
from kanavat.turn.message import Message

log = logging.getLogger("kanavat.chat.ws")
VISITOR_COOKIE = "kanavat_visitor"
LIMITS: web.AppKey[Limits] = web.AppKey("chat_limits")
SOCKETS: web.AppKey[dict[str, int]] = web.AppKey("chat_sockets_per_address")
HEARTBEAT_S = 25.0  # below the 30-60 s idle timeouts of common proxies and mobile networks
ACTIONS = ("start", "text", "button", "restart", "stop")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Refused(Exception):
    """A frame we answer with an ``error`` frame (the caller's mistake or a limit)."""

    def __init__(self, code: str, **fmt: Any) -> None:
        super().__init__(code)
        self.code = code
        self.fmt = fmt


@dataclass
class Visit:
    """One connection's visitor: who (anonymous id), where from, in which language."""

    campaign_id: str
    visitor: str
    address: str
    language: str
    remembered: bool


def chat_campaign(config: Config, campaign_id: str) -> bool:
    campaign = config.campaigns.get(campaign_id)
    return campaign is not None and "chat" in campaign.channels


def same_origin(request: web.Request) -> bool:
    """Browsers always send Origin on websocket upgrades; a page elsewhere must not drive a
    visitor's session with their cookie (cross-site websocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (a script or test client): it has no visitor's cookie
    public = urlsplit(request.app[CONFIG].server.public_url)
    allowed = {f"{public.scheme}://{public.netloc}", f"{request.scheme}://{request.host}"}
    return origin.rstrip("/") in allowed


def closed_text(config: Config, campaign_id: str, reason: str, language: str) -> str:
    campaign = config.campaign(campaign_id)
    start = moment(language, campaign.start) if campaign.start else ""
    return texts(language)["closed"][reason].format(start=start)


async def handle(request: web.Request) -> web.WebSocketResponse:
    campaign_id = request.match_info["campaign"]
    app = request.app
    if not chat_campaign(app[CONFIG], campaign_id):
        raise web.HTTPNotFound(text="unknown campaign")
    if not same_origin(request):
        log.warning("chat.ws.rejected reason=cross_origin campaign=%s", campaign_id)
        raise web.HTTPForbidden(text="cross-origin websocket")
    address = request.remote or "unknown"
    open_sockets = app[SOCKETS]
    if open_sockets.get(address, 0) >= app[LIMITS].sockets_per_address:
        log.warning("chat.ws.rejected reason=too_many_sockets campaign=%s", campaign_id)
        raise web.HTTPTooManyRequests(text="too many open chats from this address")
    cookie = request.cookies.get(VISITOR_COOKIE)
    remembered = visits.is_visitor(cookie)
    visitor = cookie if remembered and cookie else visits.new_visitor()
    config = app[CONFIG]
    visit = Visit(campaign_id, visitor, address, config.default_language, remembered)

    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    app[WEBSOCKETS].add(ws)
    open_sockets[address] = open_sockets.get(address, 0) + 1
    log.info("chat.ws.opened campaign=%s remembered=%s", campaign_id, remembered)
    try:
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                for reply in _answer(app, visit, frame.data):
                    await ws.send_json(reply)
            elif frame.type == WSMsgType.BINARY:
                await ws.send_json(_error(visit, None, "bad_message"))
            elif frame.type == WSMsgType.ERROR:
                # Includes frames over max_msg_size: aiohttp closes with 1009 (message too big).
                log.info("chat.ws.error campaign=%s reason=%s", campaign_id, ws.exception())
                break
    finally:
        app[WEBSOCKETS].discard(ws)
        open_sockets[address] -= 1
        if open_sockets[address] <= 0:
            del open_sockets[address]
        log.info("chat.ws.closed campaign=%s", campaign_id)
    return ws


def _answer(app: web.Application, visit: Visit, data: str) -> list[dict[str, Any]]:
    """The frames answering one client frame; never raises (a crash would drop the chat)."""
    frame: dict[str, Any] = {}
    try:
        frame = json.loads(data)
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise Refused("bad_message")
        client_id = frame.get("id")
        if client_id is not None and not (
            isinstance(client_id, str) and CLIENT_ID.match(client_id)
        ):
            raise Refused("bad_message")
        if frame["type"] == "hello":  # then what came of their answers (issue 23)
            news = chatnews.frames(app[CONFIG], app[STORE], visit.visitor)
            return [_hello(app, visit, frame), *news]
        if frame["type"] in ACTIONS:
            return [{"type": "typing"}, _act(app, visit, frame)]
        raise Refused("bad_message")
    except json.JSONDecodeError:
        return [_error(visit, None, "bad_message")]
    except Refused as refused:
        # A JSON list or number is refused too: only read an id from an object (issue 11).
        given = frame.get("id") if isinstance(frame, dict) else None
        re_id = given if isinstance(given, str) else None
        return [_error(visit, re_id, refused.code, **refused.fmt)]
    except Exception:
        log.exception("chat.ws.failed campaign=%s", visit.campaign_id)
        return [_error(visit, None, "error")]


def _hello(app: web.Application, visit: Visit, frame: dict[str, Any]) -> dict[str, Any]:
    config, conversations = app[CONFIG], app[CONVERSATIONS]
    languages = config.county.languages
    asked = frame.get("lang") if isinstance(frame.get("lang"), str) else None
    visit.language = choose(languages, asked, None, None)
    row = visits.find(conversations, visit.campaign_id, visit.visitor, visit.language, languages)
    if row is not None:
        visit.language = row["language"]
    is_open, reason = _open(app, visit.campaign_id)
    if not is_open and (row is None or row["status"] == "active"):
        assert reason is not None
        return {
            "type": "state",
            "status": "closed",
            "lang": visit.language,
            "question": None,
            "messages": [],
            "text": closed_text(config, visit.campaign_id, reason, visit.language),
        }
    if row is None:
        return {
            "type": "state",
            "status": "welcome",
            "lang": visit.language,
            "question": None,
            "messages": [],
        }
    turn = conversations.current(row["id"])
    return {"type": "state", **output.turn_fields(turn)}


def _act(app: web.Application, visit: Visit, frame: dict[str, Any]) -> dict[str, Any]:
    config = app[CONFIG]
    kind: str = frame["type"]
    raw = _raw(frame)
    if not app[LIMITS].allow(visit.visitor, visit.address):
        log.info("chat.ws.limited campaign=%s", visit.campaign_id)
        raise Refused("rate_limited")
    is_open, reason = _open(app, visit.campaign_id)
    # A suggestion and a data request are taken any day; anything else waits for the survey.
    any_day = kind == "text" and (loop_texts.suggestion(raw) or privacy_commands.is_request(raw))
    if not is_open and not any_day:
        assert reason is not None
        return _error(
            visit,
            frame.get("id"),
            "closed",
            text=closed_text(config, visit.campaign_id, reason, visit.language),
        )
    client_id = frame.get("id")
    message = Message(
        "chat",
        "ws",
        f"{visit.visitor}:{client_id}" if client_id else None,
        action=kind,
        text=raw[: MAX_MESSAGE_CHARS + 1],
        visitor=visit.visitor,
        campaign_id=visit.campaign_id,
        language=visit.language,
    )
    reply = app[TURNS].take(message)
    log.info(
        "chat.ws.handled campaign=%s type=%s outcome=%s", visit.campaign_id, kind, reply.outcome
    )
    body = reply.bodies[0] if reply.bodies else None
    if body is None:
        # Re-sent after a reconnect, its first answer not kept (a data request's): where the
        # visitor stands now.
        return {"type": "bot", "re": client_id, **_current(app, visit)}
    return {**json.loads(body), "re": client_id}


def _current(app: web.Application, visit: Visit) -> dict[str, Any]:
    config = app[CONFIG]
    row = visits.find(
        app[CONVERSATIONS],
        visit.campaign_id,
        visit.visitor,
        visit.language,
        config.county.languages,
    )
    if row is None:
        return output.welcome(visit.language)
    return output.turn_fields(app[CONVERSATIONS].current(row["id"]))


def _raw(frame: dict[str, Any]) -> str:
    value = frame.get("payload") if frame["type"] == "button" else frame.get("text", "")
    if frame["type"] in ("text", "button") and not isinstance(value, str):
        raise Refused("bad_message")
    return value if isinstance(value, str) else ""


def _open(app: web.Application, campaign_id: str) -> tuple[bool, str | None]:
    store = app[STORE]
    return campaigns.is_open(app[CONFIG], store, campaign_id, store.clock())


def _error(visit: Visit, re_id: str | None, code: str, **fmt: Any) -> dict[str, Any]:
    frame = output.error_frame(visit.language, code, **fmt)
    return {"type": "error", "re": re_id, "code": frame["code"], "text": frame["text"]}


def setup(app: web.Application) -> None:
    app[LIMITS] = Limits.default()
    app[SOCKETS] = {}
