"""Which session a chat visitor is in, across the county's languages.

A session's language is set when it begins (the engine words every prompt in it), so a web
visitor has one session per language, keyed ``<visitor>:<lang>``. Switching language before
answering costs nothing; switching after answering starts over in the new language: the
answers given in the other language are withdrawn (``Conversations.restart``), so nobody is
counted twice. A visitor who has finished in one language is finished in all of them.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from kanavat.conversations import Conversations, Turn

VISITOR = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_visitor() -> str:
    """An anonymous id: random, tied to nothing about the person (no login, no number)."""
    return secrets.token_urlsafe(24)


def is_visitor(value: str | None) -> bool:
    return bool(value and VISITOR.match(value))


def key(visitor: str, language: str) -> str:
    return f"{visitor}:{language}"


def find(
    conversations: Conversations,
    campaign_id: str,
    visitor: str,
    language: str,
    languages: list[str],
) -> dict[str, Any] | None:
    """The visitor's session to show: the one in ``language``, else a finished one in another
    language (finished anywhere is finished), else None (the visitor has not started)."""
    here = conversations.latest_session(campaign_id, visitor_id=key(visitor, language))
    if here is not None:
        return here
    for other in languages:
        if other == language:
            continue
        row = conversations.latest_session(campaign_id, visitor_id=key(visitor, other))
        if row is not None and row["status"] != "active":
            return row
    return None


def begin(
    conversations: Conversations,
    campaign_id: str,
    visitor: str,
    language: str,
    languages: list[str],
) -> Turn:
    """Start (or resume) in ``language``; answers begun in another language are withdrawn."""
    for other in languages:
        if other == language:
            continue
        row = conversations.latest_session(campaign_id, visitor_id=key(visitor, other))
        if row is None or row["status"] != "active":
            continue
        if conversations.state(row["id"]).answers:
            conversations.restart(row["id"])
    return conversations.begin(campaign_id, "chat", language, visitor_id=key(visitor, language))


def latest(
    conversations: Conversations, campaign_id: str, visitor: str, languages: list[str]
) -> dict[str, Any] | None:
    """The visitor's most recent session in any language (a Rasa widget keeps the language
    its session started in)."""
    rows = [
        row
        for language in languages
        if (row := conversations.latest_session(campaign_id, visitor_id=key(visitor, language)))
    ]
    return max(rows, key=lambda r: r["id"]) if rows else None
