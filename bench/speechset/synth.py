"""Speech segments from two synthesisers, as 8 kHz int16 cut to the words.

espeak-ng (formant synthesis; its ``--voices=variant`` variants give different speakers)
and Festival with ``suo_fi_lj_diphone`` (a diphone voice cut from recordings of a Finnish
speaker). A segment is synthesised once per (voice, rate, pitch, text), resampled with
``sox -D`` (no dither: the same samples every run) and cached on disk.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

RATE = 8000
# Festival's Finnish diphone voice speaks about this many words a minute at stretch 1.0;
# a clip's rate in wpm becomes Duration_Stretch = FESTIVAL_WPM / rate.
FESTIVAL_WPM = 140
FESTIVAL_VOICE = "suo_fi_lj_diphone"


@dataclass(frozen=True)
class Voice:
    """One speaker: ``engine`` espeak or festival; ``name`` an espeak-ng voice+variant
    ("fi+m3") or the Festival voice; ``shift`` moves Festival's pitch by whole cents (sox
    ``pitch``) so one recorded speaker gives more than one voice."""

    engine: str
    name: str
    sex: str  # "m" or "f", as the variant's file says
    shift: int = 0

    @property
    def label(self) -> str:
        if self.engine == "festival":
            return f"festival-lj{self.shift:+d}c" if self.shift else "festival-lj"
        return self.name


def _run(*args: str, input: bytes | None = None) -> None:
    subprocess.run(args, check=True, capture_output=True, input=input)


def _espeak(voice: Voice, rate: int, pitch: int, text: str, out: Path) -> None:
    _run("espeak-ng", "-v", voice.name, "-s", str(rate), "-p", str(pitch), "-w", str(out), text)


def _festival(voice: Voice, rate: int, text: str, out: Path) -> None:
    # The voice's scheme files read ISO-8859-1; the script selects the voice, then sets the
    # stretch (selecting the voice resets it to 1.0).
    quoted = text.replace("\\", "").replace('"', "")
    script = (
        f"(voice_{FESTIVAL_VOICE})\n"
        f"(Parameter.set 'Duration_Stretch {FESTIVAL_WPM / rate:.3f})\n"
        f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{out}" \'riff)\n'
    )
    with tempfile.NamedTemporaryFile("wb", suffix=".scm", delete=False) as f:
        f.write(script.encode("iso-8859-1"))
    try:
        _run("festival", "-b", f.name)
    finally:
        os.unlink(f.name)


def segment(voice: Voice, rate: int, pitch: int, text: str, cache: Path) -> np.ndarray:
    """``text`` said by ``voice`` at ``rate`` wpm and ``pitch`` (espeak-ng's 0-99; for
    Festival every 10 above 50 is 20 cents up), 8 kHz int16, cut to where the sound is."""
    key = repr(("segment-1", voice, rate, pitch, text))
    path = cache / "segments" / (hashlib.sha1(key.encode()).hexdigest()[:20] + ".wav")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            raw, narrow = Path(tmp) / "raw.wav", Path(tmp) / "narrow.wav"
            effects: list[str] = []
            if voice.engine == "festival":
                _festival(voice, rate, text, raw)
                cents = voice.shift + (pitch - 50) * 2
                if cents:
                    effects = ["pitch", str(cents)]
            else:
                _espeak(voice, rate, pitch, text, raw)
            _run(
                "sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(narrow),
                *effects,
            )  # fmt: skip
            pcm, _ = soundfile.read(str(narrow), dtype="int16")
            done = Path(tmp) / "done.wav"
            soundfile.write(str(done), _trim(pcm), RATE, subtype="PCM_16")
            os.replace(done, path)
    pcm, _ = soundfile.read(str(path), dtype="int16")
    return pcm


def _trim(pcm: np.ndarray) -> np.ndarray:
    """Cut the synthesiser's own leading and trailing quiet: from 20 ms before the sound
    first rises above -34 dBFS to 20 ms after it last does."""
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 0.02 * 32768)[0]
    if not len(loud):
        return pcm
    return pcm[max(0, int(loud[0]) - 160) : int(loud[-1]) + 160]
