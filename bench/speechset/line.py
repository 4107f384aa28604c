"""Telephone line conditions applied to a composed answer, ending in the call's mu-law.

Every clip is set to a speaking level measured on its words alone (RMS over the spoken
segments, not the pauses), then: ``clean`` adds nothing; ``quiet`` is a faint caller at
about -30 dBFS; ``pink20``/``pink10`` mix sox's pink noise at 20 and 10 dB SNR against the
measured speech RMS, over the whole clip (pauses too, as on a line); ``band`` is a 300-3400 Hz
channel (sox ``sinc``). Every clip then goes through the 8 kHz G.711 mu-law round trip the
call's Media Streams impose. sox always runs with ``-D`` (no dither) and its noise with
``-R`` (fixed seed); the noise is cut from one long cached recording at a seeded offset.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from kanavat.voice.audio import telephone

RATE = 8000
LINES = ("clean", "quiet", "pink20", "pink10", "band")
SPEECH_DBFS = -20.0
QUIET_DBFS = -30.0
SNR_DB = {"pink20": 20.0, "pink10": 10.0}
NOISE_SECONDS = 120


def _sox_raw(pcm: np.ndarray, *effects: str) -> np.ndarray:
    fmt = ["-t", "raw", "-e", "signed", "-b", "16", "-L", "-c", "1", "-r", str(RATE)]
    out = subprocess.run(
        ["sox", "-D", *fmt, "-", *fmt, "-", *effects],
        input=pcm.astype("<i2").tobytes(),
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.int16)


def _pink(cache: Path) -> np.ndarray:
    path = cache / "pinknoise-120s.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
        os.close(fd)
        subprocess.run(
            ["sox", "-R", "-D", "-n", "-r", str(RATE), "-c", "1", "-b", "16", tmp,
             "synth", str(NOISE_SECONDS), "pinknoise", "vol", "0.5"],
            check=True, capture_output=True,
        )  # fmt: skip
        os.replace(tmp, path)
    pcm, _ = soundfile.read(str(path), dtype="int16")
    return pcm.astype(np.float64)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) if len(x) else 0.0


def apply(pcm: np.ndarray, spoken: np.ndarray, line: str, seed: int, cache: Path) -> np.ndarray:
    """``pcm`` (8 kHz int16, the whole clip) as heard through ``line``; ``spoken`` is a boolean
    mask of the samples that are words (where the level and SNR are measured)."""
    x = pcm.astype(np.float64)
    level = rms(x[spoken]) or 1.0
    target = QUIET_DBFS if line == "quiet" else SPEECH_DBFS
    x *= 32768 * 10 ** (target / 20) / level
    if line in SNR_DB:
        noise = _pink(cache)
        start = random.Random(seed).randrange(0, len(noise) - len(x))
        piece = noise[start : start + len(x)]
        speech = rms(x[spoken])
        x += piece * (speech / 10 ** (SNR_DB[line] / 20) / (rms(piece) or 1.0))
    out = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    if line == "band":
        out = _sox_raw(out, "sinc", "300-3400")[: len(out)]
    return telephone(out)
