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
from typing import Protocol

import numpy as np

SAMPLE_RATE = 8000


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (used for barge-in: stop the prompt)."""


@dataclass(frozen=True)
class Transcript:
    """What the caller said in one answer.

    ``confidence`` is 0..1; ``alternatives`` are other hypotheses (text, confidence), best
    first, where the engine gives them; ``suspect`` carries the engine's own reasons to doubt
    the result (e.g. ``"no-unk-several-words"``) so the dialog confirms instead of accepting.
    """

    text: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    suspect: tuple[str, ...] = field(default=())


SpeechEvent = SpeechStarted | Transcript


class Recogniser(Protocol):
    def feed(self, pcm: np.ndarray) -> list[SpeechEvent]:
        """Take int16 samples at 8 kHz; return events recognised so far (often none)."""
        ...

    def finish(self) -> Transcript | None:
        """End of input (timeout or hang-up): the final transcript, if anything was said."""
        ...


class SpeechEngine(Protocol):
    language: str
    name: str

    def recogniser(self, expected: Sequence[str] | None) -> Recogniser:
        """A recogniser for one answer; ``expected`` phrases restrict closed questions."""
        ...
