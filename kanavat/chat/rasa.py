"""A Rasa-compatible REST channel, so chat widgets built for Rasa can embed a questionnaire.

Wire format (Rasa's ``rasa/core/channels/rest.py``): ``POST /webhooks/rest/webhook`` with
``{"sender": ID, "message": TEXT, "metadata": {...}}`` answers a JSON list of bot messages as
Rasa's ``CollectingOutputChannel`` collects them: ``{"recipient_id", "text"}`` plus
``"buttons": [{"title", "payload"}]`` only when there are buttons (Rasa drops keys whose value
is None), and plain text split into one message per paragraph (``"\\n\\n"``), as Rasa's
``send_text_message`` does. ``GET /webhooks/rest/`` is Rasa's health check.

kanavat reads ``metadata.campaign`` (optional when only one campaign is on chat) and
``metadata.lang`` (the language a new session starts in; else the county's first language).
A session's language stays what it started in. The first message of a new sender opens the
session and is not taken as an answer (widgets send a greeting or ``/get_started``). Rasa
intents as messages (``/affirm``, ``/restart``) are understood; see ``nlu.py``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from kanavat import campaigns
from kanavat.appkeys import CONFIG, CONVERSATIONS, STORE
from kanavat.chat import nlu, render
from kanavat.chat.language import texts
from kanavat.chat.limits import MAX_MESSAGE_CHARS
from kanavat.chat.ws import LIMITS, chat_campaign, closed_text
from kanavat.config import Config
from kanavat.conversations import Conversations, Turn
from kanavat.questions.dialog import Prompt
from kanavat.questions.normalise import Input

log = logging.getLogger("kanavat.chat.rasa")
MAX_BODY_BYTES = 64 * 1024  # a 2,000-character message with metadata; anything larger is not chat
MAX_SENDER_CHARS = 200


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def collect(recipient_id: str, prompts: tuple[Prompt, ...]) -> list[dict[str, Any]]:
    """Prompts as Rasa's CollectingOutputChannel would have collected them."""
    out: list[dict[str, Any]] = []
    for prompt in prompts:
        shown = render.message(prompt)
        if shown["buttons"]:
            out.append(
                {"recipient_id": recipient_id, "text": shown["text"], "buttons": shown["buttons"]}
            )
            continue
        text = shown["text"] if not shown["hint"] else f"{shown['text']}\n{shown['hint']}"
        out += [say(recipient_id, part) for part in text.strip().split("\n\n") if part.strip()]
    return out


def say(recipient_id: str, text: str) -> dict[str, Any]:
    return {"recipient_id": recipient_id, "text": text}


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def webhook(request: web.Request) -> web.Response:
    try:
        body = await _read(request)
        sender, message, metadata = _fields(body)
        config = request.app[CONFIG]
        campaign_id = _campaign(config, metadata)
        language = metadata.get("lang") if isinstance(metadata.get("lang"), str) else None
        messages = _handle(request, campaign_id, sender, message, language)
    except BadRequest as bad:
        log.info("chat.rest.rejected status=%s reason=%s", bad.status, bad.message)
        return web.json_response({"error": bad.message}, status=bad.status)
    return web.json_response(messages)


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


def _fields(body: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise BadRequest(400, 'body must be a JSON object {"sender": ..., "message": ...}')
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest(400, "missing field: sender (a string)")
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise BadRequest(400, f"sender: at most {MAX_SENDER_CHARS} printable characters")
    message = body.get("message")
    if message is None:
        message = ""  # Rasa's own channel passes None on; here it simply opens the session
    if not isinstance(message, str):
        raise BadRequest(400, "message must be a string")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest(400, "metadata must be an object")
    return sender, message, metadata


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
    request: web.Request, campaign_id: str, sender: str, message: str, asked: str | None
) -> list[dict[str, Any]]:
    app = request.app
    config, store = app[CONFIG], app[STORE]
    conversations: Conversations = app[CONVERSATIONS]
    visitor = f"rasa:{sender}"
    existing = conversations.latest_session(campaign_id, visitor_id=visitor)
    language = existing["language"] if existing else config.default_language
    if existing is None and asked in config.county.languages:
        language = asked
    if not app[LIMITS].allow(visitor, request.remote or "unknown"):
        return [say(sender, texts(language)["rate_limited"])]
    if len(message) > MAX_MESSAGE_CHARS:
        return [say(sender, texts(language)["too_long"].format(max=MAX_MESSAGE_CHARS))]
    is_open, reason = campaigns.is_open(config, store, campaign_id, store.clock())
    if not is_open and (existing is None or existing["status"] == "active"):
        assert reason is not None
        return [say(sender, closed_text(config, campaign_id, reason, language))]
    payload = {"campaign": campaign_id, "type": "rest", "raw": message}
    event_id = store.record_event("chat", "rest", None, payload)
    assert event_id is not None  # no external id: never a duplicate
    turn = _turn(config, conversations, campaign_id, visitor, existing, language, message)
    store.finish_event(event_id, turn.event)
    log.info("chat.rest.handled campaign=%s outcome=%s", campaign_id, turn.event)
    return collect(sender, turn.prompts)


def _turn(
    config: Config,
    conversations: Conversations,
    campaign_id: str,
    visitor: str,
    existing: dict[str, Any] | None,
    language: str,
    message: str,
) -> Turn:
    if existing is None:
        return conversations.begin(campaign_id, "chat", language, visitor_id=visitor)
    intent = nlu.intent_value(message)
    if intent == "/restart":
        return conversations.restart(existing["id"])
    if existing["status"] != "active":
        return conversations.current(existing["id"])
    if not message.strip():
        return conversations.current(existing["id"])
    # A button's payload comes back as the message: one of the open question's values is
    # recorded as a button, anything else is read as typed text. An intent that is no answer
    # (``/greet``, ``/get_started`` from a widget's start) shows where the sender is.
    current = conversations.current(existing["id"])
    values = {c.value for p in current.prompts for c in p.options} | {"dont_know", "skip"}
    if intent is not None and not intent.startswith("/") and intent not in values:
        return current
    if intent is not None:
        given = Input("button", intent)
    else:
        given = Input("button" if message in values else "text", message)
    questionnaire = config.campaign(campaign_id).questionnaire
    lex = nlu.lexicon_for(config.base_dir, questionnaire, existing["language"])
    return conversations.take(existing["id"], given, lex=lex)
