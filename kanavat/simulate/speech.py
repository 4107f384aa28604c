"""Spoken answers for virtual residents: espeak-ng says a phrase, it becomes call audio.

The simulation's speaking residents need Finnish speech the server's Whisper can hear, made on
the spot so nothing is downloaded or committed. espeak-ng writes a WAV, soundfile reads it,
soxr resamples it to the phone's 8 kHz and ``ulaw_encode`` makes it the G.711 mu-law that
Media Streams carries. Clips are cached in memory per phrase: a population says the same few
words many times. Without espeak-ng there is no speech, and speaking residents use the keypad.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from kanavat.voice.audio import SAMPLE_RATE, load_pcm, ulaw_encode

ELDERLY_WPM = 130  # slower than espeak-ng's 175: closer to how an 85-year-old answers


class Speaker:
    """Makes and caches mu-law clips of phrases; ``available`` is False without espeak-ng."""

    def __init__(self, words_per_minute: int = ELDERLY_WPM) -> None:
        self.wpm = words_per_minute
        self.available = shutil.which("espeak-ng") is not None
        self._clips: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def clip(self, text: str, language: str) -> bytes:
        """``text`` said in ``language`` as 8 kHz mu-law, with a breath of silence around it."""
        key = (language, text)
        with self._lock:
            cached = self._clips.get(key)
        if cached is not None:
            return cached
        if not self.available:
            raise RuntimeError("espeak-ng is not installed")
        with tempfile.TemporaryDirectory(prefix="kanavat-say-") as tmp:
            wav = Path(tmp) / "say.wav"
            subprocess.run(
                ["espeak-ng", "-v", language, "-s", str(self.wpm), "-w", str(wav), text],
                check=True,
                capture_output=True,
            )
            pcm = load_pcm(wav, SAMPLE_RATE)
        before = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.int16)
        after = np.zeros(int(1.2 * SAMPLE_RATE), dtype=np.int16)  # the end of the answer
        audio = ulaw_encode(np.concatenate([before, pcm, after]))
        with self._lock:
            self._clips[key] = audio
        return audio
