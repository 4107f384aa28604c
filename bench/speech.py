"""Synthetic callers' speech for the benchmarks: espeak-ng, then the telephone path.

Each clip is synthesised, resampled to 8 kHz with ``sox -D`` (no dither: the same samples on
every run), optionally mixed with white noise from sox's generator seeded with ``-R``, and
sent through G.711 mu-law and back with the project's own codec. Clips are cached in the
temporary directory by what makes them; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import soundfile

from kanavat.voice.audio import telephone, ulaw_encode

RATE = 8000
CACHE = Path(tempfile.gettempdir()) / "kanavat-bench-speech"


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str = "fi"
    speed: int = 140
    noise: float = 0.0  # white noise amplitude, fraction of full scale

    @property
    def label(self) -> str:
        noisy = f"+noise{self.noise:g}" if self.noise else ""
        return f"{self.voice}/{self.speed}{noisy}"


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@cache
def speech(clip: Clip) -> np.ndarray:
    """The clip as 8 kHz int16 after a mu-law round trip (what the server hears)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / (hashlib.sha1(repr(clip).encode()).hexdigest()[:16] + ".wav")
    if not out.exists():
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            raw, narrow = Path(tmp) / "raw.wav", Path(tmp) / "narrow.wav"
            _run("espeak-ng", "-v", clip.voice, "-s", str(clip.speed), "-w", str(raw), clip.text)
            _run("sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(narrow))
            if clip.noise:
                noise, mixed = Path(tmp) / "noise.wav", Path(tmp) / "mixed.wav"
                seconds = soundfile.info(str(narrow)).duration
                _run(
                    "sox", "-R", "-D", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(noise),
                    "synth", f"{seconds:.3f}", "whitenoise", "vol", f"{clip.noise:g}",
                )  # fmt: skip
                _run("sox", "-D", "-m", str(narrow), str(noise), str(mixed))
                narrow = mixed
            pcm, rate = soundfile.read(str(narrow), dtype="int16")
            assert rate == RATE
            done = Path(tmp) / "done.wav"
            soundfile.write(str(done), telephone(pcm), RATE, subtype="PCM_16")
            os.replace(done, out)
    pcm, _ = soundfile.read(str(out), dtype="int16")
    return pcm


def words(clip: Clip) -> np.ndarray:
    """The clip cut to its words: espeak-ng pads ~0.4 s of silence after them, which would
    count as the resident still speaking. The bounds come from the clean clip (a noisy one
    has no quiet to find), where the sound first and last rises above -34 dBFS, plus 20 ms."""
    clean = speech(replace(clip, noise=0.0)).astype(np.int32)
    loud = np.nonzero(np.abs(clean) > 0.02 * 32768)[0]
    if not len(loud):
        return speech(clip)
    start = max(0, int(loud[0]) - 160)
    end = min(len(clean), int(loud[-1]) + 160)
    return speech(clip)[start:end]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def answer(clip: Clip, lead: float = 0.5, tail: float = 1.0) -> np.ndarray:
    """An answer as the recogniser hears it on a line: quiet, the words, quiet again."""
    return np.concatenate([silence(lead), words(clip), silence(tail)])


def ulaw(clip: Clip) -> bytes:
    """The clip's words alone as mu-law bytes, for Media Streams frames."""
    return ulaw_encode(words(clip))


def chunks(pcm: np.ndarray, size: int = 160):
    """20 ms frames, as Twilio streams them."""
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]
