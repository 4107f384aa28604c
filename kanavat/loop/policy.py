"""A suggestion as a turn: what the turn entry does with EHDOTUS / FÖRSLAG / IDEA.

Called by each channel's policy (``kanavat/turn/text.py``, ``chat.py``, ``voice.py``) inside
the turn's transaction, so the suggestion, its acknowledgement (an outbox row) and the
event's outcome are one unit: a retried webhook neither records it twice nor loses it.
"""

from __future__ import annotations

from typing import Any

from kanavat.loop import suggestions
from kanavat.loop.texts import suggestion as keyword
from kanavat.loop.texts import texts
from kanavat.turn.context import Context
from kanavat.turn.message import Message, Result, Said

MAX_CHARS = 1600


def _queue(ctx: Context) -> str | None:
    return ctx.config.suggestions.default_queue


def text_message(
    ctx: Context, message: Message, event_id: int, phone: str, contact: dict[str, Any] | None
) -> Result | None:
    """An SMS starting with the keyword: recorded and acknowledged; None for any other."""
    found = keyword(message.text)
    if found is None:
        return None
    language, text = found
    contact_id = contact["id"] if contact else None

    def say(key: str, purpose: str) -> Said:
        said = texts(language)["suggestion"][key]
        return Said(purpose, language, paragraphs=(said,), to=phone, contact_id=contact_id)

    if not text:
        return Result("suggestion_empty", (say("empty", "hint"),))
    suggestions.record(
        ctx.store,
        event_id=event_id,
        channel="sms",
        language=language,
        text=text[:MAX_CHARS],
        queue=_queue(ctx),
        contact_id=contact_id,
        phone=phone,
    )
    return Result("suggestion", (say("thanks", "suggestion"),))


def chat_message(ctx: Context, message: Message, event_id: int, where: Any) -> Result | None:
    """A chat text starting with the keyword; None for any other."""
    found = keyword(message.text) if message.action == "text" else None
    if found is None or message.visitor is None:
        return None
    keyword_language, text = found
    language = message.language or keyword_language
    t = texts(language)["suggestion"]
    if not text:
        said = Said("hint", language, paragraphs=(t["empty"],), key="suggestion_empty")
        return Result("suggestion_empty", (said,), where, language=language)
    suggestions.record(
        ctx.store,
        event_id=event_id,
        channel="chat",
        language=language,
        text=text[:MAX_CHARS],
        queue=_queue(ctx),
        visitor=message.visitor,
        campaign_id=message.campaign_id,
    )
    said = Said("suggestion", language, paragraphs=(t["thanks"],), key="suggestion")
    return Result("suggestion", (said,), where, language=language)


def voice_message(ctx: Context, message: Message, event_id: int) -> Result:
    """What a caller said on the suggestion line (the stream plays the thanks itself)."""
    from kanavat import contacts

    contact = contacts.by_phone(ctx.store, message.phone) if message.phone else None
    suggestions.record(
        ctx.store,
        event_id=event_id,
        channel="voice",
        language=message.language or ctx.config.default_language,
        text=message.text[:MAX_CHARS],
        queue=_queue(ctx),
        contact_id=contact["id"] if contact else None,
        phone=message.phone,
    )
    return Result("suggestion")
