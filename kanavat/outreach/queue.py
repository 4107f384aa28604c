"""The queue of residents on campaigns: the only writer of ``campaign_contacts``.

One row per resident per campaign says where that resident stands: ``pending`` (due at
``next_due_at``, or waiting for an attempt's outcome when that is NULL) or a final AAPOR
disposition. The dispatcher claims due rows with a lease (``lease_until``) and takes them off
the queue in the same transaction that writes their attempt, so a restart neither contacts
anyone twice nor loses anyone due (an unused lease expires; at start-up every lease is a dead
process's and is released).

Policy (when to retry, which channel next, which disposition a break-off earns) belongs to
the callers (``outcomes``, ``dispatch``, ``sampling``); this module holds the row's rules:
what each transition writes, the one vocabulary of dispositions, and that a final
disposition ends the row's place in the queue. Functions that change several rows or must go
with other writes join the caller's ``store.transaction()``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any, Literal, get_args

from kanavat.store import Store

Disposition = Literal[
    "pending",
    "complete",  # AAPOR 1.1: every question answered
    "partial",  # AAPOR 1.2: some answers, then a break-off
    "refusal",  # AAPOR 2.11: an opt-out, or a break-off before any answer
    "non_contact",  # AAPOR 2.20: attempts exhausted without reaching the resident
    "unknown",  # AAPOR 3.11: never attempted before the campaign ended
    "not_eligible",  # AAPOR 4.x: an invalid number, reached by the same questionnaire elsewhere
    "quota_filled",  # AAPOR 4.80: the sampled stratum met its target (not eligible)
    "other",
]
DISPOSITIONS: tuple[str, ...] = get_args(Disposition)
FINAL: tuple[str, ...] = tuple(d for d in DISPOSITIONS if d != "pending")
REACHED = ("complete", "partial", "refusal")
"""Dispositions of a resident who was heard: not contacted again for the same questionnaire."""


class UnknownDisposition(ValueError):
    pass


def _check(disposition: str) -> None:
    if disposition not in FINAL:
        raise UnknownDisposition(f"{disposition!r} is not one of {', '.join(FINAL)}")


# -- enrolment ---------------------------------------------------------------------------


def enrol(
    store: Store,
    campaign_id: str,
    contact_id: int,
    *,
    due_at: str,
    stratum: str | None = None,
) -> bool:
    """Put a contact on a campaign, due at ``due_at``; False if already on it (kept as is)."""
    now = store.now()
    cur = store.execute(
        "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, stratum, next_due_at, "
        "updated_at, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            campaign_id,
            contact_id,
            store.pseudonym(campaign_id, f"contact:{contact_id}"),
            stratum,
            due_at,
            now,
            now,
        ],
    )
    return bool(cur.rowcount)


def enrol_again(
    store: Store,
    campaign_id: str,
    contact_id: int,
    *,
    due_at: str,
    attributes: dict[str, str],
) -> None:
    """A service event's enrolment: a new round from the first step, whatever the last one
    ended in, carrying the event's attributes (copied onto the session that answers it)."""
    now = store.now()
    store.execute(
        "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, next_due_at, "
        "updated_at, enrolled_at, attributes) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(campaign_id, contact_id) DO UPDATE SET disposition = 'pending', "
        "channel_index = 0, attempts = 0, next_due_at = excluded.next_due_at, lease_until = NULL, "
        "updated_at = excluded.updated_at, enrolled_at = excluded.enrolled_at, "
        "attributes = excluded.attributes",
        [
            campaign_id,
            contact_id,
            store.pseudonym(campaign_id, f"contact:{contact_id}"),
            due_at,
            now,
            now,
            json.dumps(attributes, ensure_ascii=False),
        ],
    )


# -- reading -----------------------------------------------------------------------------


def entry(store: Store, campaign_id: str, contact_id: int) -> dict[str, Any] | None:
    """The resident's row on the campaign, or None."""
    return store.one(
        "SELECT * FROM campaign_contacts WHERE campaign_id = ? AND contact_id = ?",
        [campaign_id, contact_id],
    )


