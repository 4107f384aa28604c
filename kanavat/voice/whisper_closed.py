"""A closed answer decided among the question's phrases scored by Whisper (``closed_set``).

The free decode (biased with the phrases, two hearings, n-best pooled) is the fallback and the
out-of-set reference: its best text is scored beside the shortlisted phrases and filled
pauses. A listed group that wins becomes the transcript, with a confidence from its posterior
and its fit (``confidence_from_decision``: both must be high for an answer to be taken
without asking); a filled pause that wins is no answer yet (the recogniser listens on); when
the free text wins (a form the list lacks: "kolmena päivänä", "tytär auttaa") the free
decode's transcript stands, for the normaliser to read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from kanavat.questions.cleaning import clean
from kanavat.voice import closed_set
from kanavat.voice.recognise import Transcript

if TYPE_CHECKING:
    from kanavat.voice.whisper import Hypothesis, WhisperEngine

# Decision -> confidence through (low, the dialog's 0.6, sure): the lower of the two readings.
# Chosen on the development part of the speech set only (bench/speechset, dev).
POSTERIOR_POINTS = (0.5, 0.9, 1.0)
FIT_POINTS = (-3.5, -2.7, -1.0)
CONFIDENCE_POINTS = (0.0, 0.6, 1.0)
SHORTLIST = 8
# The closed set raises the free decode's confidence only when its group agrees with what the
# free decode says, and is this sure and fits this well (chosen on dev: no wrong answer).
SURE_POSTERIOR = 0.9
SURE_FIT = -2.7
# Phrases are scored on the encoder output of the answer's own length and this much more
# (seconds), not the whole window: on 14 dev answers the same winner in 13 (the 14th a near
# tie either way), in half the time.
SCORE_MARGIN = 0.5
ENCODER_POSITIONS_PER_SECOND = 50


def confidence_from_decision(posterior: float, fit: float) -> float:
    by_posterior = float(np.interp(posterior, POSTERIOR_POINTS, CONFIDENCE_POINTS))
    by_fit = float(np.interp(fit, FIT_POINTS, CONFIDENCE_POINTS))
    return round(min(by_posterior, by_fit), 3)


def written(said: str) -> str:
    """A phrase as Whisper writes an answer: leading space, capital, full stop."""
    return " " + said[:1].upper() + said[1:] + "."


def decide(
    engine: WhisperEngine,
    encoded: np.ndarray,
    expected: tuple[str, ...],
    heard: list[list[Hypothesis]],
    fallback: Transcript,
    seconds: float,
) -> Transcript:
    """The closed-set decision on the first hearing's encoder output (``encoded[:1]``), cut
    to the answer's ``seconds`` and ``SCORE_MARGIN``."""
    tokenizer = engine.tokenizer
    listed = closed_set.candidates(expected, engine.language)
    texts = [h.text for hs in heard for h in hs]
    entries = [
        (c, engine.tokens(written(c.said))) for c in closed_set.shortlist(listed, texts, SHORTLIST)
    ]
    free = fallback.text.strip()
    if free and clean(free) not in {c.said for c, _ in entries}:
        group = closed_set.heard_group(free, listed)
        entries.append((closed_set.Candidate(clean(free), group), tokenizer.encode(" " + free)))
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    positions = min(
        encoded.shape[1], round((seconds + SCORE_MARGIN) * ENCODER_POSITIONS_PER_SECOND)
    )
    heard_here = np.ascontiguousarray(encoded[:1, :positions])
    totals = closed_set.score(
        engine.model.model, heard_here, start, [ids for _, ids in entries], tokenizer.eot
    )
    scored = [
        closed_set.Scored(c, t, len(ids) + 1) for (c, ids), t in zip(entries, totals, strict=True)
    ]
    decision = closed_set.decide(scored)
    if decision is None:
        return fallback
    detail = {**fallback.detail, "closed_set": decision.as_dict()}
    agrees = closed_set.heard_group(fallback.text, listed) == decision.group
    sure = decision.posterior >= SURE_POSTERIOR and decision.fit >= SURE_FIT
    if decision.group in (closed_set.FREE, closed_set.PAUSE) or not (agrees and sure):
        # Forced onto a phrase, a badly fitting answer was more often wrong than the free
        # decode read by the normaliser (dev): the free decode stands.
        detail["rule"] = "free decode (the closed set not sure, or another answer)"
        return replace(fallback, detail=detail)
    confidence = max(
        fallback.confidence, confidence_from_decision(decision.posterior, decision.fit)
    )
    detail["rule"] = "free decode confirmed by the closed set"
    return replace(fallback, confidence=confidence, detail=detail)


def _shares(decision: closed_set.Decision) -> tuple[tuple[str, float], ...]:
    """Every scored text with its share of the probability, best first (pauses left out)."""
    ranked = [s for s in decision.ranked if s.candidate.group != closed_set.PAUSE]
    if not ranked:
        return ()
    top = ranked[0].logprob
    weights = [float(np.exp(s.logprob - top)) for s in ranked]
    total = sum(weights)
    return tuple(
        (s.candidate.said, round(w / total, 4)) for s, w in zip(ranked, weights, strict=True)
    )
