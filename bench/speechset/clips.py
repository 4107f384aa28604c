"""The clips of the broad set: who says which answer, how fast, how hesitantly, on which line.

Every attribute is dealt from a shuffled deck (refilled when empty) by a ``random.Random``
seeded with a fixed string, so each value is used about equally often and the set is the same
on every machine and run. Changing a list here changes the set: bump ``VERSION`` then.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import soundfile

from bench.speechset import line as lines
from bench.speechset.forms import FILLERS, PHRASINGS, Phrasing
from bench.speechset.synth import RATE, Voice, segment

VERSION = 1
ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "KANAVAT_SPEECHSET_CACHE"
PARTS = ("dev", "held_out")

_E, _F = "espeak", "festival"
# Whole voices are held out: none of these is heard in the development part.
VOICES: dict[tuple[str, str], tuple[Voice, ...]] = {
    ("fi", "dev"): (
        Voice(_E, "fi+m2", "m"),
        Voice(_E, "fi+f1", "f"),
        Voice(_E, "fi+klatt2", "m"),
        Voice(_E, "fi+grandpa", "m"),
        Voice(_E, "fi+f5", "f"),
        Voice(_E, "fi+m6", "m"),
        Voice(_F, "suo_fi_lj_diphone", "m"),
    ),
    ("fi", "held_out"): (
        Voice(_E, "fi+m4", "m"),
        Voice(_E, "fi+f4", "f"),
        Voice(_E, "fi+grandma", "f"),
        Voice(_E, "fi+klatt4", "m"),
        Voice(_F, "suo_fi_lj_diphone", "m", shift=-400),  # the recorded speaker, lower
    ),
    ("sv", "dev"): (
        Voice(_E, "sv+m2", "m"),
        Voice(_E, "sv+f1", "f"),
        Voice(_E, "sv+klatt2", "m"),
        Voice(_E, "sv+grandpa", "m"),
        Voice(_E, "sv+f5", "f"),
    ),
    ("sv", "held_out"): (
        Voice(_E, "sv+m4", "m"),
        Voice(_E, "sv+f4", "f"),
        Voice(_E, "sv+grandma", "f"),
    ),
}
RATES = (100, 115, 130, 145, 160, 175, 190)  # words per minute
PITCHES = (30, 40, 50, 60, 70)  # espeak-ng -p; Festival: 2 cents per step from 50
# none: a short pause (0.3-0.6 s) then the answer; pause: 1.0-1.5 s of silence first;
# filler / filler2: the language's hesitation ("öö", "tota") then 0.5-1.5 s of silence;
# inside: a 0.6-1.5 s pause inside the answer, at its "|".
HESITATIONS = ("none", "none", "none", "pause", "filler", "filler2")
# Answers of more than one part ("ehkä | kolme") can also pause inside.
HESITATIONS_SPLIT = ("none", "none", "pause", "filler", "filler2", "inside", "inside")
# Renders per phrasing: development = dev voices x dev phrasings; held out = held-out voices
# x every phrasing, plus dev voices x held-out phrasings.
RENDERS = {"fi": (7, 3, 3), "sv": (3, 2, 1)}
TAIL = 2.5  # seconds of line after the answer: the segmenter's end wait and more


@dataclass(frozen=True)
class SpeechClip:
    id: str
    lang: str
    part: str  # "dev" or "held_out"
    phrasing: Phrasing
    voice: Voice
    rate: int
    pitch: int
    hesitation: str  # none, pause, filler, inside (see HESITATIONS)
    filler: str | None
    lead: float  # seconds before the first sound
    gap: float  # seconds after the filler, or inside the answer
    line: str
    seed: int

    @property
    def question(self) -> str:
        return self.phrasing.question

    @property
    def value(self) -> Any:
        return self.phrasing.value

    @property
    def form(self) -> str:
        return self.phrasing.form

    @property
    def rate_band(self) -> str:
        return "100-115" if self.rate <= 115 else "130-160" if self.rate <= 160 else "175-190"

    @property
    def spoken(self) -> str:
        """What is said, with hesitations: "öö … ehkä … kolme"."""
        words = self.phrasing.text if self.hesitation == "inside" else self.phrasing.said
        words = " … ".join(p.strip() for p in words.split("|"))
        return f"{self.filler} … {words}" if self.filler else words

    @property
    def label(self) -> str:
        pause = {"none": "", "pause": f" {self.lead:.1f}s"}.get(
            self.hesitation, f" {self.gap:.1f}s"
        )
        return (
            f"{self.voice.label}/{self.rate}wpm/p{self.pitch}/{self.line}/{self.hesitation}{pause}"
        )


T = TypeVar("T")


class _Deck:
    """Draws from ``items`` in shuffled rounds: every item once before any twice."""

    def __init__(self, rng: random.Random, items: Sequence[T]) -> None:
        self.rng, self.items, self.left = rng, list(items), []

    def draw(self) -> Any:
        if not self.left:
            self.left = self.items[:]
            self.rng.shuffle(self.left)
        return self.left.pop()


def _deal(lang: str, part: str, jobs: list[tuple[Phrasing, tuple[Voice, ...], int]]):
    rng = random.Random(f"kanavat-speechset-{VERSION}-{lang}-{part}")
    rates, pitches = _Deck(rng, RATES), _Deck(rng, PITCHES)
    line_deck = _Deck(rng, lines.LINES)
    hesitations = {False: _Deck(rng, HESITATIONS), True: _Deck(rng, HESITATIONS_SPLIT)}
    voice_decks: dict[tuple[Voice, ...], _Deck] = {}
    out = []
    for phrasing, voices, renders in jobs:
        voice_deck = voice_decks.setdefault(voices, _Deck(rng, voices))
        for _ in range(renders):
            hesitation = hesitations["|" in phrasing.text].draw()
            filler = None
            if hesitation in ("filler", "filler2"):
                filler = FILLERS[lang][hesitation == "filler2"]
                hesitation = "filler"
            lead = rng.uniform(1.0, 1.5) if hesitation == "pause" else rng.uniform(0.3, 0.6)
            gap = rng.uniform(0.5, 1.5) if filler else rng.uniform(0.6, 1.5)
            out.append(
                SpeechClip(
                    id=f"{lang}-{part}-{len(out):04d}",
                    lang=lang,
                    part=part,
                    phrasing=phrasing,
                    voice=voice_deck.draw(),
                    rate=rates.draw(),
                    pitch=pitches.draw(),
                    hesitation=hesitation,
                    filler=filler,
                    lead=round(lead, 2),
                    gap=round(gap, 2) if hesitation in ("filler", "inside") else 0.0,
                    line=line_deck.draw(),
                    seed=rng.randrange(2**31),
                )
            )
    return out


@cache
def speech_set(lang: str, part: str) -> tuple[SpeechClip, ...]:
    """Every clip of one language's development or held-out part, in a fixed order."""
    if part not in PARTS:
        raise ValueError(part)
    phrasings = PHRASINGS[lang]
    dev_renders, held_voice_renders, held_phrasing_renders = RENDERS[lang]
    dev_voices, held_voices = VOICES[(lang, "dev")], VOICES[(lang, "held_out")]
    if part == "dev":
        jobs = [(p, dev_voices, dev_renders) for p in phrasings if not p.held_out]
    else:
        jobs = [(p, held_voices, held_voice_renders) for p in phrasings]
        jobs += [(p, dev_voices, held_phrasing_renders) for p in phrasings if p.held_out]
    return tuple(_deal(lang, part, jobs))


