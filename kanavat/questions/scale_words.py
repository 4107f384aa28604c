"""Scale words: "hyvin", "melko huonosti", "kohtalaisesti" placed on a scale by its end labels.

A scale's ``min_label`` and ``max_label`` ("huonosti" ... "hyvin", "hyvin vaikeaa" ... "hyvin
helppoa") name its poles by the lexicon's ``[scale.poles]`` meanings. A resident's pole word
is then read against them: the label itself is that end (said, so sure); an extreme word with
the pole ("erittäin hyvin") is the end, a moderate one ("melko hyvin") a step in, a middle
word the middle. Those are readings, not numbers said, so they come marked for the dialog to
ask about. A bare pole word against an intensified label ("hyvin" against "tosi hyvin") could
be either of two points and is not read at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from kanavat.questions.lexicon import Lexicon
from kanavat.questions.meanings import same_phrase
from kanavat.questions.model import ScaleQuestion

MAX_STEPS_FOR_DEGREES = 4  # "melko hyvin" is 4 of 1-5; on 0-10 it could be 6 to 9: not read


@dataclass(frozen=True)
class ScalePhrase:
    value: int
    phrase: str
    label: bool  # the scale's own end label: said, not read into
    typical: bool = True  # worth listing for a recogniser (the label's own pole word)


@dataclass(frozen=True)
class _Pole:
    meaning: str
    intensified: bool


def _pole(label: str, lex: Lexicon) -> _Pole | None:
    words = label.casefold().split()
    if not words:
        return None
    last = words[-1]
    extreme = lex.degrees.get("extreme", frozenset())
    # A compound with its intensifier ("jättebra", "superhyvä") is the intensified pole.
    prefix = next((d for d in extreme if last.startswith(d) and len(last) > len(d) + 1), "")
    for meaning, members in lex.scale_poles.items():
        for word in {last, last[len(prefix) :]}:
            if any(same_phrase(word, m, lex) for m in members):
                intensified = word != last or any(w in extreme for w in words[:-1])
                return _Pole(meaning, intensified)
    return None


def scale_phrases(question: ScaleQuestion, language: str, lex: Lexicon) -> list[ScalePhrase]:
    """Every scale word this question understands, with the value it reads as."""
    if question.min_label is None or question.max_label is None:
        return []
    low_label = question.min_label.get(language, "")
    high_label = question.max_label.get(language, "")
    out = [ScalePhrase(question.min, low_label, True), ScalePhrase(question.max, high_label, True)]
    low, high = _pole(low_label, lex), _pole(high_label, lex)
    if low is None or high is None or low.meaning == high.meaning:
        return out  # the labels themselves are still the scale's ends
    narrow = question.max - question.min <= MAX_STEPS_FOR_DEGREES
    for pole, label, end, step in (
        (low, low_label, question.min, 1),
        (high, high_label, question.max, -1),
    ):
        words = lex.scale_poles[pole.meaning]
        own = label.casefold().split()[-1]
        own = next((w for w in words if own.endswith(w)), own)  # "jättebra" is written "bra"
        if not pole.intensified:
            out += [ScalePhrase(end, w, False) for w in words]
        for degree in sorted(lex.degrees.get("extreme", ())):
            out += [
                ScalePhrase(end, f"{degree} {w}", False, w == own) for w in words if w != degree
            ]
        if narrow and question.max - question.min >= 3:
            for degree in sorted(lex.degrees.get("moderate", ())):
                out += [ScalePhrase(end + step, f"{degree} {w}", False, w == own) for w in words]
    span = question.max - question.min
    if narrow and span % 2 == 0:
        out += [ScalePhrase(question.min + span // 2, w, False) for w in lex.middle]
    return out
