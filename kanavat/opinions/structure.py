"""Are there opinion groups at all? Parallel analysis against shuffled votes.

Silhouette always prefers some k in 2-5, so on its own it would report groups in a population
that has none. Opinion groups make votes on different statements go together, which shows as a
first principal component larger than chance. Chance is measured by shuffling each statement's
votes among participants (Horn's parallel analysis): that keeps every statement's agree, disagree,
pass and missing rates and breaks only the links between statements.
"""

from __future__ import annotations

import numpy as np

from kanavat.opinions.matrix import VoteMatrix
from kanavat.opinions.projection import centred, column_means, top_components

SHUFFLES = 19  # the largest of 19 shuffles is beaten by chance 1 time in 20
MARGIN = 1.05  # and the real component must beat it by 5 %


def first_eigenvalue(values: np.ndarray) -> float:
    matrix = VoteMatrix((), (), values)
    _, variance = top_components(centred(matrix, column_means(matrix)), count=1)
    return float(variance[0])


def has_groups(matrix: VoteMatrix, seed: int = 0) -> bool:
    """True when the votes hold more shared structure than shuffled votes do."""
    values = matrix.values
    if values.shape[0] < 4 or values.shape[1] < 2:
        return False
    observed = first_eigenvalue(values)
    rng = np.random.default_rng(seed)
    chance = 0.0
    for _ in range(SHUFFLES):
        shuffled = np.column_stack([rng.permutation(column) for column in values.T])
        chance = max(chance, first_eigenvalue(shuffled))
    return observed > chance * MARGIN
