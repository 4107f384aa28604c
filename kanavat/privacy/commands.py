"""The resident's own data requests by SMS or chat: see it (TIETONI), erase it (POISTA + KYLLÄ).

A message that is exactly a command word, in any of the languages with texts here (any case,
surrounding punctuation, with or without the dots of ä and ö), is a request, not an answer:

- ``TIETONI`` / ``MINA UPPGIFTER`` / ``MY DATA``: what the county holds, in that language.
- ``POISTA`` / ``RADERA`` / ``DELETE``: asks for confirmation, naming the word that gives it
  (``KYLLÄ`` / ``JA`` / ``YES``). The pending request is kept in the store (keyed by a hash,
  not the number), so it survives a restart. Within :data:`PENDING` the confirming word
  erases; any other message cancels the request and is then handled as usual, so a resident
  who meant "kyllä" as an answer loses nothing but the request.

Channels call :func:`respond` with the person and the text, and deliver the reply's
paragraphs in their medium (``sms_bodies``, ``chat_messages``). Opt-out keywords are the SMS
channel's and are handled before this.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from kanavat.config import Config
from kanavat.privacy import data
from kanavat.privacy.data import Person
from kanavat.privacy.erase import erase, request_key
from kanavat.store import Store, iso

LANGUAGES = data.LANGUAGES
PENDING = timedelta(minutes=30)  # said in the texts ("within 30 minutes")
MAX_COMMAND_CHARS = 40  # longer messages are never commands: skip the matching


@dataclass(frozen=True)
class Reply:
    outcome: str  # privacy.shown, privacy.erase_asked, privacy.erased, privacy.nothing
    language: str
    paragraphs: tuple[str, ...]


def command_word(text: str) -> str:
    """The message folded for matching: upper case, no accents, single spaces, no edge
    punctuation ("Poista!" -> "POISTA", "kylla" and "KYLLÄ" -> "KYLLA")."""
    folded = unicodedata.normalize("NFKD", text[: MAX_COMMAND_CHARS * 2])
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = re.sub(r"\s+", " ", folded).strip()
    return re.sub(r"^[\W_]+|[\W_]+$", "", folded).upper()


@cache
def _matches(kind: str) -> dict[str, str]:
    """Folded command word -> its language, for ``show``, ``erase`` or ``confirm``."""
    return {
        command_word(word): lang for lang in LANGUAGES for word in data.texts(lang)["words"][kind]
    }


def is_request(text: str) -> bool:
    """Whether ``text`` is a data request's word (MY DATA, DELETE, or YES confirming one):
    channels take these even where nothing else is taken now (a closed survey's chat)."""
    if not isinstance(text, str) or len(text) > MAX_COMMAND_CHARS:
        return False
    word = command_word(text)
    return any(word in _matches(kind) for kind in ("show", "erase", "confirm"))


def respond(
    store: Store, config: Config, person: Person, text: str, now: datetime | None = None
) -> Reply | None:
    """The reply to a data request, having acted on it; None when ``text`` is no request
    (then the channel handles it as usual)."""
    too_long = not isinstance(text, str) or len(text) > MAX_COMMAND_CHARS
    word = "" if too_long else command_word(text)
    moment = now or store.clock()
    key = request_key(store, person)
    pending = store.one("SELECT language, expires_at FROM privacy_requests WHERE who = ?", [key])
    if pending is not None:
        store.execute("DELETE FROM privacy_requests WHERE who = ?", [key])
        if word in _matches("confirm") and pending["expires_at"] > iso(moment):
            return _erase(store, config, person, pending["language"])
    if not word:
        return None
    if word in (shown := _matches("show")):
        language = shown[word]
        held = data.holdings(store, config, person, language)
        return Reply("privacy.shown", language, tuple(data.describe(config, held, language)))
    if word in (erasing := _matches("erase")):
        language = erasing[word]
        t = data.texts(language)["erase"]
        if data.holdings(store, config, person, language).empty:
            return Reply("privacy.nothing", language, (t["nothing"],))
        store.execute(
            "INSERT INTO privacy_requests(who, action, language, created_at, expires_at) "
            "VALUES (?, 'erase', ?, ?, ?) ON CONFLICT(who) DO UPDATE SET "
            "language = excluded.language, created_at = excluded.created_at, "
            "expires_at = excluded.expires_at",
            [key, language, iso(moment), iso(moment + PENDING)],
        )
        ask = t["ask"] if person.phone else t["ask_visitor"]
        return Reply("privacy.erase_asked", language, (ask,))
    return None


def _erase(store: Store, config: Config, person: Person, language: str) -> Reply:
    source = "sms" if person.phone else "chat"
    erase(store, config, person, source)
    t = data.texts(language)["erase"]
    done = t["done_visitor"] if person.visitor else t[f"done_{config.privacy.erasure}"]
    return Reply("privacy.erased", language, (done,))


def sms_bodies(reply: Reply) -> list[str]:
    return data.pack(list(reply.paragraphs))


def chat_messages(reply: Reply) -> list[dict[str, Any]]:
    """One bubble per paragraph, in the websocket protocol's message shape (PROTOCOL.md)."""
    return [
        {
            "key": reply.outcome,
            "text": p,
            "hint": "",
            "buttons": [],
            "question": None,
            "free_text": False,
        }
        for p in reply.paragraphs
    ]
