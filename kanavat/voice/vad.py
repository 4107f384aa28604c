"""Cut a caller's 8 kHz audio into answers, for engines that cannot stream (faster-whisper).

Whisper transcribes whole utterances, so something must decide when an answer starts (to stop
the prompt: barge-in) and when it has ended (to transcribe it). This module does that with
WebRTC's voice activity detector on 20 ms frames. It is pure and synchronous: samples in,
events out, time counted in samples fed, so tests need no clock. It knows nothing of
questions, engines or the call.

Policy numbers, tuned for elderly callers on a phone line:

- an answer ends after ``end_silence`` (0.7 s) without speech: long enough for a pause
  between "en osaa" and "sanoa", short enough that the caller doesn't wonder if we heard;
- a voiced run shorter than ``min_speech`` (150 ms, plus the detector's own hangover) is a
  click, breath or line noise, not an answer, and must not stop the prompt;
- ``pre_roll`` (200 ms) before the detected start is kept, because the detector fires a few
  frames into a word and Whisper misses soft onsets ("h" in "hyvä") without it;
- ``max_length`` caps an answer (10 s for closed questions, 29.5 s for free text, to fit
  Whisper's 30 s window with the pre- and post-roll) so that a caller who keeps talking, or
  a television in the room, still gets a turn.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import webrtcvad

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160: one Twilio media frame

# webrtcvad keeps saying "speech" for 4-5 frames after sound stops (measured: a 20 ms click
# reads as 80-120 ms of speech), so a run must outlast this too before it counts as an answer.
VAD_HANGOVER = 0.08

CLOSED_MAX_SECONDS = 10.0
# Whisper hears 30 s windows: the answer plus its pre- and post-roll must fit in one, or the
# last fraction of a second becomes a window of its own (where Whisper tends to invent text).
FREE_TEXT_MAX_SECONDS = 29.5


@dataclass(frozen=True)
class VadConfig:
    """How the segmenter decides; the defaults are the policy described in the module doc."""

    aggressiveness: int = 2  # webrtcvad 0..3; 3 rejects more line noise but clips soft speech
    end_silence: float = 0.7
    max_length: float = CLOSED_MAX_SECONDS
    min_speech: float = 0.15
    # Unvoiced frames tolerated inside a would-be start, e.g. the "ks" in "yksi": at 0.1 s a
    # slow "yksi" lost its "y" (the onset was dropped as a blip) and was heard as "kaksi".
    onset_gap: float = 0.2
    pre_roll: float = 0.2
    # Silence kept after the last voiced frame; Whisper ends words better with a little.
    post_roll: float = 0.2

    def __post_init__(self) -> None:
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness must be 0..3, not {self.aggressiveness}")
        for name in ("end_silence", "max_length", "min_speech"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("onset_gap", "pre_roll", "post_roll"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


def _frames(seconds: float) -> int:
    return max(0, round(seconds * 1000 / FRAME_MS))


@dataclass(frozen=True)
class SpeechBegan:
    """Speech has lasted ``min_speech``; ``at`` is when it began, in seconds of audio fed."""

    at: float


@dataclass(frozen=True)
class Segment:
    """One answer's audio (int16, 8 kHz, pre-roll included) and why it ended.

    ``start``/``end`` are the first and last voiced moments, in seconds of audio fed.
    """

    pcm: np.ndarray
    start: float
    end: float
    reason: Literal["silence", "max-length", "finish"]


SegmenterEvent = SpeechBegan | Segment


class Segmenter:
    """A streaming voice-activity segmenter; feed it any number of samples at a time.

    States: quiet (only the pre-roll ring is kept), onset (voiced frames seen, not yet
    ``min_speech`` of them) and speech (collecting the answer until silence or the cap).
    """

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._vad = webrtcvad.Vad(self.config.aggressiveness)
        # Silence is counted from the detector's last "speech" frame, which trails the sound
        # by its hangover: without it, 0.7 s would mean 0.78 s of real silence.
        self._end_frames = max(1, _frames(self.config.end_silence - VAD_HANGOVER))
        self._max_frames = max(1, _frames(self.config.max_length))
        self._min_frames = max(1, _frames(self.config.min_speech + VAD_HANGOVER))
        self._gap_frames = _frames(self.config.onset_gap)
        self._post_frames = _frames(self.config.post_roll)
        self._pre: deque[np.ndarray] = deque(maxlen=max(1, _frames(self.config.pre_roll)))
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_no = 0  # frames classified so far
        self._reset()

    def _reset(self) -> None:
        self._state: Literal["quiet", "onset", "speech"] = "quiet"
        self._frames_kept: list[np.ndarray] = []
        self._lead = 0  # pre-roll frames at the front of _frames_kept
        self._start_frame = 0  # first voiced frame of the answer
        self._last_voiced = 0  # index (in _frame_no terms) of the latest voiced frame
        self._voiced = 0
        self._unvoiced_run = 0

    @property
    def in_speech(self) -> bool:
        """True between SpeechBegan and the Segment that ends it."""
        return self._state == "speech"

    @property
    def seconds_fed(self) -> float:
        return (self._frame_no * FRAME_SAMPLES + len(self._pending)) / SAMPLE_RATE

    def feed(self, pcm: np.ndarray) -> list[SegmenterEvent]:
        """Take int16 samples at 8 kHz; return what they completed."""
        samples = np.asarray(pcm, dtype=np.int16).reshape(-1)
        if len(self._pending):
            samples = np.concatenate([self._pending, samples])
        whole = len(samples) - len(samples) % FRAME_SAMPLES
        self._pending = samples[whole:].copy()
        events: list[SegmenterEvent] = []
        for start in range(0, whole, FRAME_SAMPLES):
            frame = samples[start : start + FRAME_SAMPLES]
            voiced = self._vad.is_speech(frame.tobytes(), SAMPLE_RATE)
            event = self._step(frame, voiced)
            self._frame_no += 1
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> Segment | None:
        """End of input: the answer in progress, if speech had begun; onset blips are dropped."""
        if self._state != "speech":
            self._reset()
            return None
        return self._cut("finish")

    def _step(self, frame: np.ndarray, voiced: bool) -> SegmenterEvent | None:
        n = self._frame_no
        if self._state == "quiet":
            if not voiced:
                self._pre.append(frame)
                return None
            self._state = "onset"
            self._frames_kept = [*self._pre, frame]
            self._lead = len(self._pre)
            self._pre.clear()
            self._start_frame = self._last_voiced = n
            self._voiced = 1
            self._unvoiced_run = 0
            return self._maybe_begin()

        self._frames_kept.append(frame)
        if voiced:
            self._voiced += 1
            self._last_voiced = n
            self._unvoiced_run = 0
        else:
            self._unvoiced_run += 1

        if self._state == "onset":
            if self._unvoiced_run > self._gap_frames:
                # A blip: give its frames back to the pre-roll ring and keep listening.
                for kept in self._frames_kept:
                    self._pre.append(kept)
                self._reset()
                return None
            return self._maybe_begin()

        if self._unvoiced_run >= self._end_frames:
            return self._cut("silence")
        if n - self._start_frame + 1 >= self._max_frames:
            return self._cut("max-length")
        return None

    def _maybe_begin(self) -> SpeechBegan | None:
        if self._voiced < self._min_frames:
            return None
        self._state = "speech"
        return SpeechBegan(at=self._start_frame * FRAME_SAMPLES / SAMPLE_RATE)

    @property
    def silence(self) -> float:
        """Seconds of silence since the last voiced frame, while an answer is under way."""
        return self._unvoiced_run * FRAME_MS / 1000 if self._state == "speech" else 0.0

    def peek(self) -> Segment | None:
        """The answer as it would be cut if it ended now, once its post-roll is in; the
        segmenter carries on unchanged. Lets an engine start decoding before the silence
        has lasted ``end_silence``: if no more speech comes, the cut answer is this one
        (same ``end``, same samples)."""
        if self._state != "speech" or self._unvoiced_run < self._post_frames:
            return None
        return self._segment("silence")

    def _segment(self, reason: Literal["silence", "max-length", "finish"]) -> Segment:
        # Frames after the last voiced one, beyond the post-roll, are dropped.
        last_kept = self._last_voiced - self._start_frame + self._lead + self._post_frames
        kept = self._frames_kept[: last_kept + 1]
        return Segment(
            pcm=np.concatenate(kept) if kept else np.zeros(0, dtype=np.int16),
            start=self._start_frame * FRAME_SAMPLES / SAMPLE_RATE,
            end=(self._last_voiced + 1) * FRAME_SAMPLES / SAMPLE_RATE,
            reason=reason,
        )

    def _cut(self, reason: Literal["silence", "max-length", "finish"]) -> Segment:
        segment = self._segment(reason)
        self._reset()
        return segment
