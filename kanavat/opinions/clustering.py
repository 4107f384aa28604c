"""Opinion groups: k-means over base clusters, 2-5 groups chosen by silhouette, kept stable.

As Polis describes it: participants' projections are first summarised by up to 100 base clusters
(k-means), the base clusters are grouped by k-means (weighted by their sizes) for each k from 2
to 5, and the k with the best silhouette wins. Between updates the groups are kept stable three
ways: the number of groups changes only after the same new k has won three updates in a row;
k-means starts from the previous groups' centres; and new groups take the labels of the previous
groups they share most members with.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from kanavat.opinions import latent


# scikit-learn and SciPy take about a second of CPU to import; every server and CLI process
# imports this module, few of them group opinions: imported when first used.
def _kmeans(**options: object):  # type: ignore[no-untyped-def]
    from sklearn.cluster import KMeans

    return KMeans(**options)


def _silhouette(points: np.ndarray, labels: np.ndarray, **options: object) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(points, labels, **options))


def _assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(cost)


BASE_CLUSTERS = 100
GROUP_COUNTS = range(2, 6)
SWITCH_AFTER = 3  # consecutive updates a new k must win before the group count changes
MIN_TO_GROUP = 10  # fewer clusterable participants than this: no groups yet
SILHOUETTE_SAMPLE = 2000
# With votes, k is the fewest groups predicting held-out votes within this many standard errors
# of the best k: a further group must beat the noise of which votes were held out. Tuned on the
# development seeds only (200 participants, full voting: the best k alone split a 3-group
# population in 4; margins 0.5, 1 and 2 tried, 1 and 2 merged two of 4 groups).
KEEP_MARGIN = 0.5
# ...and a further group must also predict each participant's held-out votes better by this
# many nats on average. With thousands of participants the standard error alone lets a group
# in for a gain too small to matter. On the development seeds the smallest gain of a real
# group was 0.016 (200 participants, 4 groups, phone voters); half of it.
KEEP_FLOOR = 0.008


@dataclass
class GroupHistory:
    """What one update hands to the next so that groups stay put."""

    k: int = 0
    candidate_k: int = 0
    candidate_wins: int = 0
    members: dict[Hashable, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Grouping:
    labels: np.ndarray  # per clusterable participant, 0..k-1
    k: int
    silhouettes: dict[int, float]
    history: GroupHistory
    held_out: dict[int, float] = field(default_factory=dict)  # k -> held-out vote likelihood


def base_clusters(points: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, sizes and each point's base cluster."""
    distinct = len(np.unique(points.round(9), axis=0))
    count = max(1, min(BASE_CLUSTERS, distinct))
    model = _kmeans(n_clusters=count, n_init=1, random_state=seed).fit(points)
    sizes = np.bincount(model.labels_, minlength=count).astype(float)
    return model.cluster_centers_, sizes, model.labels_


def cluster_bases(
    centres: np.ndarray, sizes: np.ndarray, k: int, seed: int, start: np.ndarray | None = None
) -> np.ndarray:
    if start is not None and len(start) == k:
        model = _kmeans(n_clusters=k, init=start, n_init=1, random_state=seed)
    else:
        model = _kmeans(n_clusters=k, n_init=10, random_state=seed)
    return model.fit(centres, sample_weight=sizes).labels_


def silhouette(points: np.ndarray, labels: np.ndarray, seed: int) -> float:
    if len(set(labels.tolist())) < 2:
        return -1.0
    sample = min(len(points), SILHOUETTE_SAMPLE)
    return float(_silhouette(points, labels, sample_size=sample, random_state=seed))


def choose_k(history: GroupHistory, best: int) -> GroupHistory:
    """Apply the three-in-a-row rule to this update's best k."""
    if history.k == 0 or best == history.k:
        return GroupHistory(best if history.k == 0 else history.k, 0, 0, history.members)
    wins = history.candidate_wins + 1 if best == history.candidate_k else 1
    if wins >= SWITCH_AFTER:
        return GroupHistory(best, 0, 0, history.members)
    return GroupHistory(history.k, best, wins, history.members)


def previous_centres(
    points: np.ndarray, ids: list[Hashable], history: GroupHistory, k: int
) -> np.ndarray | None:
    if history.k != k:
        return None
    by_label: dict[int, list[int]] = {}
    for row, participant in enumerate(ids):
        label = history.members.get(participant)
        if label is not None:
            by_label.setdefault(label, []).append(row)
    if sorted(by_label) != list(range(k)):
        return None
    return np.array([points[by_label[label]].mean(axis=0) for label in range(k)])