def due(
    store: Store,
    now: str,
    limit: int,
    busy: Sequence[str],
    steps: Sequence[tuple[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """Pending rows of running campaigns due by ``now``, unleased, oldest first, whose
    contact has a phone, no attempt in a ``busy`` status and no leased row (in any campaign:
    one live attempt per person, even with several dispatch lanes claiming at once).
    ``steps``: only these (campaign, channel index) pairs, one lane's channel. Read only:
    ``lease`` claims them, in the same transaction.

    Asked campaign by campaign, so each reads its own due index in order and stops at
    ``limit`` (a lane's rows may be far behind another lane's in one big campaign list).
    On PostgreSQL the rows read are locked for the claim's transaction and rows another
    claimer holds are skipped (``FOR UPDATE SKIP LOCKED``)."""
    if steps is None:
        return _due(store, now, limit, busy, "", [])
    by_campaign: dict[str, list[int]] = {}
    for campaign_id, index in steps:
        by_campaign.setdefault(campaign_id, []).append(index)
    rows: list[dict[str, Any]] = []
    for campaign_id, indexes in by_campaign.items():
        where = " AND cc.campaign_id = ? AND cc.channel_index IN ({})".format(
            ",".join("?" * len(indexes))
        )
        rows += _due(store, now, limit, busy, where, [campaign_id, *indexes])
    return sorted(rows, key=lambda r: r["next_due_at"])[:limit]


def _due(
    store: Store, now: str, limit: int, busy: Sequence[str], where: str, params: list[Any]
) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(busy))
    return store.query(
        "SELECT cc.campaign_id, cc.contact_id, cc.channel_index, cc.stratum, cc.next_due_at, "
        "c.phone, c.language, k.questionnaire FROM campaign_contacts cc "
        "JOIN campaigns k ON k.id = cc.campaign_id JOIN contacts c ON c.id = cc.contact_id "
        "WHERE k.status = 'running' AND cc.disposition = 'pending' "
        f"AND cc.next_due_at IS NOT NULL AND cc.next_due_at <= ?{where} "
        "AND (cc.lease_until IS NULL OR cc.lease_until < ?) AND c.phone IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.contact_id = cc.contact_id "
        f"AND a.status IN ({marks})) AND NOT EXISTS (SELECT 1 FROM campaign_contacts o "
        "WHERE o.contact_id = cc.contact_id AND o.lease_until >= ?) "
        f"ORDER BY cc.next_due_at LIMIT ?{store.backend.claim_rows('cc')}",
        [now, *params, now, *busy, now, limit],
    )


def reached_elsewhere(store: Store, campaign_id: str, contact_id: int, questionnaire: str) -> bool:
    """Whether another campaign with the same questionnaire already heard this resident."""
    marks = ",".join("?" * len(REACHED))
    return (
        store.one(
            "SELECT 1 AS x FROM campaign_contacts o JOIN campaigns k ON k.id = o.campaign_id "
            "WHERE o.contact_id = ? AND o.campaign_id != ? AND k.questionnaire = ? "
            f"AND o.disposition IN ({marks}) LIMIT 1",
            [contact_id, campaign_id, questionnaire, *REACHED],
        )
        is not None
    )


def pending(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's residents without a final disposition."""
    return store.query(
        "SELECT contact_id, attempts, channel_index, next_due_at FROM campaign_contacts "
        "WHERE campaign_id = ? AND disposition = 'pending' ORDER BY contact_id",
        [campaign_id],
    )


def unsettled_finished(store: Store) -> list[str]:
    """Finished campaigns that still have pending residents (a finish cut short)."""
    return [
        r["id"]
        for r in store.query(
            "SELECT k.id FROM campaigns k WHERE k.status = 'finished' AND EXISTS (SELECT 1 FROM "
            "campaign_contacts cc WHERE cc.campaign_id = k.id AND cc.disposition = 'pending') "
            "ORDER BY k.id"
        )
    ]


# -- the dispatcher's claim --------------------------------------------------------------


def lease(store: Store, campaign_id: str, contact_id: int, until: str) -> None:
    """Claim a due row until ``until`` (call inside the claim's transaction)."""
    store.execute(
        "UPDATE campaign_contacts SET lease_until = ?, updated_at = ? "
        "WHERE campaign_id = ? AND contact_id = ?",
        [until, store.now(), campaign_id, contact_id],
    )


def release(store: Store, campaign_id: str, contact_id: int, lease_until: str) -> None:
    """Give a claimed row back unused (if the lease is still ours): it is due as before."""
    store.execute(
        "UPDATE campaign_contacts SET lease_until = NULL WHERE campaign_id = ? "
        "AND contact_id = ? AND lease_until = ?",
        [campaign_id, contact_id, lease_until],
    )


def release_all(store: Store) -> int:
    """At start-up, or when a worker takes over the scheduler, every lease is a dead
    process's: only the scheduler's leader claims."""
    cur = store.execute(
        "UPDATE campaign_contacts SET lease_until = NULL WHERE lease_until IS NOT NULL"
    )
    return cur.rowcount


def take(
    store: Store, campaign_id: str, contact_id: int, lease_until: str, next_due: str | None
) -> bool:
    """Record an attempt taken: count it and set when the row is next due (None: when its
    outcome decides). False if the lease is no longer ours or the row is final. Call in the
    transaction that writes the attempt."""
    cur = store.execute(
        "UPDATE campaign_contacts SET attempts = attempts + 1, next_due_at = ?, "
        "lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND contact_id = ? "
        "AND lease_until = ? AND disposition = 'pending'",
        [next_due, store.now(), campaign_id, contact_id, lease_until],
    )
    return bool(cur.rowcount)


def untake(store: Store, campaign_id: str, contact_id: int, due_at: str) -> None:
    """An attempt that never reached the provider: not counted, and the step due again."""
    store.execute(
        "UPDATE campaign_contacts SET next_due_at = ?, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ? AND disposition = 'pending'",
        [due_at, store.now(), campaign_id, contact_id],
    )


# -- moving a pending row ----------------------------------------------------------------


def postpone(
    store: Store, campaign_id: str, contact_id: int, at: str, *, only_waiting: bool = False
) -> bool:
    """Make a pending row due at ``at``; ``only_waiting``: only if it waits for an outcome
    (no due time), so an outcome reported twice moves it once."""
    waiting = " AND next_due_at IS NULL" if only_waiting else ""
    cur = store.execute(
        "UPDATE campaign_contacts SET next_due_at = ?, updated_at = ? WHERE campaign_id = ? "
        f"AND contact_id = ? AND disposition = 'pending'{waiting}",
        [at, store.now(), campaign_id, contact_id],
    )
    return bool(cur.rowcount)


def schedule(store: Store, campaign_id: str, contact_id: int, at: str, channel_index: int) -> None:
    """The next step of a pending row: a retry on its channel or the next channel, at ``at``."""
    store.execute(
        "UPDATE campaign_contacts SET next_due_at = ?, channel_index = ?, lease_until = NULL, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ? AND disposition = 'pending'",
        [at, channel_index, store.now(), campaign_id, contact_id],
    )


# -- final dispositions ------------------------------------------------------------------


def finalise(store: Store, campaign_id: str, contact_id: int, disposition: str) -> None:
    """Set the resident's final disposition; the row leaves the queue. A later, better
    informed outcome (a completion after a break-off was assumed) overwrites an earlier one."""
    _check(disposition)
    store.execute(
        "UPDATE campaign_contacts SET disposition = ?, next_due_at = NULL, lease_until = NULL, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
        [disposition, store.now(), campaign_id, contact_id],
    )


def fill_quota(store: Store, campaign_id: str, stratum: str) -> int:
    """A sampled stratum met its target: its pending residents are ``quota_filled``."""
    cur = store.execute(
        "UPDATE campaign_contacts SET disposition = 'quota_filled', next_due_at = NULL, "
        "lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND stratum = ? "
        "AND disposition = 'pending'",
        [store.now(), campaign_id, stratum],
    )
    return cur.rowcount


# -- erasure -----------------------------------------------------------------------------


def forget(store: Store, contact_id: int, *, delete: bool) -> None:
    """A resident's erasure: their rows deleted, or (``delete`` False) kept for response
    rates but ended and no longer linkable to the answers (a random respondent id)."""
    if delete:
        store.execute("DELETE FROM campaign_contacts WHERE contact_id = ?", [contact_id])
        return
    store.execute(
        "UPDATE campaign_contacts SET respondent = ?, next_due_at = NULL, lease_until = NULL, "
        "disposition = CASE disposition WHEN 'pending' THEN 'refusal' ELSE disposition END, "
        "updated_at = ? WHERE contact_id = ?",
        ["x" + secrets.token_hex(6), store.now(), contact_id],
    )