def quick(clips: Sequence[SpeechClip], every: int = 4) -> list[SpeechClip]:
    """A fixed quarter of a part (every 4th clip), for a fast check while tuning."""
    return list(clips[::every])


def cache_dir() -> Path:
    """Where clips are kept: ``$KANAVAT_SPEECHSET_CACHE``, else ``.cache/speechset`` in the
    checkout (gitignored). Keyed by what makes each clip, so sharing it is safe."""
    return Path(os.environ.get(CACHE_ENV) or ROOT / ".cache" / "speechset")


@dataclass(frozen=True)
class Rendered:
    pcm: np.ndarray  # 8 kHz int16 after the line and mu-law: the whole clip
    speech_end: float  # seconds: where the last word ends (the tail is silence or noise)


def _compose(clip: SpeechClip, folder: Path) -> tuple[np.ndarray, np.ndarray, int]:
    def say(text: str) -> np.ndarray:
        return segment(clip.voice, clip.rate, clip.pitch, text, folder)

    def quiet(seconds: float) -> np.ndarray:
        return np.zeros(round(seconds * RATE), dtype=np.int16)

    parts: list[tuple[np.ndarray, bool]] = [(quiet(clip.lead), False)]
    if clip.filler:
        parts += [(say(clip.filler), True), (quiet(clip.gap), False)]
    if clip.hesitation == "inside":
        pieces = [p.strip() for p in clip.phrasing.text.split("|")]
        for n, piece in enumerate(pieces):
            if n:
                parts.append((quiet(clip.gap), False))
            parts.append((say(piece), True))
    else:
        parts.append((say(clip.phrasing.said), True))
    end = sum(len(p) for p, _ in parts)
    parts.append((quiet(TAIL), False))
    pcm = np.concatenate([p for p, _ in parts])
    mask = np.concatenate([np.full(len(p), words, dtype=bool) for p, words in parts])
    return pcm, mask, end


def render(clip: SpeechClip) -> Rendered:
    """The clip as a call hears it (cached on disk by everything that makes it)."""
    folder = cache_dir()
    key = repr(("clip", VERSION, clip))
    path = folder / "clips" / (hashlib.sha1(key.encode()).hexdigest()[:20] + ".wav")
    pcm, mask, end = _compose(clip, folder)  # segments are cached; composing is cheap
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        heard = lines.apply(pcm, mask, clip.line, clip.seed, folder)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.wav")
        soundfile.write(str(tmp), heard, RATE, subtype="PCM_16")
        os.replace(tmp, path)
    heard, _ = soundfile.read(str(path), dtype="int16")
    return Rendered(heard, end / RATE)