def keep_labels(
    labels: np.ndarray, ids: list[Hashable], previous: dict[Hashable, int]
) -> np.ndarray:
    """Rename groups so each takes the label of the previous group it overlaps most."""
    k = int(labels.max()) + 1 if len(labels) else 0
    old_k = max(previous.values(), default=-1) + 1
    if k == 0 or old_k == 0:
        return labels
    size = max(k, old_k)
    overlap = np.zeros((size, size))
    for label, participant in zip(labels, ids, strict=True):
        old = previous.get(participant)
        if old is not None:
            overlap[label, old] += 1
    rows, columns = _assignment(-overlap)
    rename = dict(zip(rows.tolist(), columns.tolist(), strict=True))
    # Labels are 0..k-1: a group matched to a label >= k (the old count was larger) takes the
    # smallest free label instead.
    free = iter(sorted(set(range(k)) - {v for v in rename.values() if v < k}))
    final = {new: (old if old < k else next(free)) for new, old in rename.items() if new < k}
    return np.array([final[label] for label in labels], dtype=int)


def _starts(polis: np.ndarray, deep: np.ndarray | None, k: int, seed: int) -> list[np.ndarray]:
    """EM's starting groups: Polis's, and k-means on k + 1 components (when given)."""
    if deep is None or len(deep) <= k:
        return [polis]
    space = deep[:, : k + 1]
    return [polis, _kmeans(n_clusters=k, n_init=10, random_state=seed).fit(space).labels_]


def group(
    points: np.ndarray,
    ids: list[Hashable],
    history: GroupHistory | None = None,
    seed: int = 0,
    structured: bool = True,
    votes: np.ndarray | None = None,
    deep: np.ndarray | None = None,
) -> Grouping:
    """Group clusterable participants (their projected points, their ids in the same order).

    With ``votes`` (their one-hot votes, ``latent.one_hot``) the Polis groups for each k are
    refined by the latent class model and k is the fewest groups that predict held-out votes
    about as well as the best k (``KEEP_MARGIN``; see ``latent``); ``deep`` (the participants on
    more principal components) gives EM a second start. Without ``votes`` this is Polis as published: silhouette picks k, k-means assigns.
    """
    history = history or GroupHistory()
    if not structured or len(points) < MIN_TO_GROUP:
        return Grouping(np.zeros(len(points), dtype=int), 0, {}, GroupHistory())
    centres, sizes, base_of = base_clusters(points, seed)
    silhouettes: dict[int, float] = {}
    held_out: dict[int, float] = {}
    held_votes: dict[int, np.ndarray] = {}
    for k in GROUP_COUNTS:
        if k > len(centres):  # as many groups as distinct places at most
            break
        labels = cluster_bases(centres, sizes, k, seed)[base_of]
        silhouettes[k] = silhouette(points, labels, seed)
        if votes is not None:
            _, start = latent.best_fit(votes, _starts(labels, deep, k, seed), k)
            held_votes[k] = latent.held_out_scores(votes, start, k, seed)
            held_out[k] = float(held_votes[k].mean())
    if not silhouettes:
        return Grouping(np.zeros(len(points), dtype=int), 0, {}, GroupHistory())
    if held_votes:
        best = latent.simplest_as_good(held_votes, KEEP_MARGIN, KEEP_FLOOR)
    else:
        score = held_out or silhouettes
        best = max(score, key=lambda k: score[k])
    if votes is not None:
        one_group = latent.held_out_likelihood(votes, np.zeros(len(points), dtype=int), 1, seed)
        if held_out[best] <= one_group:
            return Grouping(np.zeros(len(points), dtype=int), 0, silhouettes, GroupHistory())
    chosen = choose_k(history, best)
    k = chosen.k if chosen.k in silhouettes else best
    start = previous_centres(points, ids, history, k)
    labels = cluster_bases(centres, sizes, k, seed, start)[base_of]
    if votes is not None:
        labels = latent.best_fit(votes, _starts(labels, deep, k, seed), k)[0].labels
        if len(set(labels.tolist())) < k:  # EM emptied a group: renumber what is left
            labels = np.unique(labels, return_inverse=True)[1]
            k = int(labels.max()) + 1
    labels = keep_labels(labels, ids, history.members)
    members = {participant: int(label) for participant, label in zip(ids, labels, strict=True)}
    return Grouping(
        labels,
        k,
        silhouettes,
        GroupHistory(k, chosen.candidate_k, chosen.candidate_wins, members),
        held_out,
    )
