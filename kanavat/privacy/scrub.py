"""Scrubbing personal data out of stored inbound events, and making deletions stick on disk.

``events.payload`` keeps each webhook's form as received, so a duplicate can be recognised
and a failure investigated; it holds phone numbers and message bodies. Scrubbing keeps the
row (its external id still stops a late Twilio retry from being processed twice) and only
the fields that say nothing about a person: sids, statuses, error codes.

SQLite leaves deleted bytes in free pages and in the write-ahead log; ``secure_delete``
overwrites them and a checkpoint empties the log, so an erased number is not on the disk.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any

from kanavat import inbound
from kanavat.store import Store

KEEP = frozenset(
    {
        "MessageSid",
        "SmsSid",
        "SmsMessageSid",
        "CallSid",
        "AccountSid",
        "MessageStatus",
        "SmsStatus",
        "CallStatus",
        "ErrorCode",
        "Direction",
        "AnsweredBy",
        "SequenceNumber",
        "NumSegments",
        "OptOutType",
        "campaign",
        "type",
        "channel",  # a turn's message (kanavat/turn/message.py): what kind of event it was
        "kind",
        "action",
        "campaign_id",
    }
)


def scrubbed(payload: str) -> str:
    try:
        data: Any = json.loads(payload)
    except (TypeError, ValueError):
        data = {}
    kept = {k: v for k, v in data.items() if k in KEEP} if isinstance(data, dict) else {}
    return json.dumps({**kept, "scrubbed": True}, ensure_ascii=False)


def scrub_events(store: Store, where: str, params: list[Any]) -> int:
    """Scrub the payloads of the events matching ``where``; returns how many changed."""
    count = 0
    done = "payload NOT LIKE '%\"scrubbed\": true}'"
    for event_id, payload in inbound.payloads(store, f"({where}) AND {done}", params):
        inbound.set_payload(store, event_id, scrubbed(payload))
        count += 1
    return count


def scrub_phone_events(store: Store, phone: str) -> int:
    """Every event whose payload holds ``phone`` (a sender's From, a status callback's To)."""
    escaped = phone.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return scrub_events(store, "payload LIKE ? ESCAPE '\\'", [f"%{escaped}%"])


def secure(store: Store) -> None:
    """From now on this connection overwrites what it deletes (SQLite ``secure_delete``;
    PostgreSQL's deleted rows go with its vacuum)."""
    if store.dialect == "sqlite":
        store.execute("PRAGMA secure_delete = ON")


def flush(store: Store) -> None:
    """Move the write-ahead log into the database and empty it, so deleted bytes leave the
    disk now; readers holding old pages may keep part of it until the next checkpoint."""
    if store.dialect != "sqlite":
        return
    with contextlib.suppress(sqlite3.OperationalError):
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
