"""Things to tell a resident, once each: the only writer of ``notices``.

A notice is an outcome to tell one participant, or the answer to one resident's suggestion.
It keeps the channel and language the resident used; the notice lane (``tell.py``) claims due
ones with a lease, as the dispatcher claims invitations, and delivers them through the outbox
(a text), a call (the stream plays it), or the chat page (shown at the visitor's next visit).

Statuses: ``pending`` (due at ``due_at``), ``queued`` (a text in the outbox: told once the
provider took it), ``calling`` (a call placed or being placed), ``told``, ``unreached`` (a
call never answered after every try), ``skipped`` (opted out or erased meanwhile), ``failed``,
``held`` (an outcome's call waiting for its recording or an official's release: ``holds.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kanavat import locks, optouts
from kanavat.attempts import BAD_DELIVERY, PROVIDER_ACCEPTED, in_sql
from kanavat.loop.person import where_person
from kanavat.outreach.reach import TOOK_PART
from kanavat.store import Store, iso

PENDING, QUEUED, CALLING, TOLD = "pending", "queued", "calling", "told"
UNREACHED, SKIPPED, FAILED, HELD = "unreached", "skipped", "failed", "held"
OPEN = (PENDING, QUEUED, CALLING, HELD)
MAX_CALLS = 3  # a notice call tried this often and never answered is given up
RETRY_CALL_AFTER = timedelta(hours=2)


def visitor_of(visitor_id: str) -> str:
    """A session's ``visitor_id`` is ``<visitor>:<lang>``; the cookie's id is the first part."""
    return visitor_id.rsplit(":", 1)[0]


def _insert(store: Store, values: dict[str, Any]) -> bool:
    now = store.now()
    row = {"status": PENDING, "due_at": now, "created_at": now, "updated_at": now, **values}
    names = ", ".join(row)
    cur = store.execute(
        f"INSERT INTO notices({names}) VALUES ({', '.join('?' * len(row))}) ON CONFLICT DO NOTHING",
        list(row.values()),
    )
    return bool(cur.rowcount)


def plan_outcome(
    store: Store,
    outcome_id: int,
    campaign_id: str,
    question: str | None,
    *,
    hold_calls: bool = False,
) -> int:
    """Everyone who took part in the campaign (answered ``question``, if given) and has not
    opted out or been erased, once each, in the channel and language of their latest
    session; with ``hold_calls``, those told by phone are ``held``. Joins the caller's
    transaction; how many were planned."""
    about = "AND EXISTS (SELECT 1 FROM answers q WHERE q.session_id = s.id AND q.question = ?)"
    params: list[Any] = [campaign_id, *([question] if question else [])]
    rows = store.query(
        "SELECT s.id, s.contact_id, s.visitor_id, s.channel, s.language, c.phone FROM sessions s "
        "LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.campaign_id = ? "
        f"AND s.status != 'restarted' AND {TOOK_PART} {about if question else ''} ORDER BY s.id",
        params,
    )
    people: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in rows:
        if r["contact_id"] is not None:
            if not r["phone"] or optouts.is_opted_out(store, r["phone"]):
                people.pop(("contact", r["contact_id"]), None)
                continue
            people[("contact", r["contact_id"])] = r
        elif r["visitor_id"]:
            people[("visitor", visitor_of(r["visitor_id"]))] = r
    planned = 0
    for (who, key), r in people.items():
        channel = r["channel"] if r["channel"] in ("voice", "sms", "chat") else "sms"
        held = hold_calls and who == "contact" and channel == "voice"
        planned += _insert(
            store,
            {
                **({"status": HELD} if held else {}),
                "kind": "outcome",
                "ref_id": outcome_id,
                "campaign_id": campaign_id,
                "contact_id": key if who == "contact" else None,
                "visitor": key if who == "visitor" else None,
                "channel": "chat" if who == "visitor" else channel,
                "language": r["language"],
            },
        )
    return planned


def plan_answer(store: Store, suggestion: dict[str, Any]) -> bool:
    """The answer to a suggestion, to its writer in the channel it came by."""
    return _insert(
        store,
        {
            "kind": "answer",
            "ref_id": suggestion["id"],
            "campaign_id": suggestion["campaign_id"],
            "contact_id": suggestion["contact_id"],
            "phone": suggestion["phone"] if suggestion["contact_id"] is None else None,
            "visitor": suggestion["visitor"],
            "channel": suggestion["channel"],
            "language": suggestion["language"],
        },
    )


def told_by_phone(store: Store) -> list[tuple[int, str]]:
    """(outcome id, language) of every outcome some resident is told, or was, by a call."""
    rows = store.query(
        "SELECT DISTINCT ref_id, language FROM notices WHERE kind = 'outcome' "
        "AND channel = 'voice' ORDER BY ref_id, language"
    )
    return [(int(r["ref_id"]), r["language"]) for r in rows]


def held_calls(store: Store, outcome_id: int | None = None) -> dict[tuple[int, str], int]:
    """``{(outcome id, language): residents}`` whose outcome call is held (of one outcome)."""
    where, params = "", []
    if outcome_id is not None:
        where, params = " AND ref_id = ?", [outcome_id]
    rows = store.query(
        "SELECT ref_id, language, count(*) AS n FROM notices WHERE kind = 'outcome' "
        f"AND status = ?{where} GROUP BY ref_id, language ORDER BY ref_id, language",
        [HELD, *params],
    )
    return {(int(r["ref_id"]), r["language"]): int(r["n"]) for r in rows}


def unhold(store: Store, outcome_id: int, language: str | None = None) -> int:
    """An outcome's held calls (in one language, or all) become due now; how many."""
    where, params = "", []
    if language is not None:
        where, params = " AND language = ?", [language]
    now = store.now()
    cur = store.execute(
        "UPDATE notices SET status = ?, due_at = ?, updated_at = ? "
        f"WHERE kind = 'outcome' AND ref_id = ? AND status = ?{where}",
        [PENDING, now, now, outcome_id, HELD, *params],
    )
    return cur.rowcount


