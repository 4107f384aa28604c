"""Finnish test speech for the Whisper and VAD tests, made with espeak-ng and sox.

The clips are the benchmarks' (``bench/speech.py``): synthesised, resampled to 8 kHz with
``sox -D`` (no dither: the same samples on every run), optionally mixed with seeded noise, and
through G.711 mu-law and back. Here are the tests' own signals and measurements beside them.
"""

from __future__ import annotations

import shutil

import numpy as np

from bench.speech import RATE, Clip, chunks, silence, speech
from kanavat.voice.audio import telephone

__all__ = ["RATE", "Clip", "chunks", "silence", "speech"]  # the clips come from bench.speech


def tools_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def white_noise(seconds: float, level: float = 0.02, seed: int = 7) -> np.ndarray:
    """Line hiss: Gaussian noise at ``level`` of full scale, through mu-law."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, level * 32767, int(seconds * RATE))
    return telephone(np.clip(noise, -32768, 32767).astype(np.int16))


def tone(seconds: float, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return telephone((np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16))


def answer(clip: Clip, lead: float = 0.5, tail: float = 1.0) -> np.ndarray:
    """A caller's answer as the recogniser hears it: quiet, the words, quiet again."""
    return np.concatenate([silence(lead), speech(clip), silence(tail)])


def voiced_span(pcm: np.ndarray) -> tuple[float, float]:
    """First and last sample louder than the noise floor, in seconds."""
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 800)[0]
    return loud[0] / RATE, (loud[-1] + 1) / RATE


def trimmed(clip: Clip) -> np.ndarray:
    """The clip without espeak-ng's own leading and trailing quiet (~0.4 s after the words)."""
    pcm = speech(clip)
    begin, end = voiced_span(pcm)
    return pcm[int(begin * RATE) : int(end * RATE)]
