"""Owner of ``conversation_groups``: the opinion-group update for a campaign, run as a job.

``update`` reads the accepted statements and all votes, runs the math (``kanavat/opinions``)
with the previous update's history so groups stay stable, and stores the result. It is meant to
run from the scheduler or a command as votes arrive, never inside a resident's turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from kanavat.conversation import statements, votes
from kanavat.opinions.analysis import Analysis, analyse
from kanavat.opinions.clustering import GroupHistory
from kanavat.opinions.matrix import VoteMatrix
from kanavat.store import Store

LABELS = "ABCDE"


def label(group: int) -> str:
    return LABELS[group]


@dataclass(frozen=True)
class Snapshot:
    """What the last update found, as stored."""

    k: int
    members: dict[str, str]  # respondent -> group label
    representative: dict[str, list[dict[str, Any]]]
    consensus: list[dict[str, Any]]
    priorities: dict[int, float]
    votes_seen: int
    updated_at: str


def _history(state: dict[str, Any]) -> tuple[GroupHistory, dict[int, tuple[float, float]]]:
    history = GroupHistory(
        state.get("k", 0),
        state.get("candidate_k", 0),
        state.get("candidate_wins", 0),
        {r: LABELS.index(g) for r, g in state.get("members", {}).items()},
    )
    loadings = {int(s): (a, b) for s, (a, b) in state.get("loadings", {}).items()}
    return history, loadings


def _state(analysis: Analysis) -> dict[str, Any]:
    return {
        "k": analysis.k,
        "candidate_k": analysis.history.candidate_k,
        "candidate_wins": analysis.history.candidate_wins,
        "members": {str(r): label(g) for r, g in analysis.groups.items()},
        "loadings": {str(s): list(v) for s, v in analysis.loadings.items()},
        "representative": {
            label(g): [
                {
                    "statement": int(r.statement),
                    "direction": r.direction,
                    "rate": r.rate,
                    "rest_rate": r.rest_rate,
                    "significant": r.significant,
                }
                for r in items
            ]
            for g, items in analysis.representative.items()
        },
        "consensus": [
            {"statement": int(c.statement), "direction": c.direction, "score": c.score}
            for c in analysis.consensus
        ],
        "priorities": {str(s): p for s, p in analysis.priorities.items()},
    }


def update(store: Store, campaign_id: str, seed: int = 0) -> Snapshot:
    pool = statements.accepted_ids(store, campaign_id)
    cast = votes.all_votes(store, campaign_id)
    matrix = VoteMatrix.from_votes(
        ((v.respondent, v.statement_id, v.vote) for v in cast), statements=pool
    )
    previous = store.one(
        "SELECT state FROM conversation_groups WHERE campaign_id = ?", [campaign_id]
    )
    history, loadings = _history(json.loads(previous["state"]) if previous else {})
    if matrix.values.size:
        analysis = analyse(matrix, history, loadings, seed=seed)
        state = _state(analysis)
    else:
        state = {"k": 0, "members": {}, "representative": {}, "consensus": [], "priorities": {}}
    with store.transaction():
        store.execute(
            "INSERT INTO conversation_groups (campaign_id, state, votes_seen, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET state = excluded.state, "
            "votes_seen = excluded.votes_seen, updated_at = excluded.updated_at",
            [campaign_id, json.dumps(state), len(cast), store.now()],
        )
    return latest(store, campaign_id)  # type: ignore[return-value]


def latest(store: Store, campaign_id: str) -> Snapshot | None:
    row = store.one("SELECT * FROM conversation_groups WHERE campaign_id = ?", [campaign_id])
    if row is None:
        return None
    state = json.loads(row["state"])
    return Snapshot(
        state.get("k", 0),
        state.get("members", {}),
        state.get("representative", {}),
        state.get("consensus", []),
        {int(s): p for s, p in state.get("priorities", {}).items()},
        row["votes_seen"],
        row["updated_at"],
    )


def forget_member(store: Store, campaign_id: str, respondent: str) -> None:
    """An erased resident leaves the stored groups at once (the next update places the votes
    again, under whatever id they are kept)."""
    row = store.one("SELECT state FROM conversation_groups WHERE campaign_id = ?", [campaign_id])
    if row is None:
        return
    state = json.loads(row["state"])
    if state.get("members", {}).pop(respondent, None) is not None:
        store.execute(
            "UPDATE conversation_groups SET state = ?, votes_seen = -1 WHERE campaign_id = ?",
            [json.dumps(state), campaign_id],
        )


def update_if_stale(store: Store, campaign_id: str) -> Snapshot:
    """Recompute only when votes arrived since the last update (the job's cheap check)."""
    current = latest(store, campaign_id)
    if current is not None and current.votes_seen == votes.count(store, campaign_id):
        return current
    return update(store, campaign_id)


def update_all(store: Store, config: Any) -> int:
    """The job: every conversation campaign whose votes changed since its last update.
    Returns how many were recomputed."""
    recomputed = 0
    for campaign_id, campaign in config.campaigns.items():
        if campaign.conversation is None:
            continue
        before = latest(store, campaign_id)
        after = update_if_stale(store, campaign_id)
        recomputed += before is None or after.votes_seen != before.votes_seen
    return recomputed


def next_statement(
    store: Store,
    campaign_id: str,
    respondent: str,
    rng: np.random.Generator,
    exclude: set[int] | None = None,
) -> int | None:
    """The next statement to offer this respondent, by the last update's priorities."""
    from kanavat.opinions import priority

    snapshot = latest(store, campaign_id)
    known = snapshot.priorities if snapshot else {}
    seen = votes.voted_on(store, campaign_id, respondent)
    skip = seen | (exclude or set())
    candidates = [s for s in statements.accepted_ids(store, campaign_id) if s not in skip]
    chosen = priority.next_statement(
        dict(known), candidates, rng, default=priority.new_statement_priority()
    )
    return None if chosen is None else int(chosen)  # type: ignore[arg-type]
