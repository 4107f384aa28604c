"""One question's themes: officials' named themes first, new ones proposed for the rest.

Answers are embedded, placed in the question's own space (:mod:`space`), assigned to the
themes officials named or seeded (:mod:`seeded`); what fits none is clustered unaided
(:mod:`cluster`) into proposed themes, and every theme gets its characteristic words
(:mod:`words`). The result is deterministic: the same answers and named themes give the same
proposed themes in the same order, so ``kanavat themes ... list`` and a later ``name new-2``
mean the same group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kanavat.themes import cluster, seeded, words
from kanavat.themes.embed import DIM, embed
from kanavat.themes.space import Space, normalise

PROPOSED = "new-"
"""Proposed themes are called new-1, new-2, ... (largest first); named ones by their number."""


@dataclass(frozen=True)
class Answer:
    text: str
    language: str
    key: str = ""
    """Whatever the caller uses to find the answer again (a pseudonym, a row's position)."""
    answer_id: int | None = None
    """The answer's id in the store, when it has one: its embedding is kept under it."""


@dataclass(frozen=True)
class NamedTheme:
    """An official's theme, as kept in the store: its name and the sum of its examples'
    embeddings (never their texts: a resident's words stay in the answers table only)."""

    id: int
    name: str
    example_sum: np.ndarray
    example_count: int


@dataclass
class Theme:
    id: str
    name: str | None
    members: list[int]
    """Indices into the answers, nearest the theme's centre first."""
    words: list[str] = field(default_factory=list)

    @property
    def named(self) -> bool:
        return self.name is not None


@dataclass
class Analysis:
    answers: list[Answer]
    vectors: np.ndarray
    """The answers' raw embeddings (what a named theme's example sum is made of)."""
    points: np.ndarray
    """The answers in the question's space."""
    themes: list[Theme]
    strays: list[int]

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def theme_of(self) -> dict[int, str]:
        """Answer index -> theme id, for answers in a theme."""
        return {i: t.id for t in self.themes for i in t.members}


def analyse(
    answers: Sequence[Answer],
    named: Sequence[NamedTheme] = (),
    vectors: np.ndarray | None = None,
) -> Analysis:
    """``vectors``: the answers' embeddings when the caller has them (stored ones, see
    :mod:`kanavat.themes.stored`), row for row; otherwise they are embedded here."""
    keep = [i for i, a in enumerate(answers) if a.text.strip()]
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=np.float32)[keep].reshape(len(keep), DIM)
    answers = [answers[i] for i in keep]
    if vectors is None:
        vectors = (
            embed([a.text for a in answers], [a.language for a in answers])
            if answers
            else np.zeros((0, DIM), np.float32)
        )
    space = Space.fit(vectors)
    points = space.apply(vectors)
    labels = np.full(len(answers), seeded.UNASSIGNED)
    if named and len(answers):
        labels = seeded.assign(points, anchors(space, named))
    themes: list[Theme] = [
        Theme(str(n.id), n.name, _ordered(points, np.flatnonzero(labels == i)))
        for i, n in enumerate(named)
    ]
    rest = np.flatnonzero(labels == seeded.UNASSIGNED)
    found = cluster.find_clusters(points[rest])
    for number in range(int(found.max(initial=cluster.STRAY)) + 1):
        members = rest[found == number]
        themes.append(Theme(f"{PROPOSED}{number + 1}", None, _ordered(points, members)))
    strays = sorted(int(i) for i in rest[found == cluster.STRAY])
    labelled = words.characteristic_words(
        [[(answers[i].text, answers[i].language) for i in t.members] for t in themes]
    )
    for theme, found_words in zip(themes, labelled, strict=True):
        theme.words = found_words
    return Analysis(list(answers), vectors, points, themes, strays)


def anchors(space: Space, named: Sequence[NamedTheme]) -> list[seeded.Anchor]:
    """Each named theme's pull in this question's space: its examples' mean, moved into the
    space and counted once per example, and its name embedded like an answer."""
    names = space.apply(embed([n.name for n in named]))
    out = []
    for n, name in zip(named, names, strict=True):
        count = max(n.example_count, 0)
        examples = np.zeros(space.mean.shape, np.float32)
        if count:
            examples = space.apply((n.example_sum / count)[None, :])[0] * count
        out.append(seeded.Anchor(examples, name))
    return out


def _ordered(points: np.ndarray, members: np.ndarray) -> list[int]:
    """Members nearest their common centre first: the most representative answers."""
    if len(members) == 0:
        return []
    centre = normalise(points[members].mean(axis=0))
    sims = points[members] @ centre
    order = np.lexsort((members, -sims))
    return [int(members[i]) for i in order]