def planned(store: Store, kind: str, ref_id: int) -> int:
    row = store.one(
        "SELECT count(*) AS n FROM notices WHERE kind = ? AND ref_id = ?", [kind, ref_id]
    )
    return int(row["n"]) if row else 0


# -- the lane's queue ----------------------------------------------------------------------


def claim(store: Store, channels: tuple[str, ...], lease: timedelta, limit: int) -> list[dict]:
    """Lease due notices of these channels (texts and calls), with the number to use; a
    notice whose resident has another notice leased is left for later (one at a time).

    One claimer at a time (the name ``locks.NOTICES``), not the whole store: on PostgreSQL
    the rows read are locked until the leases are written, and a row another transaction
    is changing is skipped, so residents' turns in every worker go on meanwhile."""
    now = store.clock()
    marks = ",".join("?" * len(channels))
    with store.transaction(locks.NOTICES):
        rows = store.query(
            "SELECT n.*, coalesce(c.phone, n.phone) AS to_number FROM notices n "
            "LEFT JOIN contacts c ON c.id = n.contact_id "
            f"WHERE n.status = ? AND n.channel IN ({marks}) AND n.due_at <= ? "
            "AND (n.lease_until IS NULL OR n.lease_until < ?) ORDER BY n.due_at, n.id LIMIT ?"
            f"{store.backend.claim_rows('n')}",
            [PENDING, *channels, iso(now), iso(now), limit],
        )
        until = iso(now + lease)
        for r in rows:
            store.execute(
                "UPDATE notices SET lease_until = ?, updated_at = ? WHERE id = ?",
                [until, store.now(), r["id"]],
            )
            r["lease_until"] = until
    return rows


def release_all(store: Store) -> int:
    """When a process takes the lead: the last leader's leases are released (the store is
    the truth)."""
    cur = store.execute("UPDATE notices SET lease_until = NULL WHERE lease_until IS NOT NULL")
    return cur.rowcount


def _set(store: Store, notice_id: int, sql: str, params: list[Any]) -> int:
    cur = store.execute(
        f"UPDATE notices SET {sql}, updated_at = ? WHERE id = ?", [*params, store.now(), notice_id]
    )
    return cur.rowcount


def postpone(store: Store, notice_id: int, due_at: str) -> None:
    _set(store, notice_id, "due_at = ?, lease_until = NULL", [due_at])


def release(store: Store, notice_id: int) -> None:
    _set(store, notice_id, "lease_until = NULL", [])


def skip(store: Store, notice_id: int, reason: str) -> None:
    _set(
        store,
        notice_id,
        "status = ?, reason = ?, lease_until = NULL, phone = NULL",
        [SKIPPED, reason],
    )


def queued(store: Store, notice_id: int, outbound_id: int) -> None:
    """A text in the outbox (same transaction): the sender delivers it, once."""
    _set(store, notice_id, "status = ?, outbound_id = ?, lease_until = NULL", [QUEUED, outbound_id])


def calling(store: Store, notice_id: int) -> bool:
    """About to place its call (committed first: a crash before the provider answers is
    settled at start-up, never called twice unknowingly). False if it is no longer due."""
    cur = store.execute(
        "UPDATE notices SET status = ?, tries = tries + 1, call_sid = NULL, updated_at = ? "
        "WHERE id = ? AND status = ?",
        [CALLING, store.now(), notice_id, PENDING],
    )
    return bool(cur.rowcount)


def call_placed(store: Store, notice_id: int, call_sid: str) -> None:
    _set(store, notice_id, "call_sid = coalesce(call_sid, ?)", [call_sid])


