"""A misheard transcript's closest expected answer: fuzzy matching of what a recogniser wrote
against the question's own answers, only when one value is clearly closest. Its confidence is
always under the confirmation threshold, so the resident is asked, never filed."""

from __future__ import annotations

from rapidfuzz import fuzz

from kanavat.questions.cleaning import clean
from kanavat.questions.lexicon import Lexicon
from kanavat.questions.model import NumberQuestion, Question, ScaleQuestion, TextQuestion
from kanavat.questions.phrases import Value, phrase_table

CLOSEST_MIN = 55  # rapidfuzz ratio of a transcript to an expected answer worth asking about
CLOSEST_MARGIN = 12  # over the best phrase of any other value: otherwise it is a guess
CLOSEST_CONFIDENCE = 0.45  # always under the confirmation threshold: the resident decides


def closest_answer(question: Question, raw: str, lex: Lexicon) -> tuple[Value, float] | None:
    """A transcript that misheard an expected answer ("en elijää" for "neljä", "saa huvi" for
    "naapuri") maps to the closest one when it is clearly closest; its low confidence makes the
    dialog ask "Vastasit neljä, pitääkö paikkansa?" instead of accepting it."""
    heard = clean(raw)
    if not heard or isinstance(question, TextQuestion):
        return None
    candidates = answer_phrases(question, lex)
    best: dict[Value, float] = {}
    for phrase, value in candidates:
        score = max(
            fuzz.ratio(heard, phrase), fuzz.ratio(heard.replace(" ", ""), phrase.replace(" ", ""))
        )
        best[value] = max(best.get(value, 0.0), score)
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    value, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < CLOSEST_MIN or score - runner_up < CLOSEST_MARGIN:
        return None
    return value, CLOSEST_CONFIDENCE * score / 100


def answer_phrases(question: Question, lex: Lexicon) -> list[tuple[str, Value]]:
    """The question's own answers as (phrase, value): no commands, no "don't know"."""
    out = [
        (clean(p), value)
        for category, value, p in phrase_table(question, lex)
        if category in ("yes", "no", "option", "scale_label")  # what a recogniser listens for
    ]
    if isinstance(question, ScaleQuestion | NumberQuestion):
        out += [(w, v) for w, v in lex.numbers.items() if question.min <= v <= question.max]
    return [(p, v) for p, v in out if len(p) >= 3]
