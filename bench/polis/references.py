"""The two references the conversation math is measured against, on the same votes.

- The oracle knows each latent group's vote probabilities and sizes and assigns each participant
  to the most probable group given their votes (Bayes). Nothing can do better from those votes.
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
