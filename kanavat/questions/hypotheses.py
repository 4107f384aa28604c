"""A speech engine's hypotheses weighed by what each reads as.

Two readings of the same lists: :func:`by_hypotheses` lets an answer the engine ranked lower
be *asked about* when it outweighs the best transcript; :func:`agreed` lets an answer be
*taken without asking* when the engine's separate hearings of it (Whisper hears a closed
answer as said and slowed) and nearly all of their hypotheses read as that one value.
``read`` is the normaliser's reading of one text (passed in: the normaliser imports this
module).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from kanavat.questions.closest import CLOSEST_CONFIDENCE
from kanavat.questions.phrases import DONT_KNOW, SKIP, Value
from kanavat.questions.result import Result

Reader = Callable[[str], Result]
# One hearing's n-best list: (text, log-probability of the whole text), best first.
Hearing = tuple[tuple[str, float], ...]

# An answer is taken without asking when every hearing's best hypothesis reads as it, at
# least this share of all hypotheses do, and they hold this share of the probability. Chosen
# on the speech set's Finnish development part only (bench/speechset, every 2nd clip, 203
# answers): accepted right 16 % -> 34 % with no wrong answer taken; at 60 % of hypotheses or
# 80 % of the probability one wrong answer was taken ("huonosti" heard as "kolmasti", 3).
AGREED_HYPOTHESES = 0.7
AGREED_PROBABILITY = 0.9
# The confidence an agreed answer gets (times its reading's own): over the dialog's default
# confirmation threshold (0.6), under a county's stricter one if it sets one above 0.9.
AGREED_CONFIDENCE = 0.9


def agreed(
    reading: Result,
    heard: Result,
    hearings: Sequence[Hearing],
    read: Reader,
    hypotheses: float = AGREED_HYPOTHESES,
    probability: float = AGREED_PROBABILITY,
) -> Result:
    """``heard`` (``reading`` times the transcript's confidence) with its confidence raised
    to ``AGREED_CONFIDENCE`` times the reading's when the hearings agree on its value."""
    if heard.kind != "answer" or heard.value in (DONT_KNOW, SKIP) or len(hearings) < 2:
        return heard  # "don't know" and skip have rules of their own (the dialog's)
    if any(not h for h in hearings):
        return heard
    readings: dict[str, tuple[str, Value]] = {}

    def value_of(text: str) -> tuple[str, Value]:
        if text not in readings:
            r = read(text)
            readings[text] = (r.kind, r.value)
        return readings[text]

    target = ("answer", heard.value)
    if any(value_of(h[0][0]) != target for h in hearings):
        return heard
    every = [hyp for h in hearings for hyp in h]
    top = max(lp for _, lp in every)
    weights = [(value_of(text) == target, math.exp(lp - top)) for text, lp in every]
    share = sum(w for same, w in weights if same) / sum(w for _, w in weights)
    count = sum(1 for same, _ in weights if same) / len(weights)
    if count < hypotheses or share < probability:
        return heard
    raised = AGREED_CONFIDENCE * min(1.0, reading.confidence)
    if raised <= heard.confidence:
        return heard
    return Result(heard.kind, heard.value, raised, "hearings agree", heard.heard)


def by_hypotheses(
    heard: Result,
    hypotheses: tuple[tuple[str, float], ...],
    read: Reader,
    commands: bool = True,
) -> Result:
    """Weigh every hypothesis of the engine's n-best list by what it reads as.

    The reading with the most weight wins. If it is what the best transcript says, that
    reading stands (it may be accepted). An answer that outweighs the best transcript comes
    from hypotheses the engine ranked lower, so it is only ever asked about: its confidence is
    under any confirmation threshold. Commands are never voted in ("lopeta" must have been
    the best transcript), but they weigh against answers.
    """
    weights: dict[tuple[str, Value], float] = {}
    said: dict[tuple[str, Value], tuple[float, str]] = {}  # each reading's likeliest text
    for text, weight in hypotheses:
        reading = read(text)
        if reading.kind != "no_match":
            key = (reading.kind, reading.value)
            weights[key] = weights.get(key, 0.0) + max(0.0, weight)
            if weight > said.get(key, (-1.0, ""))[0]:
                said[key] = (weight, text)
    candidates = {k: w for k, w in weights.items() if commands or k[0] == "answer"}
    if not candidates:
        return heard
    (kind, value), weight = max(candidates.items(), key=lambda kv: kv[1])
    if kind != "answer" or (heard.kind == kind and heard.value == value):
        return heard
    share = weight / (sum(weights.values()) or 1.0)  # commands' weight counts against it
    heard_as = said[(kind, value)][1]
    return Result("answer", value, CLOSEST_CONFIDENCE * share, "n-best", heard_as)
