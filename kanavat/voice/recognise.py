"""The recogniser interface every local speech engine implements.

An engine (Vosk, faster-whisper) is loaded once per language and shared by all calls; each call
asks it for a fresh recogniser per question, restricted to that question's expected phrases
(``expected``) or unrestricted for free text (``expected=None``). A recogniser is fed 8 kHz
16-bit mono PCM as it streams and answers with events from one small vocabulary, so the call
code never knows which engine runs. ``feed`` and ``finish`` may block (decoding): callers run
them in the engine's worker pool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from kanavat.questions.normalise import Input

SAMPLE_RATE = 8000


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (used for barge-in: stop the prompt)."""


@dataclass(frozen=True)
class Transcript:
    """What the caller said in one answer.

    ``confidence`` is 0..1; ``alternatives`` are hypotheses (text, weight), best first, where
    the engine gives them (Vosk: the others with their confidence; Whisper: its whole n-best
    list, ``text`` included, with each one's share of the probability); ``suspect`` carries the engine's own reasons to doubt
    the result (e.g. ``"no-unk-several-words"``) so the dialog confirms instead of accepting.
    """

    text: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    suspect: tuple[str, ...] = field(default=())
    # How the engine came to it, for ``kanavat speech try`` (JSON-ready): e.g. Whisper's rule
    # when a hesitation was held and the answer heard after it.
    detail: dict[str, Any] = field(default_factory=dict, compare=False)
    # The engine's separate hearings, each its n-best (text, log-probability), best first
    # (Whisper's closed answers: as said and slowed); see ``Input.hearings``.
    hearings: tuple[tuple[tuple[str, float], ...], ...] = ()


SpeechEvent = SpeechStarted | Transcript


class Recogniser(Protocol):
    def feed(self, pcm: np.ndarray) -> list[SpeechEvent]:
        """Take int16 samples at 8 kHz; return events recognised so far (often none)."""
        ...

    def finish(self) -> Transcript | None:
        """End of input (timeout or hang-up): the final transcript, if anything was said."""
        ...

    def close(self) -> None:
        """No longer listened to (answered by key, the next prompt, the call over): drop any
        decoding started ahead of time. Does not block."""
        ...


class SpeechEngine(Protocol):
    language: str
    name: str

    def recogniser(self, expected: Sequence[str] | None) -> Recogniser:
        """A recogniser for one answer; ``expected`` phrases restrict closed questions."""
        ...


def confirm_threshold(configured: float | None, engine: object, questionnaire: float) -> float:
    """Spoken answers below this are confirmed before they are kept: the county's threshold
    for the language (``[speech.<lang>] confirm_below``), else the engine's own (its
    confidence scale), else the questionnaire's."""
    if configured is not None:
        return configured
    engine_default = getattr(engine, "confirm_below", None)
    return float(engine_default) if engine_default is not None else questionnaire


def spoken(transcript: Transcript, confirm_below: float) -> Input:
    """The dialog's input for a transcript, as every call takes it.

    A transcript the engine doubts (``suspect``) is confirmed, never accepted silently: its
    confidence is kept under the threshold. The engine's other hypotheses go along, so the
    normaliser can weigh them when the best one reads as nothing or as something else.
    """
    confidence = transcript.confidence
    if transcript.suspect:
        confidence = min(confidence, confirm_below * 0.9)
    # Weighed only as a whole n-best list with the transcript in it (Whisper): Vosk's
    # alternatives leave the best one out, and its confidence is no weight beside them.
    hypotheses = transcript.alternatives
    if all(text != transcript.text for text, _ in hypotheses):
        hypotheses = ()
    hearings = () if transcript.suspect else transcript.hearings
    return Input("speech", transcript.text, confidence, hypotheses, hearings)
