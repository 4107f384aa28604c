"""Clustering on its own: the number of themes found, strays, and the sampled path that
keeps 10,000 answers affordable."""

from __future__ import annotations

import numpy as np

from kanavat.themes import cluster
from kanavat.themes.space import normalise


def blobs(sizes: list[int], spread: float, seed: int = 21, strays: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    centres = normalise(rng.normal(size=(len(sizes), 384)))
    points, truth = [], []
    for c, n in enumerate(sizes):
        points.append(normalise(centres[c] + spread * rng.normal(size=(n, 384)) / np.sqrt(384)))
        truth += [c] * n
    points.append(normalise(rng.normal(size=(strays, 384))))
    truth += [-1] * strays
    return np.vstack(points).astype(np.float32), np.array(truth)


def _agree(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of points whose theme's main true group is theirs (themed points only)."""
    right = 0
    for t in set(found[found >= 0]):
        _, counts = np.unique(truth[found == t], return_counts=True)
        right += counts.max()
    return right / max((found >= 0).sum(), 1)


def test_the_number_of_themes_is_found_and_strays_are_left_out():
    points, truth = blobs([40, 30, 20], spread=1.2, strays=6)
    found = cluster.find_clusters(points)
    assert found.max() + 1 == 3
    assert (found[truth == -1] == cluster.STRAY).all()
    assert _agree(found, truth) == 1.0
    assert [int((found == t).sum()) for t in range(3)] == [40, 30, 20]  # largest first


def test_groups_smaller_than_min_size_are_strays():
    points, _ = blobs([30, 3], spread=1.0)
    found = cluster.find_clusters(points)
    assert found.max() == 0 and (found[-3:] == cluster.STRAY).all()


def test_above_the_direct_limit_a_sample_is_clustered_and_the_rest_joins():
    sizes = [1500, 1200, 900, 600]
    points, truth = blobs(sizes, spread=1.2, strays=40)
    assert len(points) > cluster.DIRECT_LIMIT
    found = cluster.find_clusters(points)
    assert found.max() + 1 == 4
    assert _agree(found, truth) > 0.99
    assert (found[truth >= 0] >= 0).mean() > 0.99
    assert (found[truth == -1] == cluster.STRAY).mean() > 0.9
