"""What the resident did (``Input``) and what it was read as (``Result``), shared by the
normaliser and the modules it is made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kanavat.questions.phrases import Value

InputKind = Literal["text", "keypad", "button", "speech", "timeout"]
ResultKind = Literal["answer", "command", "no_match"]

COMMANDS = ("repeat", "stop", "help")


@dataclass(frozen=True)
class Input:
    """What the resident did, whatever the medium."""

    kind: InputKind
    raw: str
    confidence: float | None = None
    # A speech engine's n-best list, (text, weight), ``raw`` among them: what else it may
    # have heard, weighed against each other (see ``_by_hypotheses``).
    alternatives: tuple[tuple[str, float], ...] = ()
    # The engine's separate hearings of the answer (Whisper: as said and slowed), each its
    # n-best list of (text, log-probability): when they agree, the answer needs no
    # confirmation (``hypotheses.agreed``).
    hearings: tuple[tuple[tuple[str, float], ...], ...] = ()


@dataclass(frozen=True)
class Result:
    kind: ResultKind
    value: Value = None
    confidence: float = 0.0
    reason: str | None = None
    # The text the value was read from, when it is not the input's own (an n-best reading).
    heard: str | None = None

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "kind": self.kind,
            "reason": self.reason,
        }


def no_match(reason: str) -> Result:
    return Result("no_match", None, 0.0, reason)
