"""Representative statements: what sets each opinion group apart from everyone else.

For a group and a statement, as the Polis paper and documentation describe: the group's agree
(or disagree) rate, smoothed with one pseudo-vote each way, (votes + 1) / (seen + 2); a one-
proportion z-test that the rate is above one half; the ratio of the group's rate to the rest's
rate (representativeness); and a two-proportion z-test that the group's rate is above the rest's.
A statement represents the group when both tests pass at 90 % confidence; the strongest (the
product of rate, ratio and both z-scores) come first, at most five per group. A group with no
significant statement still gets its single strongest one, as in Polis.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kanavat.opinions.matrix import VoteMatrix

Z_90 = 1.2816  # one-sided 90 % confidence
PICK = 5
Direction = Literal["agree", "disagree"]


@dataclass(frozen=True)
class Representative:
    statement: Hashable
    direction: Direction
    rate: float  # smoothed share of the group voting that way
    rest_rate: float
    ratio: float
    z_rate: float
    z_versus_rest: float
    significant: bool

    @property
    def strength(self) -> float:
        return self.rate * self.ratio * self.z_rate * self.z_versus_rest


def smoothed(votes: np.ndarray, seen: np.ndarray) -> np.ndarray:
    return (votes + 1.0) / (seen + 2.0)


def z_above_half(rate: np.ndarray, seen: np.ndarray) -> np.ndarray:
    return (rate - 0.5) / np.sqrt(0.25 / (seen + 1.0))


def z_two_proportions(
    votes: np.ndarray, seen: np.ndarray, rest_votes: np.ndarray, rest_seen: np.ndarray
) -> np.ndarray:
    rate = smoothed(votes, seen)
    rest = smoothed(rest_votes, rest_seen)
    pooled = (votes + rest_votes + 2.0) / (seen + rest_seen + 4.0)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / (seen + 2.0) + 1 / (rest_seen + 2.0)))
    return np.divide(rate - rest, spread, out=np.zeros_like(rate), where=spread > 0)


def for_group(
    matrix: VoteMatrix, in_group: np.ndarray, grouped: np.ndarray
) -> list[Representative]:
    """Representative statements of one group (``in_group``) against the other grouped people."""
    rest = grouped & ~in_group
    agree, disagree, seen = matrix.counts(in_group)
    rest_agree, rest_disagree, rest_seen = matrix.counts(rest)
    found: list[Representative] = []
    for direction, votes, rest_votes in (
        ("agree", agree, rest_agree),
        ("disagree", disagree, rest_disagree),
    ):
        rate = smoothed(votes, seen)
        rest_rate = smoothed(rest_votes, rest_seen)
        z_rate = z_above_half(rate, seen)
        z_rest = z_two_proportions(votes, seen, rest_votes, rest_seen)
        for column, statement in enumerate(matrix.statements):
            if seen[column] == 0:
                continue
            found.append(
                Representative(
                    statement,
                    direction,  # type: ignore[arg-type]
                    float(rate[column]),
                    float(rest_rate[column]),
                    float(rate[column] / rest_rate[column]),
                    float(z_rate[column]),
                    float(z_rest[column]),
                    bool(z_rate[column] > Z_90 and z_rest[column] > Z_90),
                )
            )
    # One direction per statement: the one with the larger ratio (Polis's "repful").
    best: dict[Hashable, Representative] = {}
    for item in found:
        if item.statement not in best or item.ratio > best[item.statement].ratio:
            best[item.statement] = item
    ranked = sorted(best.values(), key=lambda r: r.strength, reverse=True)
    significant = [r for r in ranked if r.significant]
    return significant[:PICK] if significant else ranked[:1]
