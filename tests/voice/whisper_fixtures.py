"""Finnish test speech for the Whisper and VAD tests, made with espeak-ng and sox.

Each clip goes the way a caller's voice does: synthesised, resampled to 8 kHz with sox
(``-D``: no dither, so the clip is the same on every run), through G.711 mu-law and back
(``kanavat.voice.audio``), and optionally mixed with noise. Nothing is downloaded; clips are
cached in the temp directory, keyed by what makes them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from kanavat.voice.audio import telephone

RATE = 8000
CACHE = Path(tempfile.gettempdir()) / "kanavat-test-speech"


def tools_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def mulaw_roundtrip(pcm: np.ndarray) -> np.ndarray:
    """int16 -> G.711 mu-law -> int16, as the phone network does (the project's own codec)."""
    return telephone(pcm)


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str = "fi"
    speed: int = 140
    noise: float = 0.0  # amplitude of added white noise, 0..1 of full scale

    @property
    def label(self) -> str:
        noisy = f"+noise{self.noise:g}" if self.noise else ""
        return f"{self.text}/{self.voice}/{self.speed}{noisy}"


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@functools.cache
def speech(clip: Clip) -> np.ndarray:
    """The clip as 8 kHz int16 after a mu-law round trip."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(repr(clip).encode()).hexdigest()[:16]
    out = CACHE / f"{key}.wav"
    if not out.exists():
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            raw = Path(tmp) / "raw.wav"
            narrow = Path(tmp) / "narrow.wav"
            _run("espeak-ng", "-v", clip.voice, "-s", str(clip.speed), "-w", str(raw), clip.text)
            effects = ["rate", "-h", str(RATE)]
            _run(
                "sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(narrow), *effects
            )
            if clip.noise:
                noise = Path(tmp) / "noise.wav"
                mixed = Path(tmp) / "mixed.wav"
                seconds = soundfile.info(str(narrow)).duration
                # sox's noise generator is seeded with -R so the clip repeats exactly.
                _run(
                    "sox",
                    "-R",
                    "-D",
                    "-n",
                    "-r",
                    str(RATE),
                    "-c",
                    "1",
                    "-b",
                    "16",
                    str(noise),
                    "synth",
                    f"{seconds:.3f}",
                    "whitenoise",
                    "vol",
                    f"{clip.noise:g}",
                )
                _run("sox", "-D", "-m", str(narrow), str(noise), str(mixed))
                narrow = mixed
            pcm, rate = soundfile.read(str(narrow), dtype="int16")
            assert rate == RATE
            done = Path(tmp) / "done.wav"
            soundfile.write(str(done), mulaw_roundtrip(pcm), RATE, subtype="PCM_16")
            os.replace(done, out)  # atomic: a parallel test run never reads half a file
    pcm, _ = soundfile.read(str(out), dtype="int16")
    return pcm


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def white_noise(seconds: float, level: float = 0.02, seed: int = 7) -> np.ndarray:
    """Line hiss: Gaussian noise at ``level`` of full scale, through mu-law."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, level * 32767, int(seconds * RATE))
    return mulaw_roundtrip(np.clip(noise, -32768, 32767).astype(np.int16))


def tone(seconds: float, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return mulaw_roundtrip((np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16))


def answer(clip: Clip, lead: float = 0.5, tail: float = 1.0) -> np.ndarray:
    """A caller's answer as the recogniser hears it: quiet, the words, quiet again."""
    return np.concatenate([silence(lead), speech(clip), silence(tail)])


def chunks(pcm: np.ndarray, size: int = 160):
    """Feed as Twilio does: 20 ms media frames (160 samples at 8 kHz)."""
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def voiced_span(pcm: np.ndarray) -> tuple[float, float]:
    """First and last sample louder than the noise floor, in seconds."""
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 800)[0]
    return loud[0] / RATE, (loud[-1] + 1) / RATE


def trimmed(clip: Clip) -> np.ndarray:
    """The clip without espeak-ng's own leading and trailing quiet (~0.4 s after the words)."""
    pcm = speech(clip)
    begin, end = voiced_span(pcm)
    return pcm[int(begin * RATE) : int(end * RATE)]