def by_call(store: Store, call_sid: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM notices WHERE call_sid = ?", [call_sid])


def get(store: Store, notice_id: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM notices WHERE id = ?", [notice_id])


def told(store: Store, notice_id: int) -> bool:
    """Told (played to the end, shown); True the first time only."""
    cur = store.execute(
        "UPDATE notices SET status = ?, told_at = ?, lease_until = NULL, phone = NULL, "
        "updated_at = ? WHERE id = ? AND status != ?",
        [TOLD, store.now(), store.now(), notice_id, TOLD],
    )
    return bool(cur.rowcount)


def call_not_told(store: Store, notice_id: int, reason: str) -> None:
    """A notice call ended without the message heard: tried again later, up to
    :data:`MAX_CALLS` calls."""
    row = get(store, notice_id)
    if row is None or row["status"] != CALLING:
        return
    if row["tries"] >= MAX_CALLS:
        _set(store, notice_id, "status = ?, reason = ?, lease_until = NULL", [UNREACHED, reason])
        return
    due = iso(store.clock() + RETRY_CALL_AFTER)
    _set(
        store,
        notice_id,
        "status = ?, reason = ?, due_at = ?, lease_until = NULL",
        [PENDING, reason, due],
    )


def again_soon(store: Store, notice_id: int, reason: str, after: timedelta) -> None:
    """A provider hiccup before anything left: due again after a pause."""
    _set(
        store,
        notice_id,
        "status = ?, reason = ?, due_at = ?, lease_until = NULL",
        [PENDING, reason, iso(store.clock() + after)],
    )


def fail(store: Store, notice_id: int, reason: str) -> None:
    _set(store, notice_id, "status = ?, reason = ?, lease_until = NULL", [FAILED, reason])


def stranded_calls(store: Store) -> list[dict[str, Any]]:
    """Notices a dead process left ``calling``: with the number, to ask the provider."""
    return store.query(
        "SELECT n.*, coalesce(c.phone, n.phone) AS to_number FROM notices n "
        "LEFT JOIN contacts c ON c.id = n.contact_id WHERE n.status = ?",
        [CALLING],
    )


def live_calls(store: Store) -> int:
    row = store.one("SELECT count(*) AS n FROM notices WHERE status = ?", [CALLING])
    return int(row["n"]) if row else 0


# -- the chat page -------------------------------------------------------------------------


def for_visitor(store: Store, visitor: str) -> list[dict[str, Any]]:
    """A chat visitor's notices not yet shown, oldest first."""
    return store.query(
        "SELECT * FROM notices WHERE visitor = ? AND channel = 'chat' AND status = ? ORDER BY id",
        [visitor, PENDING],
    )


def shown(store: Store, notice_id: int, outbound_id: int) -> bool:
    cur = store.execute(
        "UPDATE notices SET status = ?, outbound_id = ?, told_at = ?, updated_at = ? "
        "WHERE id = ? AND status = ?",
        [TOLD, outbound_id, store.now(), store.now(), notice_id, PENDING],
    )
    return bool(cur.rowcount)


# -- erasure and counts --------------------------------------------------------------------


def forget(store: Store, *, contact_id: int | None, phone: str | None, visitor: str | None) -> int:
    """An erased resident is told nothing more: their open notices are skipped and the
    number or visitor id they kept is dropped. How many were open."""
    who, params = where_person(contact_id, phone, visitor)
    if not who:
        return 0
    cur = store.execute(
        f"UPDATE notices SET status = ?, reason = 'erased', lease_until = NULL, updated_at = ? "
        f"WHERE ({who}) AND status IN {in_sql(OPEN)}",
        [SKIPPED, store.now(), *params],
    )
    store.execute(f"UPDATE notices SET phone = NULL, visitor = NULL WHERE {who}", params)
    return cur.rowcount


def delivered_status(row: dict[str, Any]) -> str:
    """A notice's state as a report counts it: a queued text is told once the provider took
    it, failed if it could not."""
    status = row["status"]
    if status == QUEUED and row.get("outbound_status") in PROVIDER_ACCEPTED:
        return TOLD
    if status == QUEUED and row.get("outbound_status") in BAD_DELIVERY:
        return FAILED
    return status


def counts(store: Store, kind: str, ref_ids: list[int]) -> dict[str, dict[str, int]]:
    """``{channel: {status: n}}`` over the notices of these outcomes or suggestions."""
    if not ref_ids:
        return {}
    marks = ",".join("?" * len(ref_ids))
    out: dict[str, dict[str, int]] = {}
    for r in store.query(
        "SELECT n.channel, n.status, o.status AS outbound_status FROM notices n "
        f"LEFT JOIN outbound o ON o.id = n.outbound_id WHERE n.kind = ? AND n.ref_id IN ({marks})",
        [kind, *ref_ids],
    ):
        by = out.setdefault(r["channel"], {})
        status = delivered_status(r)
        by[status] = by.get(status, 0) + 1
    return out
