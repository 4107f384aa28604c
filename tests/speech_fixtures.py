"""Test speech made on the spot: espeak-ng says it, sox makes it telephone audio.

Shared by every test that needs audio (recognisers, the Media Streams channel, the emulator),
so nothing is downloaded and nothing binary is committed. espeak-ng and sox are deterministic
(``sox -D`` turns dither off, ``-R`` fixes noise seeds), so files are cached by what they say
and reused across tests and sessions.

    wav = speak("네", "ko", tmpdir=tmp_path)
    pcm = to_telephone(wav)          # int16, 8 kHz, after a G.711 mu-law round trip
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kanavat.voice.audio import SAMPLE_RATE, telephone

HAVE_TOOLS = bool(shutil.which("espeak-ng") and shutil.which("sox"))
needs_speech_tools = pytest.mark.skipif(not HAVE_TOOLS, reason="needs espeak-ng and sox")

_CACHE = Path(tempfile.gettempdir()) / "kanavat-speech-cache"


def _cached(key: str, tmpdir: Path | None, make: Callable[[Path], None]) -> Path:
    """Path for ``key``; ``make(tmp)`` writes it once, atomically (tests may run in parallel)."""
    folder = Path(tmpdir) if tmpdir is not None else _CACHE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha1(key.encode("utf-8")).hexdigest()[:16] + ".wav")
    if not path.exists():
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=folder)
        os.close(fd)
        make(Path(tmp))
        os.replace(tmp, path)
    return path


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def speak(
    text: str,
    lang: str,
    voice: str | None = None,
    speed: int | None = None,
    tmpdir: Path | None = None,
) -> Path:
    """A WAV (espeak-ng's own rate, 22.05 kHz) of ``text`` in ``lang``; cached per text.

    ``voice`` is an espeak-ng voice or variant (``"ko"``, ``"en-us"``, ``"ko+f3"``) overriding
    ``lang``; ``speed`` is words per minute (espeak-ng default 175; elderly-paced tests use less).
    """
    name = voice or lang
    args = ["espeak-ng", "-v", name]
    if speed is not None:
        args += ["-s", str(speed)]

    def make(out: Path) -> None:
        _run([*args, "-w", str(out), text])

    return _cached(f"speak|{name}|{speed}|{text}", tmpdir, make)


def to_telephone(path: Path) -> np.ndarray:
    """A recording as the server hears it on a call: 8 kHz int16 after mu-law encode/decode."""
    raw = subprocess.run(
        [
            "sox",
            "-D",
            str(path),
            "-t",
            "raw",
            "-e",
            "signed",
            "-b",
            "16",
            "-L",
            "-c",
            "1",
            "-r",
            str(SAMPLE_RATE),
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return telephone(np.frombuffer(raw, dtype="<i2").astype(np.int16))


def add_noise(
    path: Path, level: float = 0.05, kind: str = "whitenoise", tmpdir: Path | None = None
) -> Path:
    """``path`` mixed with sox noise (``whitenoise``, ``pinknoise``, ``brownnoise``) at ``level``.

    ``level`` is the noise amplitude relative to full scale (0.05 ≈ -26 dBFS).
    """

    def make(out: Path) -> None:
        noise = out.with_suffix(".noise.wav")
        _run(["sox", "-R", "-D", str(path), str(noise), "synth", kind, "vol", str(level)])
        _run(["sox", "-D", "-m", str(path), str(noise), str(out)])
        noise.unlink()

    return _cached(f"noise|{path}|{level}|{kind}", tmpdir, make)


def noise(
    seconds: float, level: float = 0.05, kind: str = "whitenoise", tmpdir: Path | None = None
) -> Path:
    """``seconds`` of sox noise alone at 8 kHz (``level`` 0 gives digital silence)."""

    def make(out: Path) -> None:
        _run(
            [
                "sox",
                "-R",
                "-D",
                "-n",
                "-r",
                str(SAMPLE_RATE),
                "-b",
                "16",
                "-c",
                "1",
                str(out),
                "synth",
                str(seconds),
                kind,
                "vol",
                str(level),
            ]
        )

    return _cached(f"noise-only|{seconds}|{level}|{kind}", tmpdir, make)


def silence_pcm(seconds: float) -> np.ndarray:
    """Digital silence as a call delivers it (mu-law 0xFF decodes to 0)."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def pad(pcm: np.ndarray, before: float = 0.3, after: float = 1.0) -> np.ndarray:
    """Surround speech with silence, as in a call: a pause before answering, then quiet."""
    return np.concatenate([silence_pcm(before), pcm, silence_pcm(after)])
