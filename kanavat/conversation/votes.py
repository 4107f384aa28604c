"""Owner of ``conversation_votes``: append-only votes with their time and channel.

A pass is a vote; "not heard" (no answer, an unrecognised one) is not, and is never stored here.
A resident may change their mind: every vote is kept, and the latest per statement counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kanavat.store import Store

Vote = Literal["agree", "disagree", "pass"]
VOTES: tuple[Vote, ...] = ("agree", "disagree", "pass")
Channel = Literal["voice", "sms", "chat"]


@dataclass(frozen=True)
class Cast:
    statement_id: int
    respondent: str
    vote: Vote
    channel: Channel
    voted_at: str


def record(
    store: Store,
    campaign_id: str,
    statement_id: int,
    respondent: str,
    vote: Vote,
    channel: Channel,
    *,
    language: str | None = None,
    input_kind: str | None = None,
    confidence: float | None = None,
) -> None:
    if vote not in VOTES:
        raise ValueError(f"unknown vote '{vote}'; expected one of {', '.join(VOTES)}")
    store.execute(
        "INSERT INTO conversation_votes (campaign_id, statement_id, respondent, vote, channel, "
        "language, input_kind, confidence, voted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            campaign_id,
            statement_id,
            respondent,
            vote,
            channel,
            language,
            input_kind,
            confidence,
            store.now(),
        ],
    )


def export_rows(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    """Votes as ``kanavat export`` rows: question = the statement id, value = the vote."""
    return [
        {
            "campaign": campaign_id,
            "question": r["statement_id"],
            "respondent": r["respondent"],
            "channel": r["channel"],
            "language": r["language"],
            "input_kind": r["input_kind"],
            "raw": None,
            "value": r["vote"],
            "confidence": None if r["confidence"] is None else round(r["confidence"], 3),
            "answered_at": r["voted_at"],
        }
        for r in store.query(
            "SELECT * FROM conversation_votes WHERE campaign_id = ? ORDER BY id", [campaign_id]
        )
    ]


def all_votes(store: Store, campaign_id: str) -> list[Cast]:
    """Every vote in the order given (later ones overwrite earlier ones in the matrix)."""
    return [
        Cast(r["statement_id"], r["respondent"], r["vote"], r["channel"], r["voted_at"])
        for r in store.query(
            "SELECT statement_id, respondent, vote, channel, voted_at FROM conversation_votes "
            "WHERE campaign_id = ? ORDER BY id",
            [campaign_id],
        )
    ]


def latest_of(store: Store, campaign_id: str, respondent: str) -> dict[int, Vote]:
    """One respondent's vote that counts on each statement (the latest), for their own view
    of their data (``kanavat person show``, TIETONI)."""
    found: dict[int, Vote] = {}
    for r in store.query(
        "SELECT statement_id, vote FROM conversation_votes "
        "WHERE campaign_id = ? AND respondent = ? ORDER BY id",
        [campaign_id, respondent],
    ):
        found[r["statement_id"]] = r["vote"]
    return found


def count(store: Store, campaign_id: str) -> int:
    row = store.one(
        "SELECT count(*) AS n FROM conversation_votes WHERE campaign_id = ?", [campaign_id]
    )
    return int(row["n"]) if row else 0


def voted_on(store: Store, campaign_id: str, respondent: str) -> set[int]:
    """Statements this respondent has voted on (passes included)."""
    return {
        r["statement_id"]
        for r in store.query(
            "SELECT DISTINCT statement_id FROM conversation_votes "
            "WHERE campaign_id = ? AND respondent = ?",
            [campaign_id, respondent],
        )
    }


def latest_channel(store: Store, campaign_id: str) -> dict[str, str]:
    """Each respondent's channel of their latest vote (for the report's channel spread)."""
    found: dict[str, str] = {}
    for r in store.query(
        "SELECT respondent, channel FROM conversation_votes WHERE campaign_id = ? ORDER BY id",
        [campaign_id],
    ):
        found[r["respondent"]] = r["channel"]
    return found


def erase_respondent(
    store: Store, campaign_id: str, respondent: str, stranger: str | None = None
) -> int:
    """A resident's erasure request: their votes go (``[privacy] erasure = "delete"``), or stay
    under ``stranger``, a random id nothing links to them (``"anonymise"``)."""
    if stranger is None:
        cursor = store.execute(
            "DELETE FROM conversation_votes WHERE campaign_id = ? AND respondent = ?",
            [campaign_id, respondent],
        )
    else:
        cursor = store.execute(
            "UPDATE conversation_votes SET respondent = ? WHERE campaign_id = ? AND respondent = ?",
            [stranger, campaign_id, respondent],
        )
    return cursor.rowcount
