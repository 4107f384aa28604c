"""Emulator settings and per-handset behaviour: plain frozen values, validated by type only.

A real Twilio number is configured with a messaging and a voice webhook URL; ``sms_url``
and ``voice_url`` are those. Times in behaviours are emulated seconds: every sleep is
divided by ``speed``, so tests can run a one-minute call in a few seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .line import Line
    from .resident import Action

SmsOutcome = Literal["delivered", "undelivered", "failed"]
CallOutcome = Literal["answer", "busy", "no-answer", "failed"]
AnsweredBy = Literal["human", "machine", "fax", "unknown"]


@dataclass(frozen=True)
class HandsetBehaviour:
    """How one virtual resident's phone reacts.

    ``script`` drives the resident once a call is answered: a sequence of actions from
    ``kanavat.emulator.resident`` or an ``async def resident(line)`` callable. Without a
    script the resident answers, stays silent and hangs up after ``hangup_after`` seconds.
    """

    sms_outcome: SmsOutcome = "delivered"
    sms_error_code: int | None = None  # default 30003 for undelivered, 30008 for failed
    call_outcome: CallOutcome = "answer"
    ring_seconds: float = 1.0
    answered_by: AnsweredBy = "human"
    amd_seconds: float = 2.0
    hangup_after: float = 60.0
    script: Sequence[Action] | Callable[[Line], Awaitable[None]] | None = None


@dataclass(frozen=True)
class EmulatorSettings:
    """What the emulated account looks like and where its webhooks go.

    ``ws_rewrite`` maps a public stream URL prefix to the address actually dialled, e.g.
    ``{"wss://kanavat.example.fi": "ws://127.0.0.1:8080"}``; the signature is always made
    over the public URL. Without a match, ``wss://`` to a loopback host becomes ``ws://``.
    """

    account_sid: str
    auth_token: str
    phone_number: str = "+358451234567"
    sms_url: str | None = None
    voice_url: str | None = None
    voice_method: str = "POST"
    speed: float = 1.0
    sms_step_seconds: float = 0.2
    opt_out_mode: Literal["sync", "async"] = "sync"
    advanced_opt_out: bool = False
    keyword_replies: bool = False
    webhook_timeout: float = 15.0
    status_callbacks: bool = True
    """False: messages still go through their statuses, but no callback is posted (a
    benchmark's diagnostic: what Twilio's side of delivery tracking costs the machine)."""
    ws_rewrite: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    """A CA bundle to trust for https webhooks and wss streams (a proxy's self-signed cert)."""
    default_behaviour: HandsetBehaviour = field(default_factory=HandsetBehaviour)
