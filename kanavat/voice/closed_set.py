"""Closed-set scoring: a closed question's answers scored against the audio, IVR-style.

Whisper decoding freely writes what it thinks it heard; for a closed question that is often a
near miss, and a decoding biased with the answers writes the bias in place of what was said.
Here a shortlist of the question's phrases, the language's filled pauses and the free
decode's best text (the out-of-set reference, as an IVR grammar's garbage model) are forced
through Whisper's decoder on the encoder output already computed, in one batch, and each
text's log-probability (end of text included) is summed. Phrases are grouped by what they
mean (numbers, yes/no, "don't know", commands, the lexicon's meanings: "tytär" and "omainen"
are one group), so the posterior is that of a *value* against the others.

The engine (``whisper.py``) turns the decision into a transcript; this module holds the
grouping, the shortlist and the arithmetic, and knows nothing of calls or questions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import ctranslate2
import numpy as np
from rapidfuzz import fuzz

from kanavat.questions.cleaning import clean
from kanavat.questions.lexicon import Lexicon, UnknownLanguage, lexicon
from kanavat.questions.morphology import word_keys

PAUSE = "pause"  # the group of filled pauses: no answer yet
FREE = "free"  # the free decode's text when it says no single listed group
# A free hypothesis' word this close (rapidfuzz ratio) to a phrase's word says that phrase;
# a phrase this close to a hypothesis is worth scoring.
NEAR = 75


@dataclass(frozen=True)
class Candidate:
    said: str  # cleaned text
    group: str  # what it means: "number:3", "yes", "meaning:kin", "phrase:<text>", PAUSE


def _lexicon(language: str) -> Lexicon | None:
    try:
        return lexicon(language)
    except UnknownLanguage:
        return None


def group_of(phrase: str, lex: Lexicon | None) -> str:
    """What a phrase means in the lexicon's terms, or the phrase itself."""
    said = clean(phrase)
    if lex is None:
        return f"phrase:{said}"
    if said in lex.numbers:
        return f"number:{lex.numbers[said]}"
    words = said.split()
    hedged = [w for w in words if w not in lex.hedges]
    if len(words) == 2 and len(hedged) == 1 and hedged[0] in lex.numbers:
        return f"number:{lex.numbers[hedged[0]]}"  # "ehkä kolme"
    for name, phrases in (
        ("yes", (*lex.yes, *lex.yes_alone)),
        ("no", lex.no),
        ("dont_know", lex.dont_know),
        ("skip", lex.skip),
        *((f"command:{c}", p) for c, p in lex.commands.items()),
    ):
        if said in {clean(p) for p in phrases}:
            return name
    if said in lex.filled_pauses:
        return PAUSE
    keys = [word_keys(w, lex.language, lex.stemmer) for w in words]
    for meaning, members in lex.meanings.items():
        if meaning in lex.periods:
            continue
        for member in members:
            mk = [word_keys(w, lex.language, lex.stemmer) for w in clean(member).split()]
            if len(mk) == len(keys) and all(a & b for a, b in zip(mk, keys, strict=True)):
                return f"meaning:{meaning}"
    return f"phrase:{said}"


SPECIAL = ("skip", "dont_know", PAUSE)


@lru_cache(maxsize=4096)
def special(phrase: str, language: str) -> bool:
    """A command, skip, "don't know" or filled pause: no answer to the question itself."""
    group = group_of(phrase, _lexicon(language))
    return group in SPECIAL or group.startswith("command:")


@lru_cache(maxsize=256)
def candidates(expected: tuple[str, ...], language: str) -> tuple[Candidate, ...]:
    """The question's phrases with their groups, and the language's filled pauses.

    One-letter phrases ("k", "e") are typed, not said. On a yes/no question the numbers
    (keys 1 and 2) are left out: spoken, "ykkö" is what Whisper makes of "öö"."""
    lex = _lexicon(language)
    found: dict[str, str] = {}
    for phrase in expected:
        said = clean(phrase)
        if len(said) >= 2 and said not in found:
            found[said] = group_of(said, lex)
    groups = set(found.values())
    if {"yes", "no"} <= groups:
        found = {p: g for p, g in found.items() if not g.startswith("number:")}
    if lex is not None:
        for pause in lex.filled_pause_order:  # the typical ones first
            if len(pause) >= 2:
                found[pause] = PAUSE
    return tuple(Candidate(p, g) for p, g in found.items())


