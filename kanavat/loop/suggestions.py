"""Residents' suggestions, any day: the only writer of ``suggestions``.

A resident texts EHDOTUS / FÖRSLAG / IDEA and their suggestion, writes it in the chat, or
calls and says it. It is recorded with the inbound event it came in (so a retried webhook
records it once), acknowledged at once, and waits in a queue for the council or service it
concerns: ``new`` → ``routed`` (to a queue, with a theme) → ``answered`` (the answer is told
to the writer in the same channel, through ``notices``) → ``closed``. Its text and the
writer's number are personal data: shown to officials, never logged, dropped on erasure;
the number is dropped as soon as the answer has its notice. The audio of one said by phone
is kept only with ``store_recordings`` on, by ``recordings.py``.
"""

from __future__ import annotations

from typing import Any

from kanavat.loop import notices
from kanavat.loop.person import where_person
from kanavat.store import Store

STATUSES = ("new", "routed", "answered", "closed")


class SuggestionError(ValueError):
    """An official's command that cannot be done (said how to fix it)."""


def record(
    store: Store,
    *,
    event_id: int | None,
    channel: str,
    language: str,
    text: str,
    queue: str | None,
    contact_id: int | None = None,
    phone: str | None = None,
    visitor: str | None = None,
    campaign_id: str | None = None,
) -> int:
    """Record a suggestion (joins the caller's transaction); its id. The same event again
    gives the same suggestion."""
    now = store.now()
    cur = store.execute(
        "INSERT INTO suggestions(event_id, channel, language, contact_id, phone, visitor, "
        "campaign_id, text, queue, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?) ON CONFLICT(event_id) DO NOTHING",
        [
            event_id,
            channel,
            language,
            contact_id,
            phone if contact_id is None else None,
            visitor,
            campaign_id,
            text,
            queue,
            now,
            now,
        ],
    )
    if cur.rowcount:
        return int(cur.lastrowid)  # type: ignore[arg-type]
    found = by_event(store, event_id) if event_id is not None else None
    assert found is not None
    return found


def get(store: Store, suggestion_id: int) -> dict[str, Any]:
    row = store.one("SELECT * FROM suggestions WHERE id = ?", [suggestion_id])
    if row is None:
        raise SuggestionError(f"no suggestion {suggestion_id}; see `kanavat suggestions list`")
    return row


def by_event(store: Store, event_id: int) -> int | None:
    """The suggestion an inbound event recorded, if it recorded one."""
    row = store.one("SELECT id FROM suggestions WHERE event_id = ?", [event_id])
    return int(row["id"]) if row else None


def listed(
    store: Store, *, status: str | None = None, queue: str | None = None
) -> list[dict[str, Any]]:
    where, params = [], []
    if status:
        where.append("status = ?")
        params.append(status)
    if queue:
        where.append("queue = ?")
        params.append(queue)
    sql = "SELECT * FROM suggestions" + (" WHERE " + " AND ".join(where) if where else "")
    return store.query(sql + " ORDER BY id", params)


def route(store: Store, suggestion_id: int, queue: str, theme: str | None) -> None:
    """To the queue of the council or service it concerns (and its theme, for reports)."""
    with store.transaction():
        row = get(store, suggestion_id)
        if row["status"] in ("answered", "closed"):
            raise SuggestionError(f"suggestion {suggestion_id} is {row['status']} already")
        store.execute(
            "UPDATE suggestions SET queue = ?, theme = coalesce(?, theme), status = 'routed', "
            "updated_at = ? WHERE id = ?",
            [queue, theme, store.now(), suggestion_id],
        )
        store.audit("suggestion.route", suggestion=suggestion_id, queue=queue)


def answer(store: Store, suggestion_id: int, text: str) -> bool:
    """Record the answer and plan telling it to the writer in their channel, atomically;
    False when nobody can be told (erased, or no way back to them)."""
    if not text.strip():
        raise SuggestionError("the answer is empty; write what the resident is to hear")
    with store.transaction():
        row = get(store, suggestion_id)
        if row["status"] in ("answered", "closed"):
            raise SuggestionError(f"suggestion {suggestion_id} is {row['status']} already")
        if row["text"] is None:
            raise SuggestionError(f"suggestion {suggestion_id} was erased at its writer's request")
        store.execute(
            "UPDATE suggestions SET answer = ?, status = 'answered', phone = NULL, "
            "updated_at = ? WHERE id = ?",
            [text, store.now(), suggestion_id],
        )
        reachable = row["contact_id"] is not None or row["phone"] or row["visitor"]
        planned = bool(reachable) and notices.plan_answer(store, row)
        store.audit("suggestion.answer", suggestion=suggestion_id, told=planned)
    return planned


def close(store: Store, suggestion_id: int) -> None:
    with store.transaction():
        get(store, suggestion_id)
        store.execute(
            "UPDATE suggestions SET status = 'closed', phone = NULL, updated_at = ? WHERE id = ?",
            [store.now(), suggestion_id],
        )
        store.audit("suggestion.close", suggestion=suggestion_id)


def expire(store: Store, before: str) -> int:
    """Retention: a suggestion made before ``before`` (ISO UTC) keeps its text for the
    council but loses the number or chat visitor it could be answered by; how many lost one."""
    cur = store.execute(
        "UPDATE suggestions SET phone = NULL, visitor = NULL, updated_at = ? "
        "WHERE created_at < ? AND (phone IS NOT NULL OR visitor IS NOT NULL)",
        [store.now(), before],
    )
    return cur.rowcount


def answer_text(store: Store, suggestion_id: int) -> str | None:
    row = store.one("SELECT answer FROM suggestions WHERE id = ?", [suggestion_id])
    return row["answer"] if row else None


def of_person(
    store: Store, *, contact_id: int | None, phone: str | None, visitor: str | None
) -> list[dict[str, Any]]:
    """A resident's suggestions (a data request lists them)."""
    where, params = where_person(contact_id, phone, visitor)
    if not where:
        return []
    return store.query(f"SELECT * FROM suggestions WHERE {where} ORDER BY id", params)


def forget(store: Store, *, contact_id: int | None, phone: str | None, visitor: str | None) -> int:
    """Erasure: the text, the answer and whatever points to the writer go; the row stays
    (status and theme) so counts already reported still add up. How many there were."""
    where, params = where_person(contact_id, phone, visitor)
    if not where:
        return 0
    cur = store.execute(
        "UPDATE suggestions SET text = NULL, answer = NULL, phone = NULL, visitor = NULL, "
        f"contact_id = NULL, updated_at = ? WHERE {where}",
        [store.now(), *params],
    )
    return cur.rowcount


def counts(store: Store, queue: str | None = None) -> dict[str, dict[str, int]]:
    """``{"status": {...}, "theme": {...}}``, of one queue or all."""
    sql = "SELECT status, coalesce(theme, '') AS theme, count(*) AS n FROM suggestions"
    params: list[Any] = []
    if queue:
        sql += " WHERE queue = ?"
        params.append(queue)
    out: dict[str, dict[str, int]] = {"status": dict.fromkeys(STATUSES, 0), "theme": {}}
    for r in store.query(sql + " GROUP BY status, theme", params):
        out["status"][r["status"]] += r["n"]
        if r["theme"]:
            out["theme"][r["theme"]] = out["theme"].get(r["theme"], 0) + r["n"]
    return out
