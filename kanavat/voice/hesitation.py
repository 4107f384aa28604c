"""Is a closed answer's first piece an answer yet? Filled pauses and answer-less starts.

Elderly callers hesitate: "öö ... kolme", "tota ... kaksi", "ehkä ... neljä", "en minä ...
saa". A pause longer than the segmenter's end silence (0.7 s) cuts such an answer in two,
and the first piece alone is no answer ("öö" written "ykkö" reads as 1). Rather than wait
longer after every short piece (a second for every "ei" and "joo"), the recogniser looks at
what the first piece says: only when it holds no answer phrase of the question (filled pauses
and hedges only, or a short piece saying none of the listed answers) does it listen on for
the rest. Filled pauses, hedges and commands come from the language's lexicon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from kanavat.questions.cleaning import clean
from kanavat.questions.lexicon import UnknownLanguage, lexicon

# A first piece at most this long (voiced, in seconds) that says no listed answer is held.
SHORT_PIECE = 1.0
# A word of at least this many letters matches an answer word this close (rapidfuzz ratio):
# Whisper's near misses ("kolmone", "naapurit") still say the answer, so are not held.
NEAR = 75
NEAR_LENGTH = 4


@dataclass(frozen=True)
class Answers:
    """A closed question's answer phrases (commands left out) and the language's pause words."""

    phrases: tuple[tuple[str, ...], ...]
    pauses: frozenset[str]  # filled pauses: never part of an answer
    hesitant: frozenset[str]  # words that alone are no answer yet: pauses, hedges, filler


@lru_cache(maxsize=256)
def answers_of(expected: tuple[str, ...], language: str) -> Answers:
    try:
        lex = lexicon(language)
    except UnknownLanguage:
        return Answers(tuple(tuple(clean(p).split()) for p in expected), frozenset(), frozenset())
    commands = {clean(p) for ps in lex.commands.values() for p in ps}
    pauses = frozenset(lex.filled_pauses)
    phrases = []
    for phrase in expected:
        words = tuple(w for w in clean(phrase).split() if w not in pauses)
        if words and clean(phrase) not in commands:
            phrases.append(words)
    hesitant = (pauses | set(lex.hedges) | lex.filler) - lex.yes_alone
    return Answers(tuple(phrases), pauses, frozenset(hesitant))


def _word_matches(word: str, target: str) -> bool:
    if word == target:
        return True
    if len(word) >= NEAR_LENGTH and len(target) >= NEAR_LENGTH:
        return fuzz.ratio(word, target) >= NEAR
    return False


def says_an_answer(text: str, answers: Answers) -> bool:
    """Does the text say one of the answer phrases (each word, in order, near enough)?"""
    words = [w for w in clean(text).split() if w not in answers.pauses]
    for phrase in answers.phrases:
        n = len(phrase)
        for start in range(len(words) - n + 1):
            if all(_word_matches(words[start + i], phrase[i]) for i in range(n)):
                return True
    return False


def only_hesitation(text: str, answers: Answers) -> bool:
    """Filled pauses, hedges and filler words only ("öö", "ehkä", "sanoisin että")."""
    words = clean(text).split()
    return bool(words) and all(w in answers.hesitant for w in words)


def no_answer_yet(
    text: str,
    voiced: float,
    expected: Sequence[str],
    language: str,
    readings: Sequence[str] = (),
) -> str | None:
    """Why a closed answer's first piece is no answer yet, or None if it may be one:
    ``"filled-pause"`` (hesitation words only: the rest is heard alone) or ``"no-answer"``
    (a short piece saying no listed answer in ``text`` nor in any of the engine's other
    likely ``readings`` of it: heard again with the rest)."""
    answers = answers_of(tuple(expected), language)
    if only_hesitation(text, answers):
        return "filled-pause"
    if voiced <= SHORT_PIECE and not any(says_an_answer(t, answers) for t in (text, *readings)):
        return "no-answer"
    return None
