"""Survey statistics for reports: AAPOR outcome rates, post-stratification weights, intervals.

Pure functions over counts, so they can be checked by hand against the AAPOR Standard
Definitions (10th edition, 2023) and textbook formulas. Nothing here knows the store or HTML.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The normal quantile for a two-sided 95 % interval."""

DISPOSITIONS = (
    "complete",
    "partial",
    "refusal",
    "non_contact",
    "other",
    "unknown",
    "not_eligible",
)
"""The AAPOR-mapped final dispositions the scheduler writes, plus ``pending`` (not final)."""


@dataclass(frozen=True)
class Outcomes:
    """Case counts in AAPOR's terms: I, P, R, NC, O, UH+UO (``U``) and NE."""

    I: int = 0  # noqa: E741 - AAPOR's own letter
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741
    U: int = 0
    NE: int = 0

    @property
    def total(self) -> int:
        return self.I + self.P + self.R + self.NC + self.O + self.U + self.NE


_CODE = {
    "complete": "I",
    "partial": "P",
    "refusal": "R",
    "non_contact": "NC",
    "other": "O",
    "unknown": "U",
    "not_eligible": "NE",
    # A stratum whose quota of completes was met: AAPOR 4.80 "quota filled", not eligible.
    "quota_filled": "NE",
}


def final_disposition(disposition: str, attempts: int) -> str:
    """The disposition used for rates; ``pending`` cases are not final yet.

    For an interim report AAPOR counts a case not yet resolved by what is known of it: one
    never attempted has unknown eligibility (UH, code 3.11), one attempted without reaching
    anybody is a non-contact (NC). Anything unrecognised is "other" rather than dropped.
    """
    if disposition == "pending":
        return "non_contact" if attempts > 0 else "unknown"
    return disposition if disposition in _CODE else "other"


def outcomes(cases: Iterable[tuple[str, int]]) -> Outcomes:
    """Count ``(disposition, attempts)`` pairs into AAPOR outcome codes."""
    counts = dict.fromkeys(_CODE.values(), 0)
    for disposition, attempts in cases:
        counts[_CODE[final_disposition(disposition, attempts)]] += 1
    return Outcomes(**counts)


def eligibility_rate(o: Outcomes) -> float:
    """AAPOR's *e* for RR3: the eligible share among cases whose eligibility is resolved."""
    eligible = o.I + o.P + o.R + o.NC + o.O
    resolved = eligible + o.NE
    return eligible / resolved if resolved else 1.0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def rates(o: Outcomes) -> dict[str, float | None]:
    """RR1, RR2, RR3, COOP1 and REF1 as in the AAPOR Standard Definitions, and *e*."""
    e = eligibility_rate(o)
    base = (o.I + o.P) + (o.R + o.NC + o.O)
    return {
        "RR1": _ratio(o.I, base + o.U),
        "RR2": _ratio(o.I + o.P, base + o.U),
        "RR3": _ratio(o.I, base + e * o.U),
        "COOP1": _ratio(o.I, (o.I + o.P) + o.R + o.O),
        "REF1": _ratio(o.R, base + o.U),
        "e": e,
    }


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval: unlike the plain normal interval it stays inside 0..1 and
    behaves for small counts and shares near 0 or 1, which council tables often have."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Stratum:
    """One stratum for one question: its pool size and its respondents' answers."""

    pool: int
    respondents: int
    hits: float


def stratified_share(strata: Iterable[Stratum]) -> tuple[float, tuple[float, float]] | None:
    """Post-stratified share and its 95 % interval.

    The share is sum_h W_h p_h with W_h the pool share of stratum h among strata that have
    respondents. The variance is the stratified-sampling one with a finite population
    correction, sum_h W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1); the interval is Wilson's
    with the effective sample size p(1-p)/var, so it stays within 0..1.
    """
    used = [s for s in strata if s.respondents > 0 and s.pool > 0]
    total_pool = sum(s.pool for s in used)
    if not used or total_pool == 0:
        return None
    share = 0.0
    variance = 0.0
    n = 0
    for s in used:
        weight = s.pool / total_pool
        p = s.hits / s.respondents
        share += weight * p
        fpc = max(0.0, 1 - s.respondents / s.pool)
        if s.respondents > 1:
            variance += weight * weight * fpc * p * (1 - p) / (s.respondents - 1)
        n += s.respondents
    share = min(1.0, max(0.0, share))
    effective = share * (1 - share) / variance if variance > 0 and 0 < share < 1 else n
    interval = wilson(share * effective, effective)
    assert interval is not None
    return share, interval


def stratum_weights(pool: Mapping[str, int], respondents: Mapping[str, int]) -> dict[str, float]:
    """Post-stratification weight per stratum: pool share / respondents' share.

    Strata without respondents get no weight; the others' pool shares are renormalised so
    that the weights sum to the number of respondents.
    """
    used = {h: n for h, n in respondents.items() if n > 0 and pool.get(h, 0) > 0}
    total_pool = sum(pool[h] for h in used)
    total_n = sum(used.values())
    if not total_pool or not total_n:
        return {}
    return {h: (pool[h] / total_pool) / (n / total_n) for h, n in used.items()}


def difference_interval(
    a: float, a_interval: tuple[float, float], b: float, b_interval: tuple[float, float]
) -> tuple[float, float]:
    """95 % interval of a - b for independent estimates, each standard error recovered from
    its own interval's half-width (Newcombe's square-and-add method for Wilson intervals)."""
    lower_a, upper_a = a_interval
    lower_b, upper_b = b_interval
    diff = a - b
    low = diff - math.sqrt((a - lower_a) ** 2 + (upper_b - b) ** 2)
    high = diff + math.sqrt((upper_a - a) ** 2 + (b - lower_b) ** 2)
    return max(-1.0, low), min(1.0, high)


PROMOTERS = (9, 10)
DETRACTORS = (0, 1, 2, 3, 4, 5, 6)


def nps(counts: Mapping[int, int]) -> float | None:
    """Net Promoter Score in points (-100..100): promoters (9-10) minus detractors (0-6), as
    shares of those who gave a number 0-10."""
    base = sum(counts.get(v, 0) for v in range(11))
    if not base:
        return None
    promoters = sum(counts.get(v, 0) for v in PROMOTERS)
    detractors = sum(counts.get(v, 0) for v in DETRACTORS)
    return 100 * (promoters - detractors) / base


def nps_interval(counts: Mapping[int, int], z: float = Z95) -> tuple[float, float] | None:
    """95 % interval of the NPS by the adjusted Wald method (Rocks 2016): 3/4 of a promoter
    and of a detractor added, the variance of a difference of two multinomial shares. It keeps
    a sensible width for small groups and extreme scores, as service units often have."""
    base = sum(counts.get(v, 0) for v in range(11))
    if not base:
        return None
    n = base + 3
    p = (sum(counts.get(v, 0) for v in PROMOTERS) + 0.75) / n
    d = (sum(counts.get(v, 0) for v in DETRACTORS) + 0.75) / n
    centre = p - d
    half = z * math.sqrt(max(0.0, p + d - centre * centre) / n)
    return max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))
