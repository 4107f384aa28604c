"""Attempts and outbound messages: the only writer of ``attempts`` and ``outbound``, and the
one status vocabulary both use.

An *attempt* is one try at reaching a contact for a campaign (a call, an SMS invitation or
reminder). An *outbound* row is one message kanavat sends or answers with. Outbound rows are
an outbox: a turn writes them ``pending`` in its own transaction, the sender
(``kanavat/sender.py``) claims them (``sending``), calls the provider after the commit, and
records the provider's answer by sid. Delivery callbacks move rows along by rank, never back.

Everything else calls these functions; nothing else writes these two tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from kanavat.store import Store, iso


class AttemptStatus(StrEnum):
    """An attempt's status: ours while the provider has not answered, then Twilio's."""

    SENDING = "sending"  # row written, provider not (yet) answered: reconciled at start-up
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    SENT = "sent"  # an SMS step whose first message the provider accepted
    UNCONFIRMED = "unconfirmed"  # adopted at start-up: the provider has it, its status unknown
    ABANDONED = "abandoned"  # never reached the provider: not counted as an attempt


class OutboundStatus(StrEnum):
    """An outbound message's status: ours until the provider answers, then Twilio's."""

    PENDING = "pending"  # in the outbox, not yet handed to the provider
    SENDING = "sending"  # claimed by a sender; the provider call may be under way
    ACCEPTED = "accepted"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    ERROR = "error"  # the provider answered something we do not understand
    ABANDONED = "abandoned"  # its attempt never reached the provider
    SHOWN = "shown"  # a chat reply written to the visitor's socket or HTTP response


S, M = AttemptStatus, OutboundStatus
LIVE: tuple[str, ...] = (S.SENDING, S.QUEUED, S.INITIATED, S.RINGING, S.IN_PROGRESS)
"""An attempt still under way: a contact has at most one."""
FINAL_CALL = frozenset({S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED})
NOT_REACHED = frozenset({S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED})
NOT_COUNTED = frozenset({S.FAILED, S.ABANDONED})
"""SMS steps that did not happen (the provider refused them, or they never left)."""
IN_FLIGHT: tuple[str, ...] = (M.PENDING, M.SENDING, M.ACCEPTED, M.QUEUED)
"""A message not yet known to have left the provider (a rehearsal waits for none)."""
BAD_DELIVERY = frozenset({M.FAILED, M.UNDELIVERED})
PROVIDER_ACCEPTED = frozenset({M.ACCEPTED, M.QUEUED, M.SENT, M.DELIVERED, M.UNDELIVERED, M.READ})

CALL_RANK: dict[str, int] = {
    S.SENDING: 0,
    S.QUEUED: 1,
    S.INITIATED: 2,
    S.RINGING: 3,
    S.IN_PROGRESS: 4,
    **{s: 5 for s in FINAL_CALL},
}
MESSAGE_RANK: dict[str, int] = {
    M.PENDING: 0,
    M.SENDING: 0,
    M.ACCEPTED: 1,
    M.QUEUED: 1,
    M.SENT: 2,
    M.DELIVERED: 3,
    M.UNDELIVERED: 3,
    M.FAILED: 3,
    M.READ: 4,
}
FINAL_MESSAGE_RANK = MESSAGE_RANK[M.DELIVERED]
MAX_TRIES = 5  # a message the provider could not take this often is failed
RETRY_AFTER = (timedelta(seconds=2), timedelta(seconds=10), timedelta(seconds=30))


def in_sql(values: Iterable[str]) -> str:
    """``('a','b')`` for a fixed vocabulary (constants only, never user input)."""
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


LIVE_SQL = in_sql(LIVE)


# -- attempts ------------------------------------------------------------------------------


def open_attempt(
    store: Store,
    campaign_id: str,
    contact_id: int,
    channel: str,
    *,
    status: str = S.SENDING,
    provider_sid: str | None = None,
) -> int:
    """Write an attempt; with ``provider_sid`` an existing attempt for that sid is returned
    (an inbound call's TwiML request retried)."""
    now = store.now()
    cur = store.execute(
        "INSERT INTO attempts(campaign_id, contact_id, channel, provider_sid, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(provider_sid) DO NOTHING",
        [campaign_id, contact_id, channel, provider_sid, str(status), now, now],
    )
    if cur.rowcount:
        return int(cur.lastrowid)  # type: ignore[arg-type]
    row = store.one("SELECT id FROM attempts WHERE provider_sid = ?", [provider_sid])
    assert row is not None
    return int(row["id"])


def set_attempt(
    store: Store,
    attempt_id: int,
    status: str,
    *,
    error_code: int | None = None,
    provider_sid: str | None = None,
) -> None:
    """Set an attempt's status (and error code; a sid only if it had none)."""
    store.execute(
        "UPDATE attempts SET status = ?, error_code = coalesce(?, error_code), "
        "provider_sid = coalesce(provider_sid, ?), updated_at = ? WHERE id = ?",
        [str(status), error_code, provider_sid, store.now(), attempt_id],
    )


def call_placed(store: Store, attempt_id: int, sid: str, status: str) -> None:
    """The provider took the call: its sid, and its status unless a callback was faster."""
    store.execute(
        "UPDATE attempts SET provider_sid = coalesce(provider_sid, ?), status = CASE WHEN "
        "status = ? THEN ? ELSE status END, updated_at = ? WHERE id = ?",
        [sid, S.SENDING, status, store.now(), attempt_id],
    )


def call_answered(store: Store, attempt_id: int, call_sid: str, answered_by: str | None) -> None:
    """The call's TwiML request: it names the call (and who answered it)."""
    store.execute(
        "UPDATE attempts SET provider_sid = ?, answered_by = coalesce(?, answered_by), "
        "updated_at = ? WHERE id = ?",
        [call_sid, answered_by or None, store.now(), attempt_id],
    )


def call_status(
    store: Store, call_sid: str, status: str, answered_by: str | None
) -> dict[str, Any] | None:
    """A call status callback: later states win. The attempt as it was, or None if unknown."""
    row = store.one(
        "SELECT id, status, campaign_id, contact_id, answered_by FROM attempts "
        "WHERE provider_sid = ?",
        [call_sid],
    )
    if row is None:
        return None
    if CALL_RANK.get(status, 0) >= CALL_RANK.get(row["status"], 0):
        store.execute(
            "UPDATE attempts SET status = ?, answered_by = coalesce(?, answered_by), "
            "updated_at = ? WHERE id = ?",
            [status, answered_by or None, store.now(), row["id"]],
        )
    return row


def attempt(store: Store, attempt_id: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM attempts WHERE id = ?", [attempt_id])


def with_contact(store: Store, attempt_id: int | str) -> dict[str, Any] | None:
    """An attempt with its contact's language (a call's stream starts from it)."""
    return store.one(
        "SELECT a.id, a.campaign_id, a.contact_id, a.status, c.language FROM attempts a "
        "JOIN contacts c ON c.id = a.contact_id WHERE a.id = ?",
        [attempt_id],
    )


def attempt_by_sid(store: Store, sid: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM attempts WHERE provider_sid = ?", [sid])


def live_calls_by_campaign(store: Store) -> dict[str, int]:
    return {
        r["campaign_id"]: r["n"]
        for r in store.query(
            "SELECT campaign_id, count(*) AS n FROM attempts WHERE channel = 'voice' "
            f"AND status IN {LIVE_SQL} GROUP BY campaign_id"
        )
    }


def live_count(store: Store, campaign_id: str) -> int:
    row = store.one(
        f"SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND status IN {LIVE_SQL}",
        [campaign_id],
    )
    return int(row["n"]) if row else 0


def any_live(store: Store) -> bool:
    return store.one(f"SELECT 1 AS x FROM attempts WHERE status IN {LIVE_SQL} LIMIT 1") is not None


def any_in_flight(store: Store) -> bool:
    """A message still on its way out (outbox or provider)."""
    sql = f"SELECT 1 AS x FROM outbound WHERE status IN {in_sql(IN_FLIGHT)} LIMIT 1"
    return store.one(sql) is not None


def has_live(store: Store, contact_id: int) -> bool:
    return (
        store.one(
            f"SELECT 1 AS x FROM attempts WHERE contact_id = ? AND status IN {LIVE_SQL} LIMIT 1",
            [contact_id],
        )
        is not None
    )


def sms_steps(store: Store, campaign_id: str, contact_id: int) -> int:
    """SMS invitations and reminders that happened (failed and abandoned ones do not count)."""
    row = store.one(
        "SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND contact_id = ? "
        f"AND channel = 'sms' AND status NOT IN {in_sql(NOT_COUNTED)}",
        [campaign_id, contact_id],
    )
    return int(row["n"]) if row else 0


# -- outbound messages: the outbox -------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: who it is for and why (``purpose``: reply, invitation, ...)."""

    channel: str
    body: str | None
    purpose: str
    to: str | None = None  # a phone number for SMS; None for a chat reply
    campaign_id: str | None = None
    contact_id: int | None = None
    session_id: int | None = None
    attempt_id: int | None = None
    segments: int | None = None


def enqueue(
    store: Store,
    messages: Sequence[Outgoing],
    *,
    event_id: int | None = None,
    status: str = M.PENDING,
) -> list[int]:
    """Write messages to the outbox (join the caller's transaction); their row ids, in order.

    ``status`` ``sending`` is for a caller that delivers them itself at once, claimed as they
    are written (its first try): a turn's replies, which the request sends after its commit,
    and the dispatcher's invitations, whose attempt start-up reconciles. A dead process's
    ``sending`` rows are recovered (``stranded``). ``pending`` ones are the sender's sweep's
    to claim and deliver.
    """
    now = store.now()
    tries = 1 if status == M.SENDING else 0
    ids = []
    for m in messages:
        cur = store.execute(
            "INSERT INTO outbound(channel, campaign_id, contact_id, session_id, attempt_id, "
            "event_id, purpose, status, to_number, body, segments, tries, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                m.channel,
                m.campaign_id,
                m.contact_id,
                m.session_id,
                m.attempt_id,
                event_id,
                m.purpose,
                str(status),
                m.to,
                m.body,
                m.segments,
                tries,
                now,
                now,
            ],
        )
        ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
    return ids


def claim(store: Store, row_id: int) -> dict[str, Any] | None:
    """Take a pending row for sending; None if another sender has it (or it is done). One
    conditional update that returns the row: of two senders claiming at once, one gets it."""
    return store.one(
        "UPDATE outbound SET status = ?, tries = tries + 1, updated_at = ? "
        "WHERE id = ? AND status = ? RETURNING *",
        [M.SENDING, store.now(), row_id, M.PENDING],
    )


def to_send(store: Store) -> str:
    """The status a turn writes the replies it sends in. On SQLite (one machine's servers)
    ``sending``: claimed as written, by the request that delivers them after its commit (no
    second transaction to claim them); a crash's are recovered by the next server to start
    alone, or by the scheduler's leader once no request can still be in flight.
    With several workers (PostgreSQL) ``pending``, claimed before sending: a dead worker's
    are then another worker's sweep's within seconds, where a ``sending`` row would wait
    until no request could still be in flight (``sender.STRANDED_AFTER``)."""
    return M.PENDING if store.is_postgres else M.SENDING


def claimed(store: Store, row_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Rows their writer claimed as it wrote them (``sending``, no sid yet), in order: what
    is still to send of them (an erasure may have abandoned one since)."""
    if not row_ids:
        return []
    marks = ",".join("?" * len(row_ids))
    return store.query(
        f"SELECT * FROM outbound WHERE id IN ({marks}) AND status = ? AND sid IS NULL ORDER BY id",
        [*row_ids, M.SENDING],
    )


def reclaim(store: Store, row_id: int) -> bool:
    """Claim a ``sending`` row again (its time renewed) before its REST call; False if it is
    no longer unsent and ``sending`` (recovered, or sent, meanwhile)."""
    cur = store.execute(
        "UPDATE outbound SET updated_at = ? WHERE id = ? AND status = ? AND sid IS NULL",
        [store.now(), row_id, M.SENDING],
    )
    return cur.rowcount == 1


def due(store: Store, channel: str, before: str, limit: int = 500) -> list[dict[str, Any]]:
    """Pending rows written before ``before`` whose time has come, oldest first: their id
    and number (a sender keeps one number's messages in order)."""
    return store.query(
        "SELECT id, to_number FROM outbound WHERE status = ? AND channel = ? "
        "AND created_at <= ? AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY id LIMIT ?",
        [M.PENDING, channel, before, store.now(), limit],
    )


def stranded(store: Store, channel: str, before: str | None = None) -> list[dict[str, Any]]:
    """Rows a dead process left ``sending`` without a sid (turn replies only: the
    dispatcher's are settled with their attempt). Read at start-up, before any sending; with
    several workers, only rows claimed ``before`` (longer ago than any provider request
    takes), so a live worker's request in flight is left to it."""
    claimed = "" if before is None else " AND updated_at < ?"
    return store.query(
        "SELECT * FROM outbound WHERE status = ? AND sid IS NULL AND attempt_id IS NULL "
        f"AND channel = ?{claimed} ORDER BY id",
        [M.SENDING, channel, *([] if before is None else [before])],
    )


def sent(store: Store, row_id: int, sid: str, status: str, segments: int | None = None) -> None:
    """The provider took the message: its sid and status. The number and text are no longer
    needed here (the provider has them): dropped, so the outbox keeps no personal data."""
    known = status if status in MESSAGE_RANK else M.QUEUED
    store.execute(
        "UPDATE outbound SET sid = ?, status = CASE WHEN status IN (?, ?) THEN ? ELSE status END, "
        "segments = coalesce(?, segments), sent_at = coalesce(sent_at, ?), to_number = NULL, "
        "body = NULL, error_code = NULL, next_try_at = NULL, updated_at = ? WHERE id = ?",
        [sid, M.PENDING, M.SENDING, known, segments, store.now(), store.now(), row_id],
    )


def handed_over(store: Store, row_id: int, sid: str) -> dict[str, Any] | None:
    """A reply the provider took from a webhook's answer (TwiML): the sid its first delivery
    callback names, if the row is still waiting for one; the row as :func:`by_sid` gives
    it, or None. Its number and text go, as :func:`sent` drops them."""
    return store.one(
        "UPDATE outbound SET sid = ?, sent_at = coalesce(sent_at, ?), to_number = NULL, "
        "body = NULL, updated_at = ? WHERE id = ? AND status = ? AND sid IS NULL "
        "RETURNING id, status, contact_id, campaign_id",
        [sid, store.now(), store.now(), row_id, M.SENDING],
    )


def failed(
    store: Store,
    row_id: int,
    code: int | None,
    *,
    status: str = M.FAILED,
    sid: str | None = None,
) -> None:
    """The provider refused it for good (or answered nonsense: ``status`` ``error``, with
    the sid if it gave one, so its delivery callbacks still find the row)."""
    store.execute(
        "UPDATE outbound SET status = ?, error_code = ?, sid = coalesce(sid, ?), "
        "to_number = NULL, body = NULL, next_try_at = NULL, updated_at = ? WHERE id = ?",
        [str(status), code, sid, store.now(), row_id],
    )


def forget_number(store: Store, phone: str) -> int:
    """An erasure: messages not yet sent to this number will not be (their number and text
    go); how many there were."""
    cur = store.execute(
        "UPDATE outbound SET status = ?, to_number = NULL, body = NULL, updated_at = ? "
        "WHERE to_number = ?",
        [M.ABANDONED, store.now(), phone],
    )
    return cur.rowcount


def requeue(store: Store, row_id: int, claimed_at: str) -> None:
    """A row a dead process left ``sending`` that never reached the provider: pending again,
    unless it was claimed again since ``claimed_at`` (its live sender was only slow)."""
    store.execute(
        "UPDATE outbound SET status = ?, updated_at = ? WHERE id = ? AND status = ? "
        "AND updated_at = ?",
        [M.PENDING, store.now(), row_id, M.SENDING, claimed_at],
    )


def retry_later(store: Store, row_id: int, code: int | None, tries: int) -> bool:
    """A provider hiccup: back to ``pending`` after a pause. False (and failed) past
    :data:`MAX_TRIES`."""
    if tries >= MAX_TRIES:
        failed(store, row_id, code)
        return False
    wait = RETRY_AFTER[min(tries, len(RETRY_AFTER)) - 1] if tries else RETRY_AFTER[0]
    store.execute(
        "UPDATE outbound SET status = ?, error_code = ?, next_try_at = ?, updated_at = ? "
        "WHERE id = ?",
        [M.PENDING, code, iso(store.clock() + wait), store.now(), row_id],
    )
    return True


def shown(store: Store, row_ids: Sequence[int]) -> None:
    """Chat replies written to the visitor: their text stays, for a retried frame's answer."""
    for row_id in row_ids:
        store.execute(
            "UPDATE outbound SET status = ?, sent_at = coalesce(sent_at, ?), updated_at = ? "
            "WHERE id = ? AND status = ?",
            [M.SHOWN, store.now(), store.now(), row_id, M.PENDING],
        )


def of_event(store: Store, event_id: int) -> list[dict[str, Any]]:
    """The replies a handled inbound event queued, in order (a retried event's answer)."""
    return store.query("SELECT * FROM outbound WHERE event_id = ? ORDER BY id", [event_id])


def by_sid(store: Store, sid: str) -> dict[str, Any] | None:
    """The row a delivery status callback is about (as :func:`apply_status` wants it), or
    None for a sid no row has (yet)."""
    return store.one(
        "SELECT id, status, contact_id, campaign_id FROM outbound WHERE sid = ?", [sid]
    )


def apply_status(store: Store, row: dict[str, Any], status: str, error_code: int | None) -> None:
    """A delivery status callback applied to its row (read by :func:`by_sid` in this
    transaction): later states win, and a final state is never replaced by another final
    one arriving late."""
    rank, current = MESSAGE_RANK.get(status, 0), MESSAGE_RANK.get(row["status"], 0)
    if rank > current or (rank == current and rank < FINAL_MESSAGE_RANK):
        store.write(
            "UPDATE outbound SET status = ?, error_code = coalesce(?, error_code), "
            "updated_at = ? WHERE id = ?",
            [status, error_code, store.now(), row["id"]],
        )


def abandon_unsent(store: Store, attempt_id: int) -> None:
    """The attempt never reached the provider: its unsent messages will not be sent."""
    store.execute(
        "UPDATE outbound SET status = ?, to_number = NULL, body = NULL, updated_at = ? "
        "WHERE attempt_id = ? AND sid IS NULL",
        [M.ABANDONED, store.now(), attempt_id],
    )


def known_sid(store: Store, sid: str) -> bool:
    return store.one("SELECT 1 AS x FROM outbound WHERE sid = ?", [sid]) is not None


def sid_of_attempt(store: Store, attempt_id: int) -> str | None:
    row = store.one(
        "SELECT sid FROM outbound WHERE attempt_id = ? AND sid IS NOT NULL LIMIT 1", [attempt_id]
    )
    return row["sid"] if row else None


def all_failed(store: Store, campaign_id: str, contact_id: int, purpose: str) -> bool:
    """Every message of this purpose failed on the way (nobody read it)."""
    row = store.one(
        f"SELECT count(*) AS n, sum(status IN {in_sql(BAD_DELIVERY)}) AS bad FROM outbound "
        "WHERE campaign_id = ? AND contact_id = ? AND purpose = ?",
        [campaign_id, contact_id, purpose],
    )
    return bool(row and row["n"] and row["bad"] == row["n"])


def first_sent_since(store: Store, session_id: int, since: str) -> str | None:
    """When the first message of a session written since ``since`` reached the provider
    (None if none has yet): the moment the resident could have seen the next question."""
    row = store.one(
        "SELECT min(coalesce(sent_at, CASE WHEN sid IS NOT NULL THEN created_at END)) AS at "
        "FROM outbound WHERE session_id = ? AND created_at >= ?",
        [session_id, since],
    )
    return row["at"] if row else None
