"""A Rasa-compatible REST channel, so chat widgets built for Rasa can embed a questionnaire.

Wire format (Rasa's ``rasa/core/channels/rest.py``): ``POST /webhooks/rest/webhook`` with
``{"sender": ID, "message": TEXT, "metadata": {...}}`` answers a JSON list of bot messages as
Rasa's ``CollectingOutputChannel`` collects them: ``{"recipient_id", "text"}`` plus
``"buttons": [{"title", "payload"}]`` only when there are buttons (Rasa drops keys whose value
is None), and plain text split into one message per paragraph (``"\\n\\n"``), as Rasa's
``send_text_message`` does. ``GET /webhooks/rest/`` is Rasa's health check. ``?stream=true``
answers one JSON object per line (``text/event-stream``), as Rasa's channel streams. A
missing ``sender`` is ``"default"`` and any other its string; a ``message`` that is not a
string is answered ``[]``, as Rasa answers it (its channel fails on it and logs).

Each message is a turn (``kanavat/turn/``). Its idempotency key is the widget's id for it:
``metadata.message_id`` (a string or an integer, as its string), else an ``Idempotency-Key``
header (the IETF HTTP API draft's, as Stripe and others take it); the same id from the same
sender again gets the same answer, never a second turn. A message with neither has no key:
Rasa keys nothing either (its ``UserMessage`` draws a fresh ``uuid4`` per POST), and no key
can be made from the message itself, since a retry and the same words sent again ("1" to two
questions in a row) look alike; such a retried POST is a second turn. The visitor's data
requests (MY DATA, DELETE + YES) work here as on the chat page.

kanavat reads ``metadata.campaign`` (optional when only one campaign is on chat) and
``metadata.lang`` (the language a new session starts in; else the county's first language).
A session's language stays what it started in. The first message of a new sender opens the
session and is not taken as an answer (widgets send a greeting or ``/get_started``). Rasa
intents as messages (``/affirm``, ``/restart``) are understood; see ``nlu.py``. A message
starting EHDOTUS / FÖRSLAG / IDEA is a suggestion, whether the campaign is open or not, and
what the visitor is to be told (an outcome, the answer to a suggestion) comes with the
sender's next reply (issue 23).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from kanavat.appkeys import CONFIG, CONVERSATIONS, STORE, TURNS
from kanavat.chat import output, visits
from kanavat.chat.language import texts
from kanavat.chat.limits import MAX_MESSAGE_CHARS
from kanavat.chat.ws import LIMITS, chat_campaign, closed_text
from kanavat.config import Config
from kanavat.loop import chatnews
from kanavat.loop import texts as loop_texts
from kanavat.outreach import campaigns
from kanavat.privacy import commands as privacy_commands
from kanavat.turn.chat import rest_visitor
from kanavat.turn.message import Message

log = logging.getLogger("kanavat.chat.rasa")
MAX_BODY_BYTES = 64 * 1024  # a 2,000-character message with metadata; anything larger is not chat
MAX_SENDER_CHARS = 200
MAX_MESSAGE_ID_CHARS = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_SENDER = "default"  # Rasa's UserMessage.DEFAULT_SENDER_ID


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def webhook(request: web.Request) -> web.StreamResponse:
    stream = request.query.get("stream", "false").lower() == "true"  # Rasa's bool_arg
    try:
        body = await _read(request)
        sender, message, metadata = _fields(body)
        message_id = _message_id(metadata, request.headers.get(IDEMPOTENCY_HEADER))
        if message is None:
            messages: list[dict[str, Any]] = []
        else:
            config = request.app[CONFIG]
            campaign_id = _campaign(config, metadata)
            asked = metadata.get("lang") if isinstance(metadata.get("lang"), str) else None
            messages = _handle(request, campaign_id, sender, message, asked, message_id)
    except BadRequest as bad:
        log.info("chat.rest.rejected status=%s reason=%s", bad.status, bad.message)
        return web.json_response({"error": bad.message}, status=bad.status)
    if not stream:
        return web.json_response(messages)
    # As Rasa streams: one JSON object per line, as each message is ready.
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for one in messages:
        await response.write((json.dumps(one) + "\n").encode())
    await response.write_eof()
    return response


async def _read(request: web.Request) -> Any:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise BadRequest(413, f"body too large: at most {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:  # chunked uploads have no Content-Length to check first
            raise BadRequest(413, f"body too large: at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(400, "body is not JSON") from None


def _fields(body: Any) -> tuple[str, str | None, dict[str, Any]]:
    """Sender, message and metadata as Rasa reads them: a missing sender is ``"default"`` and
    any other is its string (Rasa's ``UserMessage``); a missing message opens the session;
    a message that is not a string is None (Rasa's channel fails on it and answers ``[]``)."""
    if not isinstance(body, dict):
        raise BadRequest(400, 'body must be a JSON object {"sender": ..., "message": ...}')
    given = body.get("sender")
    sender = DEFAULT_SENDER if given is None else str(given)
    if not sender.strip() or len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise BadRequest(400, f"sender: 1 to {MAX_SENDER_CHARS} printable characters")
    message = body.get("message")
    if message is None:
        message = ""  # Rasa's own channel passes None on; here it simply opens the session
    elif not isinstance(message, str):
        log.info("chat.rest.ignored reason=message_not_a_string")
        message = None
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest(400, "metadata must be an object")
    return sender, message, metadata


def _message_id(metadata: dict[str, Any], header: str | None) -> str | None:
    """The widget's id for this message: ``metadata.message_id``, else the
    ``Idempotency-Key`` header; None when it sent neither (see the module docstring)."""
    given: Any = metadata.get("message_id")
    where = "metadata.message_id"
    if given is None or given == "":
        given, where = header, IDEMPOTENCY_HEADER
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, str | int):
        raise BadRequest(400, f"{where} must be a string or an integer")
    text = str(given)
    if not text.strip() or len(text) > MAX_MESSAGE_ID_CHARS or not text.isprintable():
        raise BadRequest(400, f"{where}: 1 to {MAX_MESSAGE_ID_CHARS} printable characters")
    return text


def _campaign(config: Config, metadata: dict[str, Any]) -> str:
    asked = metadata.get("campaign")
    if asked is None:
        on_chat = [cid for cid in config.campaigns if chat_campaign(config, cid)]
        if len(on_chat) == 1:
            return on_chat[0]
        raise BadRequest(400, "missing metadata.campaign: which campaign the sender answers")
    if not isinstance(asked, str) or not chat_campaign(config, asked):
        raise BadRequest(404, f"unknown chat campaign: {str(asked)[:64]!r}")
    return asked


def _handle(
    request: web.Request,
    campaign_id: str,
    sender: str,
    text: str,
    asked: str | None,
    message_id: str | None,
) -> list[dict[str, Any]]:
    app = request.app
    config, store = app[CONFIG], app[STORE]
    visitor = rest_visitor(sender)
    languages = config.county.languages
    existing = visits.latest(app[CONVERSATIONS], campaign_id, visitor, languages)
    language = existing["language"] if existing else config.default_language
    if existing is None and asked in languages:
        language = asked
    if not app[LIMITS].allow(visitor, request.remote or "unknown"):
        return [output.say(sender, texts(language)["rate_limited"])]
    is_open, reason = campaigns.is_open(config, store, campaign_id, store.clock())
    # A suggestion (issue 23) and a data request are taken any day, the survey open or not.
    any_day = loop_texts.suggestion(text) is not None or privacy_commands.is_request(text)
    if not is_open and not any_day and (existing is None or existing["status"] == "active"):
        assert reason is not None
        closed = [output.say(sender, closed_text(config, campaign_id, reason, language))]
        return closed + _news(config, store, visitor, sender)
    message = Message(
        "chat",
        "rest",
        f"{visitor}:{message_id}" if message_id is not None else None,
        text=text[: MAX_MESSAGE_CHARS + 1],
        visitor=visitor,
        recipient=sender,
        campaign_id=campaign_id,
        language=language,
    )
    reply = app[TURNS].take(message)
    log.info("chat.rest.handled campaign=%s outcome=%s", campaign_id, reply.outcome)
    body = reply.bodies[0] if reply.bodies else None
    answered = [] if body is None else json.loads(body)  # None: a retried data request
    return answered + _news(config, store, visitor, sender)


def _news(config: Config, store: Any, visitor: str, sender: str) -> list[dict[str, Any]]:
    """What came of their answers, the answer to their suggestion: as the page shows them at
    the next visit, a widget gets them with its next reply (survey open or not), once."""
    return [
        output.say(sender, n["text"] if n["kind"] == "outcome" else f"{n['title']}: {n['text']}")
        for n in chatnews.frames(config, store, visitor)
    ]
