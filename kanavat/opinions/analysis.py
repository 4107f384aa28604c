"""One update of a conversation's opinion map: projection, groups, representative and consensus
statements and next-statement priorities, from the votes and the previous update's history.

Polis groups only participants with at least min(7, statements) votes (passes count): fewer
votes place a person too uncertainly. They still count in priorities and in consensus when there
are no groups.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from kanavat.opinions import clustering, consensus, latent, priority, repness, structure
from kanavat.opinions.clustering import GroupHistory
from kanavat.opinions.matrix import VoteMatrix
from kanavat.opinions.projection import Projection, project
from kanavat.opinions.projection import deeper as projection_deeper

MIN_VOTES = 7


def _one_thread():  # type: ignore[no-untyped-def]
    """Run numpy's BLAS and scikit-learn's OpenMP on this thread only. Their worker threads
    spin while they wait, and this recompute is a background job sharing the cores with speech:
    on two busy cores one 2,000-participant recompute took 8 CPU-s with the default threads
    and 0.4 s on one thread (the same groups). OpenMP's limit holds for this thread only;
    OpenBLAS's is process-wide while it lasts (under a second), restored after. Imported when
    used, like scikit-learn."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


DEEP_COMPONENTS = 6  # k + 1 for the most groups (5): EM's second start


@dataclass(frozen=True)
class Analysis:
    matrix: VoteMatrix
    projection: Projection
    groups: dict[Hashable, int]  # grouped participant -> group label 0..k-1
    k: int  # 0: no opinion groups
    representative: dict[int, list[repness.Representative]]
    consensus: list[consensus.Consensus]
    priorities: dict[Hashable, float]
    history: GroupHistory
    loadings: dict[Hashable, tuple[float, float]]


def min_votes_to_group(statement_count: int) -> int:
    return min(MIN_VOTES, statement_count)


def analyse(
    matrix: VoteMatrix,
    history: GroupHistory | None = None,
    previous_loadings: dict[Hashable, tuple[float, float]] | None = None,
    seed: int = 0,
    refine: bool = True,
) -> Analysis:
    """``refine=False`` is Polis as published (groups by k-means on the map, k by silhouette)."""
    with _one_thread():
        return _analyse(matrix, history, previous_loadings, seed, refine)


def _analyse(
    matrix: VoteMatrix,
    history: GroupHistory | None,
    previous_loadings: dict[Hashable, tuple[float, float]] | None,
    seed: int,
    refine: bool,
) -> Analysis:
    projection = project(matrix, previous_loadings)
    votes = matrix.votes_per_participant()
    clusterable = votes >= max(1, min_votes_to_group(len(matrix.statements)))
    ids = [p for p, keep in zip(matrix.participants, clusterable, strict=True) if keep]
    grouped_matrix = VoteMatrix(tuple(ids), matrix.statements, matrix.values[clusterable])
    structured = structure.has_groups(grouped_matrix, seed)
    grouping = clustering.group(
        projection.participants[clusterable],
        ids,
        history,
        seed,
        structured=structured,
        votes=latent.one_hot(grouped_matrix.values) if refine else None,
        deep=projection_deeper(grouped_matrix, DEEP_COMPONENTS) if refine else None,
    )
    labels = np.full(len(matrix.participants), -1)
    labels[clusterable] = grouping.labels if grouping.k else -1
    masks = [labels == g for g in range(grouping.k)]
    grouped = labels >= 0
    representative = {g: repness.for_group(matrix, masks[g], grouped) for g in range(grouping.k)}
    agreed = consensus.statements(matrix, masks if grouping.k else [clusterable])
    loadings = {
        s: (float(projection.components[0, j]), float(projection.components[1, j]))
        for j, s in enumerate(matrix.statements)
    }
    return Analysis(
        matrix=matrix,
        projection=projection,
        groups=grouping.history.members,
        k=grouping.k,
        representative=representative,
        consensus=agreed,
        priorities=priority.priorities(matrix, projection.statement_extremity()),
        history=grouping.history,
        loadings=loadings,
    )