def heard_group(text: str, listed: Sequence[Candidate]) -> str:
    """The group a free hypothesis says: the one group whose phrase it holds (filled pauses
    aside: "öö kolme" is 3), a pause if it holds only pauses, else FREE."""
    words = [w for w in clean(text).split()]
    pauses = {c.said for c in listed if c.group == PAUSE}
    core = [w for w in words if w not in pauses]
    if words and not core:
        return PAUSE
    groups = set()
    for c in listed:
        if c.group == PAUSE:
            continue
        phrase = c.said.split()
        n = len(phrase)
        for start in range(len(core) - n + 1):
            if core[start : start + n] == phrase:
                groups.add(c.group)
    return groups.pop() if len(groups) == 1 else FREE


def shortlist(listed: Sequence[Candidate], heard: Sequence[str], size: int) -> list[Candidate]:
    """The phrases worth scoring: each group's first (most typical) phrase, then phrases near
    what the free decode wrote, at most ``size``; the likeliest filled pauses always."""
    said = [clean(h) for h in heard if clean(h)]

    def near(c: Candidate) -> float:
        return max((fuzz.partial_ratio(c.said, h) for h in said), default=0.0)

    answers = [c for c in listed if c.group != PAUSE]
    firsts: dict[str, Candidate] = {}
    for c in answers:
        firsts.setdefault(c.group, c)
    close = sorted((c for c in answers if near(c) >= NEAR), key=near, reverse=True)
    chosen = list(dict.fromkeys([*close[: size // 2], *firsts.values()]))[:size]
    pauses = [c for c in listed if c.group == PAUSE][:2]
    return chosen + pauses


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))


def score(
    model: ctranslate2.models.Whisper,
    encoded: np.ndarray,
    start: list[int],
    sequences: Sequence[list[int]],
    eot: int,
) -> list[float]:
    """Summed log-probability of each token sequence, end of text included, given one
    hearing's encoder output ([1, frames, dims]). One batched call: each sequence is the
    decoder's forced prefix; CTranslate2 returns the logits of every forced step and the next."""
    if not sequences:
        return []
    batch = ctranslate2.StorageView.from_array(
        np.ascontiguousarray(np.repeat(encoded, len(sequences), axis=0))
    )
    results = model.generate(
        batch,
        [start + list(s) for s in sequences],
        beam_size=1,
        max_length=len(start) + max(len(s) for s in sequences) + 1,
        return_logits_vocab=True,
        suppress_blank=False,  # would hide P(end) right after the forced text
        suppress_tokens=[],
    )
    totals = []
    for seq, result in zip(sequences, results, strict=True):
        rows = _log_softmax(np.asarray(result.logits[0], dtype=np.float32))
        wanted = [*seq, eot]
        if len(rows) < len(wanted):
            totals.append(-math.inf)
            continue
        totals.append(sum(float(rows[i, t]) for i, t in enumerate(wanted)))
    return totals


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    logprob: float  # summed over its tokens and the end
    tokens: int  # its tokens, the end included

    @property
    def fit(self) -> float:
        """Mean log-probability per token: how well the text explains the audio at all."""
        return self.logprob / max(1, self.tokens)


@dataclass(frozen=True)
class Decision:
    group: str
    said: str  # the winning group's likeliest text
    posterior: float  # of the group, against every other group scored
    fit: float  # of that text
    ranked: tuple[Scored, ...]
    groups: tuple[tuple[str, float], ...]  # every group's posterior, best first

    def as_dict(self) -> dict[str, object]:
        """For ``kanavat speech try``."""
        return {
            "group": self.group,
            "said": self.said,
            "posterior": round(self.posterior, 4),
            "fit": round(self.fit, 3),
            "groups": [[g, round(p, 4)] for g, p in self.groups[:6]],
            "candidates": [
                [s.candidate.said, s.candidate.group, round(s.logprob, 2), round(s.fit, 2)]
                for s in self.ranked[:10]
            ],
        }


def decide(scored: Sequence[Scored]) -> Decision | None:
    """Group posteriors from the candidates' summed log-probabilities (a softmax)."""
    usable = [s for s in scored if math.isfinite(s.logprob)]
    if not usable:
        return None
    top = max(s.logprob for s in usable)
    weights: dict[str, float] = {}
    for s in usable:
        weights[s.candidate.group] = weights.get(s.candidate.group, 0.0) + math.exp(s.logprob - top)
    total = sum(weights.values())
    groups = tuple(sorted(((g, w / total) for g, w in weights.items()), key=lambda gw: -gw[1]))
    ranked = tuple(sorted(usable, key=lambda s: -s.logprob))
    best = next(s for s in ranked if s.candidate.group == groups[0][0])
    return Decision(groups[0][0], best.candidate.said, groups[0][1], best.fit, ranked, groups)
