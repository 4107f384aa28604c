"""The conversation math on small populations whose answers are known."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from kanavat.opinions import clustering, latent, priority, structure
from kanavat.opinions.analysis import analyse
from kanavat.opinions.clustering import GroupHistory
from kanavat.opinions.matrix import VoteMatrix
from kanavat.opinions.projection import project

STATEMENTS = 16
# Latent agree probabilities: statements 0-1 everyone agrees, 2 everyone disagrees, 3-4 only
# group 0 agrees, 5-6 only group 1, 7-8 only group 2, the rest divide the groups at random.
CONSENSUS_AGREE = {0, 1}
CONSENSUS_DISAGREE = {2}
SIGNATURE = {0: {3, 4}, 1: {5, 6}, 2: {7, 8}}


def population(
    size: int, votes_each: int | None, seed: int, groups: int = 3
) -> tuple[list[tuple[int, int, str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    agree = np.zeros((groups, STATEMENTS))
    agree[:, list(CONSENSUS_AGREE)] = 0.9
    agree[:, list(CONSENSUS_DISAGREE)] = 0.05
    for group, owned in SIGNATURE.items():
        for statement in owned:
            agree[:, statement] = 0.1
            if group < groups:
                agree[group, statement] = 0.9
    for statement in range(9, STATEMENTS):
        stances = rng.choice([0.1, 0.9], size=groups)
        while groups > 1 and len(set(stances)) == 1:  # a divisive statement divides
            stances = rng.choice([0.1, 0.9], size=groups)
        agree[:, statement] = stances
    if groups == 1:
        agree[0] = rng.uniform(0.2, 0.8, size=STATEMENTS)
    truth = rng.integers(0, groups, size=size)
    votes = []
    for person in range(size):
        chosen = rng.choice(STATEMENTS, size=votes_each or STATEMENTS, replace=False)
        for statement in chosen:
            p = agree[truth[person], statement]
            vote = rng.choice(["agree", "disagree", "pass"], p=[p * 0.92, (1 - p) * 0.92, 0.08])
            votes.append((person, int(statement), str(vote)))
    return votes, truth


def test_the_latest_vote_counts_and_a_pass_is_a_vote() -> None:
    matrix = VoteMatrix.from_votes(
        [("a", 1, "agree"), ("a", 1, "disagree"), ("a", 2, "pass"), ("b", 1, "agree")],
        statements=[1, 2, 3],
    )
    assert matrix.values[0].tolist()[:2] == [-1.0, 0.0]
    assert np.isnan(matrix.values[0, 2])
    assert matrix.votes_per_participant().tolist() == [2, 1]
    assert [c.tolist() for c in matrix.counts()] == [[1, 0, 0], [1, 0, 0], [2, 1, 0]]


def test_votes_on_statements_outside_the_pool_are_left_out() -> None:
    matrix = VoteMatrix.from_votes([("a", "rejected", "agree"), ("b", 1, "agree")], statements=[1])
    assert matrix.participants == ("b",)


def test_sparse_voters_are_scaled_out_from_the_centre() -> None:
    votes, _ = population(300, None, seed=1)
    dense = VoteMatrix.from_votes(votes, statements=range(STATEMENTS))
    sparse_values = dense.values.copy()
    sparse_values[0, 4:] = np.nan  # the first person voted on only four statements
    sparse = VoteMatrix(dense.participants, dense.statements, sparse_values)
    unscaled = np.where(sparse.voted, sparse.values - project(sparse).means, 0) @ (
        project(sparse).components.T
    )
    scaled = project(sparse).participants
    assert np.allclose(scaled[0], unscaled[0] * np.sqrt(STATEMENTS / 4))


def test_axis_signs_follow_the_previous_update() -> None:
    votes, _ = population(200, None, seed=2)
    matrix = VoteMatrix.from_votes(votes, statements=range(STATEMENTS))
    first = project(matrix)
    flipped = {
        s: (-first.components[0, j], -first.components[1, j])
        for j, s in enumerate(range(STATEMENTS))
    }
    second = project(matrix, flipped)
    assert np.allclose(second.components, -first.components)


def test_everyone_voting_on_everything_recovers_the_groups_and_their_statements() -> None:
    votes, truth = population(300, None, seed=3)
    analysis = analyse(VoteMatrix.from_votes(votes, statements=range(STATEMENTS)))
    assert analysis.k == 3
    labels = [analysis.groups[p] for p in range(300)]
    assert adjusted_rand_score(truth, labels) > 0.9
    for group, items in analysis.representative.items():
        latent = np.bincount(truth[[p for p in range(300) if analysis.groups[p] == group]]).argmax()
        agreed = {r.statement for r in items if r.direction == "agree"}
        assert SIGNATURE[int(latent)] <= agreed | {r.statement for r in items}
    found = {(c.statement, c.direction) for c in analysis.consensus}
    assert {(s, "agree") for s in CONSENSUS_AGREE} | {
        (s, "disagree") for s in CONSENSUS_DISAGREE
    } <= found
    assert all(s in CONSENSUS_AGREE | CONSENSUS_DISAGREE for s, _ in found)


def test_phone_length_sessions_are_grouped() -> None:
    votes, truth = population(600, 8, seed=4)
    analysis = analyse(VoteMatrix.from_votes(votes, statements=range(STATEMENTS)))
    assert len(analysis.groups) == 600  # 8 votes >= 7: everyone is grouped
    assert analysis.k == 3
    labels = [analysis.groups[p] for p in range(600)]
    assert adjusted_rand_score(truth, labels) > 0.5


def test_too_few_votes_are_not_grouped() -> None:
    votes, _ = population(300, None, seed=5)
    votes += [(1000, 0, "agree"), (1000, 1, "agree")]
    analysis = analyse(VoteMatrix.from_votes(votes, statements=range(STATEMENTS)))
    assert 1000 not in analysis.groups and len(analysis.groups) == 300


def test_no_groups_are_reported_where_there_are_none() -> None:
    votes, _ = population(400, 10, seed=6, groups=1)
    matrix = VoteMatrix.from_votes(votes, statements=range(STATEMENTS))
    assert not structure.has_groups(matrix)
    analysis = analyse(matrix)
    assert analysis.k == 0 and analysis.groups == {} and analysis.representative == {}


def test_groups_keep_their_labels_from_one_update_to_the_next() -> None:
    votes, _ = population(300, None, seed=7)
    first = analyse(
        VoteMatrix.from_votes(votes[: len(votes) * 9 // 10], statements=range(STATEMENTS))
    )
    second = analyse(
        VoteMatrix.from_votes(votes, statements=range(STATEMENTS)),
        first.history,
        first.loadings,
        seed=9,
    )
    same = [first.groups[p] == second.groups[p] for p in first.groups if p in second.groups]
    assert sum(same) / len(same) > 0.95


def test_the_group_count_changes_only_after_three_wins_in_a_row() -> None:
    history = GroupHistory(k=3)
    for _ in range(2):
        history = clustering.choose_k(history, 4)
        assert history.k == 3
    assert clustering.choose_k(history, 4).k == 4
    interrupted = clustering.choose_k(clustering.choose_k(GroupHistory(k=3), 4), 5)
    assert interrupted.k == 3 and interrupted.candidate_wins == 1


def test_new_statements_come_first_and_passed_ones_last() -> None:
    votes = [(p, 1, "agree") for p in range(30)] + [(p, 2, "pass") for p in range(30)]
    matrix = VoteMatrix.from_votes(votes, statements=[1, 2, 3])
    found = priority.priorities(matrix)
    assert found[3] > found[1] > found[2]
    assert found[3] == priority.new_statement_priority()
    rng = np.random.default_rng(0)
    drawn = [priority.next_statement(found, [1, 2, 3], rng) for _ in range(200)]
    assert drawn.count(3) > drawn.count(1) > drawn.count(2)
    assert priority.next_statement(found, [], rng) is None


def test_held_out_votes_are_scored_participant_by_participant() -> None:
    votes, truth = population(200, 8, seed=8)
    matrix = VoteMatrix.from_votes(votes, statements=range(STATEMENTS))
    one_hot = latent.one_hot(matrix.values)
    labels = truth[[int(p) for p in matrix.participants]]
    scores = latent.held_out_scores(one_hot, labels, 3, seed=0)
    # One total per participant who had a vote held out (3 folds of 10 % of 8 votes: most did).
    assert 150 < len(scores) <= 200
    assert (scores < 0).all()
    # The k that predicts best wins when its lead is clear participant by participant...
    better = scores + 0.5
    assert latent.simplest_as_good({2: scores, 3: better}, margin=0.5) == 3
    # ...and not when the lead comes from a handful of participants.
    lucky = scores.copy()
    lucky[:3] += 5.0
    assert latent.simplest_as_good({2: scores, 3: lucky}, margin=2.0) == 2
    # A lead too small to matter keeps the fewer groups, however many participants show it.
    assert latent.simplest_as_good({2: scores, 3: scores + 0.004}, margin=0.5, floor=0.008) == 2


def _two_camps(minority: int) -> tuple[np.ndarray, np.ndarray]:
    """60 participants agreeing with statements 0-7 and ``minority`` disagreeing with them all."""
    votes = [(p, s, "agree") for p in range(60) for s in range(8)]
    votes += [(p, s, "disagree") for p in range(60, 60 + minority) for s in range(8)]
    matrix = VoteMatrix.from_votes(votes, statements=range(8))
    labels = np.array([0 if int(p) < 60 else 1 for p in matrix.participants])
    return latent.one_hot(matrix.values), labels


def test_a_small_groups_vote_shares_are_pulled_towards_everyones() -> None:
    few, few_labels = _two_camps(3)
    fitted = latent.fit(few, few_labels, 2)
    assert (fitted.labels == few_labels).all()
    everyone_agrees = 60 / 63
    small_agrees = fitted.probabilities[1, 0, 0]
    # Three disagreeing voters alone would say 0 % agree; the prior pulls them towards 95 %.
    assert 0.3 < small_agrees < everyone_agrees
    # The large group's own votes outweigh the prior: its estimate stays near its 100 %.
    assert fitted.probabilities[0, 0, 0] > 0.9
    # With more votes of its own, the same group is pulled less.
    many, many_labels = _two_camps(30)
    assert latent.fit(many, many_labels, 2).probabilities[1, 0, 0] < small_agrees / 2
    # The probabilities of a group on a statement still sum to one.
    assert np.allclose(fitted.probabilities.sum(axis=2), 1.0)


def test_the_same_votes_and_seed_give_the_same_groups() -> None:
    votes, _ = population(200, 8, seed=10)
    matrix = VoteMatrix.from_votes(votes, statements=range(STATEMENTS))
    first, second = analyse(matrix, seed=3), analyse(matrix, seed=3)
    assert first.k == second.k > 0
    assert first.groups == second.groups
    assert [r.statement for r in first.representative[0]] == [
        r.statement for r in second.representative[0]
    ]


def test_the_recompute_keeps_numpy_and_scikit_learn_on_one_thread() -> None:
    from sklearn.cluster import KMeans  # loads scikit-learn's OpenMP runtime
    from threadpoolctl import threadpool_info

    from kanavat.opinions.analysis import _one_thread

    KMeans(n_clusters=2, n_init=1).fit(np.arange(8.0).reshape(4, 2))
    with _one_thread():
        pools = threadpool_info()
        assert pools and all(pool["num_threads"] == 1 for pool in pools)
