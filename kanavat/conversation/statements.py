"""Owner of ``conversation_statements``: seed statements, residents' own, and moderation.

Residents' statements enter the pool only when a moderator accepts them (or at once when the
conversation has moderation off); near-duplicates of a statement already there are not added
again. The author is never stored, so no output can attribute a statement to a person.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from kanavat import locks
from kanavat.store import Store

Status = Literal["pending", "accepted", "rejected"]
STATUSES: tuple[Status, ...] = ("pending", "accepted", "rejected")
DUPLICATE_SIMILARITY = 90  # rapidfuzz token-set ratio at which two statements say the same
MAX_LENGTH = 280


class UnknownStatement(LookupError):
    """No such statement in the campaign."""


@dataclass(frozen=True)
class Statement:
    id: int
    campaign_id: str
    origin: Literal["seed", "resident"]
    seed_key: str | None
    texts: dict[str, str]
    channel: str | None
    status: Status
    created_at: str

    def text(self, language: str) -> str:
        """The statement in ``language``, else in the language it was written in."""
        return self.texts.get(language) or next(iter(self.texts.values()))


@dataclass(frozen=True)
class Submitted:
    statement: Statement
    duplicate: bool  # an equal or near-equal statement was there already


def dedup_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def _row(row: dict) -> Statement:
    return Statement(
        row["id"],
        row["campaign_id"],
        row["origin"],
        row["seed_key"],
        json.loads(row["texts"]),
        row["channel"],
        row["status"],
        row["created_at"],
    )


def sync_seeds(store: Store, campaign_id: str, seeds: dict[str, dict[str, str]]) -> None:
    """Make the config's seed statements (key -> texts by language) accepted statements.

    A seed whose text changed in the config keeps its id (votes on it stay); its text follows.
    """
    with store.transaction(locks.statements(campaign_id)):
        for key, texts in seeds.items():
            store.execute(
                "INSERT INTO conversation_statements (campaign_id, origin, seed_key, texts, "
                "dedup_key, status, created_at) VALUES (?, 'seed', ?, ?, ?, 'accepted', ?) "
                "ON CONFLICT (campaign_id, seed_key) WHERE seed_key IS NOT NULL "
                "DO UPDATE SET texts = excluded.texts",
                [
                    campaign_id,
                    key,
                    json.dumps(texts, ensure_ascii=False),
                    "seed:" + key,
                    store.now(),
                ],
            )


def submit(
    store: Store, campaign_id: str, text: str, language: str, channel: str, moderated: bool
) -> Submitted:
    """A resident's own statement. Raises ValueError for an empty or overlong one."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError("an empty statement")
    if len(cleaned) > MAX_LENGTH:
        raise ValueError(f"a statement is at most {MAX_LENGTH} characters")
    key = dedup_key(cleaned)
    with store.transaction(locks.statements(campaign_id)):
        for existing in listing(store, campaign_id):
            if existing.status == "rejected":
                continue
            if any(
                fuzz.token_set_ratio(key, dedup_key(t)) >= DUPLICATE_SIMILARITY
                for t in existing.texts.values()
            ):
                return Submitted(existing, True)
        status: Status = "pending" if moderated else "accepted"
        cursor = store.execute(
            "INSERT INTO conversation_statements (campaign_id, origin, texts, dedup_key, channel, "
            "status, created_at, moderated_at) VALUES (?, 'resident', ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (campaign_id, dedup_key) DO NOTHING",
            [
                campaign_id,
                json.dumps({language: cleaned}, ensure_ascii=False),
                key,
                channel,
                status,
                store.now(),
                None if moderated else store.now(),
            ],
        )
        if not cursor.rowcount:  # the same text, rejected before: stays rejected
            row = store.one(
                "SELECT * FROM conversation_statements WHERE campaign_id = ? AND dedup_key = ?",
                [campaign_id, key],
            )
            return Submitted(_row(row), True)  # type: ignore[arg-type]
        return Submitted(get(store, campaign_id, int(cursor.lastrowid or 0)), False)


def by_text(store: Store, campaign_id: str, text: str) -> Statement | None:
    """The statement stored with exactly these words (as ``submit`` cleans them), if any."""
    row = store.one(
        "SELECT * FROM conversation_statements WHERE campaign_id = ? AND dedup_key = ?",
        [campaign_id, dedup_key(" ".join(text.split()))],
    )
    return None if row is None else _row(row)


def listing(store: Store, campaign_id: str, status: Status | None = None) -> list[Statement]:
    sql = "SELECT * FROM conversation_statements WHERE campaign_id = ?"
    params: list[object] = [campaign_id]
    if status:
        sql += " AND status = ?"
        params.append(status)
    return [_row(r) for r in store.query(sql + " ORDER BY id", params)]


def accepted_ids(store: Store, campaign_id: str) -> list[int]:
    return [s.id for s in listing(store, campaign_id, "accepted")]


def get(store: Store, campaign_id: str, statement_id: int) -> Statement:
    row = store.one(
        "SELECT * FROM conversation_statements WHERE campaign_id = ? AND id = ?",
        [campaign_id, statement_id],
    )
    if row is None:
        raise UnknownStatement(f"no statement {statement_id} in campaign '{campaign_id}'")
    return _row(row)


def moderate(store: Store, campaign_id: str, statement_id: int, status: Status) -> Statement:
    get(store, campaign_id, statement_id)
    with store.transaction():
        store.execute(
            "UPDATE conversation_statements SET status = ?, moderated_at = ? "
            "WHERE campaign_id = ? AND id = ?",
            [status, store.now(), campaign_id, statement_id],
        )
        store.audit("statement." + status, campaign=campaign_id, statement=statement_id)
    return get(store, campaign_id, statement_id)


def edit(store: Store, campaign_id: str, statement_id: int, language: str, text: str) -> Statement:
    """A moderator's rewording (a typo, a name removed): the statement keeps its id and votes."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_LENGTH:
        raise ValueError(f"a statement is 1 to {MAX_LENGTH} characters")
    current = get(store, campaign_id, statement_id)
    texts = {**current.texts, language: cleaned}
    with store.transaction():
        store.execute(
            "UPDATE conversation_statements SET texts = ?, moderated_at = ? "
            "WHERE campaign_id = ? AND id = ?",
            [json.dumps(texts, ensure_ascii=False), store.now(), campaign_id, statement_id],
        )
        store.audit("statement.edited", campaign=campaign_id, statement=statement_id)
    return get(store, campaign_id, statement_id)
