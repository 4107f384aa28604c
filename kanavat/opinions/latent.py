"""Refining opinion groups on the votes themselves: a latent class model fitted by EM.

Polis groups people by k-means in a two-dimensional map. Two principal components cannot hold
four or five distinct groups, and with only 7-10 votes a person's place on the map is noisy, so
the bench (``python -m bench --only polis``) shows Polis's groups well below the best possible
from the same votes. Here each group is instead a set of vote probabilities per statement
(agree, disagree, pass; unseen statements simply missing), shrunk towards everyone's shares,
fitted by expectation-maximisation starting from the Polis groups, each person assigned to the
group that makes their votes most likely. The number of groups (2-5) is the fewest that predict
votes held out of the fit about as well as the best number does, so adding a group must predict
real votes better, not just fit noise.

Fully Bayesian variants of the same model (variational Bayes, collapsed EM, a collapsed Gibbs
sampler assigning by posterior marginals) and a prior of a few learned stance profiles were
tried on the development seeds and not kept: none grouped better than these shrunk shares
(figures in bench/analysis.py's notes on opinion groups).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kanavat.opinions.matrix import AGREE, DISAGREE, PASS

# Each group's vote shares on a statement are pulled towards everyone's shares on it by this many
# pseudo-votes. With a few hundred people voting on 7-10 statements each, a group has only a
# handful of votes per statement and unshrunk shares overfit (the bench's development seeds
# 1-3: ARI 0.58-0.77 unshrunk, 0.64-0.81 at 20; the held-out seeds were not looked at).
SHRINK = 20.0
# A group's pass rate is pulled towards the statement's by this many pseudo-votes. Tuned on the
# development seeds 1-3 only (200 participants: 7 of 12 populations within the goals with the
# pass rate shrunk like the rest, 9 shared outright, 10 at 50; at 2,000 sharing it outright cost
# two populations their lead over red-dwarf, 50 kept them).
PASS_SHRINK = 50.0
ITERATIONS = 200
TOLERANCE = 1e-6
FOLDS = 3
HELD_OUT_SHARE = 0.1
FOLDS_COVER = False


@dataclass(frozen=True)
class Fit:
    shares: np.ndarray  # (k,)
    probabilities: np.ndarray  # (k, statements, 3)
    responsibilities: np.ndarray  # (participants, k)

    @property
    def labels(self) -> np.ndarray:
        return self.responsibilities.argmax(axis=1)


def one_hot(values: np.ndarray) -> np.ndarray:
    """(participants, statements, 3): agree, disagree, pass; all zero where not voted."""
    return np.stack([values == AGREE, values == DISAGREE, values == PASS], axis=2).astype(float)


def _maximise(votes: np.ndarray, responsibilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    everyone = votes.sum(axis=0) + 1.0
    everyone /= everyone.sum(axis=1, keepdims=True)
    counts = np.einsum("ik,isc->ksc", responsibilities, votes)
    # A group's pass rate is pulled hard towards the statement's (a pass takes no side, and
    # few votes cannot tell groups' pass rates apart); its agree/disagree balance, what sets
    # groups apart, is pulled less.
    sides = everyone[:, :2] / everyone[:, :2].sum(axis=1, keepdims=True)
    taken = counts[:, :, :2] + SHRINK * sides[None]
    balance = taken / taken.sum(axis=2, keepdims=True)
    passes = counts[:, :, 2:] + PASS_SHRINK * everyone[None, :, 2:]
    passing = passes / (counts.sum(axis=2, keepdims=True) + PASS_SHRINK)
    probabilities = np.concatenate([balance * (1 - passing), passing], axis=2)
    shares = responsibilities.sum(axis=0) + 1.0
    return shares / shares.sum(), probabilities


def _expect(
    votes: np.ndarray, shares: np.ndarray, probabilities: np.ndarray
) -> tuple[np.ndarray, float]:
    log_joint = np.log(shares)[None, :] + np.einsum("isc,ksc->ik", votes, np.log(probabilities))
    top = log_joint.max(axis=1, keepdims=True)
    log_total = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))
    return np.exp(log_joint - log_total[:, None]), float(log_total.sum())


def fit(votes: np.ndarray, labels: np.ndarray, k: int) -> Fit:
    """EM from hard starting labels (0..k-1) over one-hot votes."""
    responsibilities = np.eye(k)[np.clip(labels, 0, k - 1)]
    previous = -np.inf
    for _ in range(ITERATIONS):
        shares, probabilities = _maximise(votes, responsibilities)
        responsibilities, likelihood = _expect(votes, shares, probabilities)
        if likelihood - previous < TOLERANCE * max(1.0, abs(likelihood)):
            break
        previous = likelihood
    return Fit(shares, probabilities, responsibilities)


def likelihood(votes: np.ndarray, model: Fit) -> float:
    return _expect(votes, model.shares, model.probabilities)[1]


def best_fit(votes: np.ndarray, starts: list[np.ndarray], k: int) -> tuple[Fit, np.ndarray]:
    """EM from each start; the fit (and its start) that explains the votes best. EM finds a
    local optimum only: the Polis groups of the map can merge two groups the map cannot tell
    apart, so a start from more components is tried too."""
    fits = [(fit(votes, start, k), start) for start in starts]
    return max(fits, key=lambda pair: likelihood(votes, pair[0]))


def held_out_likelihood(votes: np.ndarray, labels: np.ndarray, k: int, seed: int) -> float:
    """Mean log-probability of the votes left out of the fit, per participant."""
    return float(held_out_scores(votes, labels, k, seed).mean())


def held_out_scores(votes: np.ndarray, labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Per participant, the log-probability of their votes left out of the fit, summed over
    the folds. The same votes are left out for every k (the folds come from ``seed``), so two
    k compare participant by participant: a participant's held-out votes all hang on the one
    group they are placed in, so they are one observation, not several."""
    voted = np.argwhere(votes.sum(axis=2) > 0)
    rng = np.random.default_rng(seed)
    totals = np.zeros(len(votes))
    held = np.zeros(len(votes), dtype=bool)
    if FOLDS_COVER:
        fold_of = rng.permutation(len(voted)) % FOLDS
        folds = [voted[fold_of == fold] for fold in range(FOLDS)]
    else:
        folds = [voted[rng.random(len(voted)) < HELD_OUT_SHARE] for _ in range(FOLDS)]
    for chosen in folds:
        training = votes.copy()
        training[chosen[:, 0], chosen[:, 1]] = 0.0
        model = fit(training, labels, k)
        outcome = votes[chosen[:, 0], chosen[:, 1]].argmax(axis=1)
        predicted = np.einsum(
            "nk,nk->n",
            model.responsibilities[chosen[:, 0]],
            model.probabilities[:, chosen[:, 1], outcome].T,
        )
        np.add.at(totals, chosen[:, 0], np.log(predicted))
        held[chosen[:, 0]] = True
    return totals[held]


def simplest_as_good(scores: dict[int, np.ndarray], margin: float = 1.0, floor: float = 0.0) -> int:
    """The fewest groups whose held-out votes are predicted as well as the best k's, within
    ``margin`` standard errors of the participant-by-participant difference or within
    ``floor`` nats a participant, whichever is larger: a further group must earn its place by
    more than the noise of which votes happened to be held out, and by enough to matter."""
    best = max(scores, key=lambda k: scores[k].mean())
    for k in sorted(scores):
        gap = scores[best] - scores[k]
        if gap.mean() <= max(margin * gap.std() / np.sqrt(len(gap)), floor):
            return k
    return best
