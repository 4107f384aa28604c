"""Answers assigned to themes officials named or seeded: seeded spherical k-means.

Each theme starts from its examples (answers an official picked or wrote, or the members of a
theme they named) plus its name, embedded like an answer and counted as ``NAME_WEIGHT``
examples. Every round each answer joins the theme whose centre it is nearest, if its cosine to
it is at least ``ASSIGN_MIN``, and each centre moves to the mean of its examples and members.
What joins none is left for unaided clustering, which proposes new themes.

Since answers' content words are embedded with them (:mod:`embed`), on the same corpus: 83 %
right with every theme seeded, 70 % precision with three of ten (unchanged thresholds).

Chosen on the development corpus with three examples per theme and every theme seeded:
nearest example centre only 67 % right, these rounds 77 %, with the name as well 81-86 %.
``ASSIGN_MIN`` trades that against precision when only some themes are seeded (nothing then
competes for the other answers): with 3 of 10 themes seeded, at 0.2 71 % of what joins them is
theirs (0.1: 36 %) while 81 % of answers are right with every theme seeded (0.1: 86 %).

A rejection threshold relative to the question's answers (an answer joins when its cosine
stands ``z`` standard deviations above the mean cosine of all answers to that centre, or
``z`` MADs above the median) was tried and not kept: on the whole development corpus and on
160-answer subsets it was as good (83 % right, 69 % precision at z 1.1), but on three-topic
subsets, where a seeded theme is a third of the answers and so sets the mean, only 51-63 %
were right against 71 % with the absolute cosine. In the centred space (:mod:`space`) the
cosine is already relative to the question's own answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kanavat.themes.space import normalise

NAME_WEIGHT = 2.0
ROUNDS = 10
ASSIGN_MIN = 0.2
UNASSIGNED = -1


@dataclass(frozen=True)
class Anchor:
    """A theme's fixed pull, in the answers' space: its examples' sum and its name."""

    examples: np.ndarray
    """The sum of the examples' vectors (not normalised), or zeros when there are none."""
    name: np.ndarray | None

    @property
    def vector(self) -> np.ndarray:
        base = self.examples.astype(np.float32)
        if self.name is not None:
            base = base + NAME_WEIGHT * self.name
        return base


def assign(points: np.ndarray, anchors: list[Anchor], *, least: float = ASSIGN_MIN) -> np.ndarray:
    """A theme index per point (into ``anchors``), ``UNASSIGNED`` where none is near."""
    if not anchors or len(points) == 0:
        return np.full(len(points), UNASSIGNED)
    base = np.stack([a.vector for a in anchors])
    centres = normalise(base)
    labels = np.full(len(points), UNASSIGNED)
    for _ in range(ROUNDS):
        sims = points @ centres.T
        best = sims.argmax(axis=1)
        new = np.where(sims[np.arange(len(points)), best] >= least, best, UNASSIGNED)
        if np.array_equal(new, labels):
            break
        labels = new
        sums = base.copy()
        np.add.at(sums, labels[labels >= 0], points[labels >= 0])
        centres = normalise(sums)
    return labels
