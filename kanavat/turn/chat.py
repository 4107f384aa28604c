"""A message from a chat visitor (the chat page's websocket, a Rasa REST widget): the policy.

The visitor's data requests (MY DATA, DELETE + YES) come first, for both, then a suggestion
(EHDOTUS / FÖRSLAG / IDEA, whether a survey is open or not); then the frame's action: start (or resume), restart, stop, or an answer the conversation takes. A finished
visitor is shown where they are. A Rasa widget's first message opens the session and is no
answer (widgets send a greeting or ``/get_started``); Rasa intents are understood (``nlu.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kanavat.chat import nlu, visits
from kanavat.chat.limits import MAX_MESSAGE_CHARS
from kanavat.conversations import Turn
from kanavat.loop import policy as loop_policy
from kanavat.privacy import commands as privacy_commands
from kanavat.privacy.data import Person
from kanavat.questions.normalise import Input
from kanavat.turn.context import Context
from kanavat.turn.message import Message, Result, Said


def rest_visitor(sender: str) -> str:
    """A Rasa sender as a visitor id: its own prefix (``<visitor>:<lang>`` sessions stay
    apart from every other sender's, whatever characters a sender has)."""
    return "rasa-" + quote(sender, safe="")


def handle(ctx: Context, message: Message, event_id: int) -> Result:
    assert message.visitor is not None and message.campaign_id is not None
    if len(message.text) > MAX_MESSAGE_CHARS:
        return Result("too_long", error="too_long", error_fmt={"max": MAX_MESSAGE_CHARS})
    if message.action == "text":
        person = Person(visitor=message.visitor)
        asked = privacy_commands.respond(ctx.store, ctx.config, person, message.text)
        if asked is not None:
            said = Said("privacy", asked.language, paragraphs=asked.paragraphs, key=asked.outcome)
            return Result(asked.outcome, (said,), _where(ctx, message), language=asked.language)
        # A suggestion, any day, by the page or a Rasa widget alike (issue 23).
        suggested = loop_policy.chat_message(ctx, message, event_id, _where(ctx, message))
        if suggested is not None:
            return suggested
    turn = _rest_turn(ctx, message) if message.kind == "rest" else _page_turn(ctx, message)
    if turn is None:
        return Result("bad_message", error="bad_message")
    return Result(turn.event, (Said("reply", turn.language, prompts=turn.prompts),), turn)


def _where(ctx: Context, message: Message) -> Turn | None:
    row = _find(ctx, message)
    return None if row is None else ctx.conversations.current(row["id"])


def _find(ctx: Context, message: Message) -> dict[str, Any] | None:
    languages = ctx.config.county.languages
    language = message.language or ctx.config.default_language
    assert message.campaign_id is not None and message.visitor is not None
    if message.kind == "rest":
        return visits.latest(ctx.conversations, message.campaign_id, message.visitor, languages)
    return visits.find(ctx.conversations, message.campaign_id, message.visitor, language, languages)


def _page_turn(ctx: Context, message: Message) -> Turn | None:
    conversations, config = ctx.conversations, ctx.config
    assert message.campaign_id is not None and message.visitor is not None
    languages = config.county.languages
    language = message.language or config.default_language
    begin = (conversations, message.campaign_id, message.visitor, language, languages)
    row = visits.find(*begin)
    if message.action == "start" or row is None:
        return visits.begin(*begin)
    if message.action == "restart":
        return conversations.restart(row["id"])
    if row["status"] != "active":
        return conversations.current(row["id"])  # "you have already answered"
    if message.action == "stop":
        return conversations.take(row["id"], Input("button", "/stop"))
    if not message.text.strip():
        return None
    questionnaire = config.campaign(message.campaign_id).questionnaire
    lex = nlu.lexicon_for(config.base_dir, questionnaire, row["language"])
    given = Input("button" if message.action == "button" else "text", message.text)
    return conversations.take(row["id"], given, lex=lex)


def _rest_turn(ctx: Context, message: Message) -> Turn:
    conversations, config = ctx.conversations, ctx.config
    assert message.campaign_id is not None and message.visitor is not None
    text = message.text
    existing = _find(ctx, message)
    if existing is None:
        language = message.language or config.default_language
        return visits.begin(
            conversations, message.campaign_id, message.visitor, language, [language]
        )
    intent = nlu.intent_value(text)
    if intent == "/restart":
        return conversations.restart(existing["id"])
    current = conversations.current(existing["id"])
    if existing["status"] != "active" or not text.strip():
        return current
    # A button's payload comes back as the message: one of the open question's values is
    # recorded as a button, anything else is read as typed text. An intent that is no answer
    # (``/greet``, ``/get_started`` from a widget's start) shows where the sender is.
    values = {c.value for p in current.prompts for c in p.options} | {"dont_know", "skip"}
    if intent is not None and not intent.startswith("/") and intent not in values:
        return current
    if intent is not None:
        given = Input("button", intent)
    else:
        given = Input("button" if text in values else "text", text)
    questionnaire = config.campaign(message.campaign_id).questionnaire
    lex = nlu.lexicon_for(config.base_dir, questionnaire, existing["language"])
    return conversations.take(existing["id"], given, lex=lex)
