"""Which statement to offer next: Polis's published comment priority.

For a statement with A agrees, P passes and S votes seen, and E its distance from the centre of
the opinion map (how strongly it separates people):

    importance = (1 - p) * (E + 1) * a,   a = (A + 1) / (S + 2),   p = (P + 1) / (S + 2)
    priority   = (importance * (1 + 8 * 2 ** (-S / 5))) ** 2

The second factor is the novelty boost: a new statement (S = 0) counts nine times, fading as it
collects votes. The next statement is drawn at random weighted by priority among those the
participant has not voted on, so short phone sessions vote where it matters and every statement
still gets seen.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np

from kanavat.opinions.matrix import PASS, VoteMatrix


def priorities(matrix: VoteMatrix, extremity: np.ndarray | None = None) -> dict[Hashable, float]:
    agree, _, seen = matrix.counts()
    passes = (matrix.values == PASS).sum(axis=0)
    if extremity is None:
        extremity = np.zeros(len(matrix.statements))
    agree_rate = (agree + 1.0) / (seen + 2.0)
    pass_rate = (passes + 1.0) / (seen + 2.0)
    importance = (1 - pass_rate) * (extremity + 1) * agree_rate
    novelty = 1 + 8 * np.power(2.0, -seen / 5.0)
    values = (importance * novelty) ** 2
    return {s: float(v) for s, v in zip(matrix.statements, values, strict=True)}


def next_statement(
    priority: dict[Hashable, float],
    candidates: Iterable[Hashable],
    rng: np.random.Generator,
    default: float = 1.0,
) -> Hashable | None:
    """Draw one of ``candidates`` weighted by priority; a statement with no votes yet gets
    ``default`` (callers pass the priority of a brand-new statement)."""
    pool = list(candidates)
    if not pool:
        return None
    weights = np.array([max(priority.get(s, default), 1e-12) for s in pool])
    return pool[int(rng.choice(len(pool), p=weights / weights.sum()))]


def new_statement_priority() -> float:
    """The priority of a statement nobody has voted on yet (E = 0)."""
    return float((0.25 * 9) ** 2)
