"""What a channel adapter hands to a turn, and what the turn decides, as plain values.

A :class:`Message` is stored as its inbound event's payload, so an event left unhandled by a
crash can be handled later from the store alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kanavat.conversations import Turn
from kanavat.questions.dialog import Prompt


@dataclass(frozen=True)
class Message:
    """One inbound message as the wire gave it, in the engine's terms."""

    channel: str  # sms, chat, voice
    kind: str  # the event kind: inbound (SMS), ws (chat page), rest (Rasa REST), turn (call)
    key: str | None  # the idempotency key: MessageSid, visitor and frame id, CallSid and turn
    action: str = "text"  # text, button, start, restart, stop; on a call: speech, keypad, timeout
    text: str = ""
    phone: str | None = None  # the sender's number (SMS)
    visitor: str | None = None  # a chat visitor's anonymous id
    recipient: str | None = None  # a Rasa widget's sender id, as its replies name it
    campaign_id: str | None = None
    language: str | None = None  # the language a new chat session starts in
    session_id: int | None = None  # a call's session
    confidence: float | None = None
    alternatives: tuple[tuple[str, float], ...] = ()  # a speech engine's n-best list
    confirm_below: float | None = None
    provider_opted_out: bool = False  # Twilio's Advanced Opt-Out has replied already

    def payload(self) -> dict[str, Any]:
        """The event's payload (flat values: no deep copy as ``asdict`` makes, per message)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Message:
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in payload.items() if k in names}
        given["alternatives"] = tuple(tuple(a) for a in given.get("alternatives") or ())
        return cls(**given)


@dataclass(frozen=True)
class Said:
    """Something the turn says back, before a channel renders it in its medium."""

    purpose: str  # reply, hint, opt_out, privacy, unknown_sender
    language: str
    prompts: tuple[Prompt, ...] = ()
    paragraphs: tuple[str, ...] = ()  # ready texts (privacy replies, hints)
    key: str = ""  # what the paragraphs are (a privacy outcome), for chat's message keys
    to: str | None = None
    campaign_id: str | None = None
    contact_id: int | None = None
    session_id: int | None = None


@dataclass(frozen=True)
class Result:
    """A turn's decision: its outcome (the event's), what to say, where the resident is."""

    outcome: str
    said: tuple[Said, ...] = ()
    turn: Turn | None = None
    error: str | None = None  # the caller's mistake, as a chat error code
    error_fmt: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
