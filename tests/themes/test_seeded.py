"""Seeded assignment on its own: what fits no seeded theme is left for proposed themes, and
each answer is read with its nearest answers."""

from __future__ import annotations

import numpy as np

from kanavat.themes import seeded
from kanavat.themes.space import normalise


def _topic(centre: np.ndarray, n: int, rng: np.random.Generator, spread: float = 1.2):
    noise = spread * rng.normal(size=(n, len(centre))) / np.sqrt(len(centre))
    return normalise(centre + noise).astype(np.float32)


def _two_topics(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A seeded topic (40 answers) and one nobody seeded (30), their centres at cosine 0.1:
    about half the second topic's answers sit above ``ASSIGN_MIN`` of the first's centre."""
    a = normalise(rng.normal(size=384))
    other = normalise(rng.normal(size=384))
    b = normalise(0.1 * a + np.sqrt(1 - 0.01) * normalise(other - (other @ a) * a))
    return _topic(a, 40, rng), _topic(b, 30, rng)


def _anchor(examples: np.ndarray) -> seeded.Anchor:
    return seeded.Anchor(examples.sum(axis=0), None)


def test_an_unseeded_topic_is_left_for_a_proposed_theme():
    rng = np.random.default_rng(21)
    seeded_topic, other_topic = _two_topics(rng)
    points = np.vstack([seeded_topic, other_topic])
    anchors = [_anchor(seeded_topic[:3])]
    alone = seeded.assign(points, anchors, propose=False)
    assert (alone[40:] == 0).mean() > 0.25  # with nothing competing, the seeded theme takes them
    found = seeded.assign(points, anchors)
    assert (found[:40] == 0).mean() > 0.95
    assert (found[40:] == seeded.UNASSIGNED).mean() > 0.9


def test_a_stray_is_not_pulled_in_by_its_neighbours():
    """A stray's nearest answers are in the theme, but far: they barely move it."""
    rng = np.random.default_rng(5)
    seeded_topic, _ = _two_topics(rng)
    out = np.stack([seeded_topic.sum(axis=0), seeded_topic[:3].sum(axis=0)])
    basis, _ = np.linalg.qr(out.T)
    unrelated = rng.normal(size=(6, 384))
    unrelated = normalise(unrelated - (unrelated @ basis) @ basis.T).astype(np.float32)
    found = seeded.assign(np.vstack([seeded_topic, unrelated]), [_anchor(seeded_topic[:3])])
    assert (found[:40] == 0).all()
    assert (found[40:] == seeded.UNASSIGNED).all()


def test_nearest_answers_are_found_across_chunks():
    rng = np.random.default_rng(3)
    points = normalise(rng.normal(size=(2 * seeded._CHUNK + 37, 16))).astype(np.float32)
    found = seeded.nearest_answers(points, 5)
    sims = points @ points.T
    np.fill_diagonal(sims, -np.inf)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    assert found.shape == (len(points), 5)
    assert (found == expected).all()


def test_few_answers_have_fewer_neighbours_and_are_still_assigned():
    point = normalise(np.ones((1, 384), np.float32))
    assert seeded.nearest_answers(point, 5).shape == (1, 0)
    assert seeded.assign(point, [seeded.Anchor(point[0], None)]).tolist() == [0]
    assert seeded.assign(point[:0], [seeded.Anchor(point[0], None)]).tolist() == []
