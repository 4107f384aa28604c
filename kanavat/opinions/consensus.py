"""Consensus statements: what every opinion group agrees (or disagrees) on.

Group-informed consensus (Small et al. 2021): for each statement, the product over groups of
each group's smoothed agree rate, (agrees + 1) / (seen + 2). A statement a large group loves and
a small group rejects scores low, so the measure cannot be won by the majority alone. The same
product of disagree rates gives consensus against. A consensus statement is one where a majority
of every group is on the same side: every group's rate above one half at 90 % confidence (the
one-proportion test of ``repness``); the highest products come first, at most five each way.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from kanavat.opinions.matrix import VoteMatrix
from kanavat.opinions.repness import PICK, Z_90, Direction, smoothed, z_above_half


@dataclass(frozen=True)
class Consensus:
    statement: Hashable
    direction: Direction
    score: float  # the product over groups
    group_rates: tuple[float, ...]


def group_informed(
    matrix: VoteMatrix, groups: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Agree and disagree products per statement, the per-group rates (groups x statements)
    and the per-group votes seen."""
    agree_rates, disagree_rates, seen_by_group = [], [], []
    for rows in groups:
        agree, disagree, seen = matrix.counts(rows)
        agree_rates.append(smoothed(agree, seen))
        disagree_rates.append(smoothed(disagree, seen))
        seen_by_group.append(seen)
    agree_by_group = np.array(agree_rates)
    disagree_by_group = np.array(disagree_rates)
    return (
        agree_by_group.prod(axis=0),
        disagree_by_group.prod(axis=0),
        agree_by_group,
        disagree_by_group,
        np.array(seen_by_group),
    )


def statements(matrix: VoteMatrix, groups: list[np.ndarray]) -> list[Consensus]:
    """Consensus statements over ``groups`` (boolean row masks; one mask for an ungrouped crowd)."""
    if not groups or matrix.values.shape[1] == 0:
        return []
    agree, disagree, agree_by_group, disagree_by_group, seen_by_group = group_informed(
        matrix, groups
    )
    confident = {
        "agree": (z_above_half(agree_by_group, seen_by_group) > Z_90).all(axis=0),
        "disagree": (z_above_half(disagree_by_group, seen_by_group) > Z_90).all(axis=0),
    }
    seen = matrix.counts(np.any(groups, axis=0))[2]
    found: list[Consensus] = []
    for direction, score, rates in (  # rates: each group's, reported beside the product
        ("agree", agree, agree_by_group),
        ("disagree", disagree, disagree_by_group),
    ):
        chosen = [
            column
            for column in np.argsort(-score)
            if seen[column] > 0 and bool(confident[direction][column])
        ][:PICK]
        found.extend(
            Consensus(
                matrix.statements[column],
                direction,  # type: ignore[arg-type]
                float(score[column]),
                tuple(float(r) for r in rates[:, column]),
            )
            for column in chosen
        )
    return found
