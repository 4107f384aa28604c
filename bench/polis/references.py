"""The two references the conversation math is measured against, on the same votes.

- The oracle knows each latent group's vote probabilities and sizes and assigns each participant
  to the most probable group given their votes (Bayes). Nothing can do better from those votes.
- Known groups (a ceiling for any method that must estimate the groups' vote probabilities
  from the votes): each participant assigned by Bayes to a group whose probabilities are
  estimated from everyone else's votes and true groups, pooled towards the simulator's own
  menu of vote profiles weighted as often as it uses each. It knows far more than a method
  can, yet not the exact probabilities; where it falls more than 0.05 short of the oracle, no
  method estimating the probabilities from these votes can be expected to come within 0.05.
- red-dwarf (PyPI, an independent Python implementation of Polis's math), run with its defaults
  (PCA, k-means, silhouette over 2-5 groups, 7 votes to be grouped). A bench-only reference.
"""

from __future__ import annotations

import numpy as np

from bench.polis.population import VOTES, Population

UNGROUPED = -1


def oracle(population: Population) -> np.ndarray:
    size = len(population.truth)
    log_posterior = np.tile(np.log(np.array(population.shares)), (size, 1))
    logs = np.log(population.probabilities)
    for person, statement, vote in population.votes:
        log_posterior[person] += logs[:, statement, VOTES.index(vote)]
    return log_posterior.argmax(axis=1)


def known_groups(population: Population) -> np.ndarray:
    size, statements = len(population.truth), population.probabilities.shape[1]
    votes = np.zeros((size, statements, 3))
    for person, statement, vote in population.votes:
        votes[person, statement] = 0.0
        votes[person, statement, VOTES.index(vote)] = 1.0
    groups = np.eye(population.groups)[population.truth]  # (people, groups)
    menu, uses = np.unique(population.probabilities.reshape(-1, 3), axis=0, return_counts=True)
    counts = np.einsum("ik,isc->ksc", groups, votes)
    others = counts[None] - groups[:, :, None, None] * votes[:, None]  # own votes left out
    log_weight = np.einsum("iksc,jc->iksj", others, np.log(menu)) + np.log(uses / uses.sum())
    weight = np.exp(log_weight - log_weight.max(axis=3, keepdims=True))
    weight /= weight.sum(axis=3, keepdims=True)
    estimated = np.einsum("iksj,jc->iksc", weight, menu)
    log_posterior = np.einsum("isc,iksc->ik", votes, np.log(estimated))
    return (log_posterior + np.log(np.array(population.shares))).argmax(axis=1)


def red_dwarf(population: Population, seed: int) -> np.ndarray:
    from reddwarf.implementations import polis

    latest: dict[tuple[int, int], str] = {}
    for person, statement, vote in population.votes:
        latest[(person, statement)] = vote
    value = {"agree": 1, "disagree": -1, "pass": 0}
    votes = [
        {"participant_id": p, "statement_id": s, "vote": value[v], "modified": i}
        for i, ((p, s), v) in enumerate(latest.items())
    ]
    result = polis.run_pipeline(votes=votes, random_state=seed)
    labels = np.full(len(population.truth), UNGROUPED)
    clusters = result.participants_df["cluster_id"]
    for person, cluster in clusters.items():
        if cluster is not None and not (isinstance(cluster, float) and np.isnan(cluster)):
            try:
                labels[int(person)] = int(cluster)
            except (TypeError, ValueError):
                continue
    return labels
