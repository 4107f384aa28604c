"""Two principal components of the vote matrix, and each participant's place on them.

Missing votes are filled with the statement's mean vote, the matrix centred, and the first two
components taken. A participant's projection uses only the statements they voted on (the filled
cells centre to zero) and is scaled by sqrt(statements / their votes) so that people who voted
on few statements are not all pulled to the centre (Small et al. 2021, "sparsity-aware scaling").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kanavat.opinions.matrix import VoteMatrix


@dataclass(frozen=True)
class Projection:
    components: np.ndarray  # (2, statements): each row a unit vector over statements
    means: np.ndarray  # (statements,): mean vote of those who voted, 0 where nobody did
    participants: np.ndarray  # (participants, 2)
    explained: np.ndarray  # (2,): variance along each component

    def statement_extremity(self) -> np.ndarray:
        """How far each statement lies from the centre of the opinion map."""
        return np.linalg.norm(self.components, axis=0)


def column_means(matrix: VoteMatrix) -> np.ndarray:
    voted = matrix.voted
    sums = np.where(voted, matrix.values, 0.0).sum(axis=0)
    counts = voted.sum(axis=0)
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)


def centred(matrix: VoteMatrix, means: np.ndarray) -> np.ndarray:
    """The matrix minus statement means, with not-voted cells at zero (filled with the mean)."""
    return np.where(matrix.voted, matrix.values - means, 0.0)


def top_components(filled: np.ndarray, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes of an already centred matrix and the variance along each."""
    if filled.shape[0] < 2 or filled.shape[1] == 0:
        return np.zeros((count, filled.shape[1])), np.zeros(count)
    _, singular, axes = np.linalg.svd(filled, full_matrices=False)
    components = np.zeros((count, filled.shape[1]))
    variance = np.zeros(count)
    take = min(count, axes.shape[0])
    components[:take] = axes[:take]
    variance[:take] = singular[:take] ** 2 / (filled.shape[0] - 1)
    return components, variance


def project(
    matrix: VoteMatrix, previous: dict[object, tuple[float, float]] | None = None
) -> Projection:
    """Project every participant; ``previous`` (statement -> loadings) keeps axis signs stable.

    Principal components have no inherent sign; flipping one between updates would mirror the
    map, so each new axis is turned to agree with the last update's axis on shared statements.
    """
    means = column_means(matrix)
    filled = centred(matrix, means)
    components, variance = top_components(filled)
    if previous:
        for axis in range(2):
            old = np.array([previous.get(s, (0.0, 0.0))[axis] for s in matrix.statements])
            if float(old @ components[axis]) < 0:
                components[axis] = -components[axis]
    votes = matrix.votes_per_participant()
    scale = np.sqrt(matrix.values.shape[1] / np.maximum(votes, 1))
    points = (filled @ components.T) * scale[:, None]
    return Projection(components, means, points, variance)


def deeper(matrix: VoteMatrix, count: int) -> np.ndarray:
    """Participants on the first ``count`` components, scaled for sparse voting like
    ``project``: where the groups are looked for beyond the two-dimensional map."""
    means = column_means(matrix)
    filled = centred(matrix, means)
    components, _ = top_components(filled, count)
    scale = np.sqrt(matrix.values.shape[1] / np.maximum(matrix.votes_per_participant(), 1))
    return (filled @ components.T) * scale[:, None]
