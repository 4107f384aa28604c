"""The inbound events log: the only writer of ``events``.

Every inbound event is stored before it is acted on, in its own commit, keyed by the
channel's idempotency key (a MessageSid, a chat client's frame id, a CallSid and turn). It is
*handled* when its outcome is written, in the same transaction as what it caused. So a key
seen again is one of two things: a handled event (answer as before, do nothing again) or an
unhandled one (the process died, or handling failed): handle it now. A delivery status
callback, whose handling is one row's update, is stored in the transaction that applies it
(``sender.status_callback``): never applied without being stored.

A turn's event names the worker holding it (``held_by``, ``kanavat.workers``) from the
moment it is stored: a sweep takes over an event whose holder is gone with a conditional
UPDATE (:func:`claim`), so of two workers sweeping at once one gets it, and leaves alone an
event a live worker holds.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from kanavat.store import Store

MAX_TRIES = 3  # an event whose handling failed this often is set aside, not retried forever
FAILED = "error:unhandled"


@dataclass(frozen=True)
class Recorded:
    """An event in the log: ``outcome`` None means it still has to be handled."""

    id: int
    outcome: str | None
    new: bool
    payload: dict[str, Any]

    @property
    def handled(self) -> bool:
        return self.outcome is not None


def record(
    store: Store,
    channel: str,
    kind: str,
    key: str | None,
    payload: dict[str, Any],
    *,
    holder: str | None = None,
) -> Recorded:
    """Store an event (committed at once unless inside a transaction), held by the worker
    ``holder`` if given; a key seen before returns the stored event, handled or not.

    No transaction of its own: the insert-if-new is one statement, atomic on both backends
    (on PostgreSQL a second insert of the key waits for the first's commit, then does
    nothing), and a key found is read after it (one round trip for a new event)."""
    cur = store.execute(
        "INSERT INTO events(received_at, channel, kind, external_id, payload, held_by) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, kind, external_id) DO NOTHING",
        [store.now(), channel, kind, key, json.dumps(payload, ensure_ascii=False), holder],
    )
    if cur.rowcount:
        return Recorded(int(cur.lastrowid), None, True, payload)  # type: ignore[arg-type]
    row = store.one(
        "SELECT id, outcome, payload FROM events WHERE channel = ? AND kind = ? "
        "AND external_id = ?",
        [channel, kind, key],
    )
    assert row is not None
    return Recorded(int(row["id"]), row["outcome"], False, json.loads(row["payload"]))


def record_handled(
    store: Store, channel: str, kind: str, key: str, payload: dict[str, Any], outcome: str
) -> bool:
    """Store an event already handled, with its outcome, in the caller's transaction (what
    it caused is written there too); False, and nothing written, if the key was seen before
    (then :func:`record` says how it stands). One statement where ``record`` and ``finish``
    are two, and the event never enters the index of unhandled ones."""
    now = store.now()
    cur = store.execute(
        "INSERT INTO events(received_at, channel, kind, external_id, payload, outcome, "
        "handled_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(channel, kind, external_id) DO NOTHING",
        [now, channel, kind, key, json.dumps(payload, ensure_ascii=False), outcome, now],
    )
    return bool(cur.rowcount)


def finish(store: Store, event_id: int, outcome: str) -> None:
    """The event handled (in the transaction of what it caused: sent with its commit)."""
    store.write(
        "UPDATE events SET outcome = ?, handled_at = ? WHERE id = ?",
        [outcome, store.now(), event_id],
    )


def get(store: Store, event_id: int) -> Recorded | None:
    row = store.one("SELECT id, outcome, payload FROM events WHERE id = ?", [event_id])
    if row is None:
        return None
    return Recorded(int(row["id"]), row["outcome"], False, json.loads(row["payload"]))


def outcome(store: Store, event_id: int) -> str | None:
    """A stored event's outcome: None while it is unhandled (or unknown)."""
    row = store.one("SELECT outcome FROM events WHERE id = ?", [event_id])
    return row["outcome"] if row else None


def received_at(store: Store, event_id: int) -> str | None:
    row = store.one("SELECT received_at FROM events WHERE id = ?", [event_id])
    return row["received_at"] if row else None


@dataclass(frozen=True)
class Unhandled:
    """An event never handled, and the worker that held it (None: nobody)."""

    id: int
    holder: str | None
    payload: dict[str, Any]
    received_at: str


def unhandled(
    store: Store,
    channel: str,
    kinds: tuple[str, ...],
    *,
    not_held_by: Collection[str] = (),
    limit: int = 200,
) -> list[Unhandled]:
    """Events of these kinds never handled, oldest first, but those a worker in
    ``not_held_by`` holds."""
    marks = ",".join("?" * len(kinds))
    others = sorted(not_held_by)
    held = f"AND (held_by IS NULL OR held_by NOT IN ({','.join('?' * len(others))})) "
    rows = store.query(
        "SELECT id, held_by, payload, received_at FROM events "
        "WHERE handled_at IS NULL AND channel = ? "
        f"AND kind IN ({marks}) {held if others else ''}ORDER BY id LIMIT ?",
        [channel, *kinds, *others, limit],
    )
    return [
        Unhandled(int(r["id"]), r["held_by"], json.loads(r["payload"]), r["received_at"])
        for r in rows
    ]


def claim(store: Store, event_id: int, holder: str | None, worker: str) -> bool:
    """Take an unhandled event over from ``holder`` (None: nobody held it) for ``worker``;
    False if it was handled or taken by another meanwhile (the UPDATE's condition: of two
    workers claiming at once, PostgreSQL's row lock lets one through)."""
    held = "held_by IS NULL" if holder is None else "held_by = ?"
    cur = store.execute(
        f"UPDATE events SET held_by = ? WHERE id = ? AND handled_at IS NULL AND {held}",
        [worker, event_id, *([] if holder is None else [holder])],
    )
    return cur.rowcount == 1


def failed_once(store: Store, event_id: int) -> bool:
    """Count a failed handling and let the event go (any worker's next sweep tries it
    again); True (and the event set aside as failed) at MAX_TRIES."""
    with store.transaction(f"event:{event_id}"):
        store.execute(
            "UPDATE events SET tries = tries + 1, held_by = NULL WHERE id = ?", [event_id]
        )
        row = store.one("SELECT tries FROM events WHERE id = ?", [event_id])
        if row is not None and row["tries"] >= MAX_TRIES:
            finish(store, event_id, FAILED)
            return True
    return False


def payloads(store: Store, where: str, params: list[Any]) -> list[tuple[int, str]]:
    """(id, payload) of the events matching ``where`` (privacy's scrubbing reads them)."""
    rows = store.query(f"SELECT id, payload FROM events WHERE ({where})", params)
    return [(int(r["id"]), r["payload"]) for r in rows]


def set_payload(store: Store, event_id: int, payload: str) -> None:
    """Replace a stored payload (privacy's scrubbing: the row and its key stay)."""
    store.execute("UPDATE events SET payload = ? WHERE id = ?", [payload, event_id])


def forget_chat_keys(store: Store, visitor: str) -> None:
    """Drop the idempotency keys of a visitor's chat events (they carry the visitor id)."""
    prefix = f"{visitor}:"
    store.execute(
        "UPDATE events SET external_id = NULL WHERE channel = 'chat' "
        "AND substr(external_id, 1, ?) = ?",
        [len(prefix), prefix],
    )
