"""A reply claimed ``sending`` by the request that wrote it, against the leader's recovery of
stranded rows: with several servers the two can be in different processes, so a row that
waited behind slow provider requests is claimed again before its own, and the recovery
requeues only a row nobody claimed since it looked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kanavat import attempts
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.sender import RECLAIM_AFTER, STRANDED_AFTER
from kanavat.store import Store, iso

pytestmark = pytest.mark.both_backends


def a_reply(store: Store, age: timedelta) -> int:
    (row_id,) = attempts.enqueue(
        store,
        [Outgoing("sms", "Kiitos vastauksesta!", "reply", to="+358401000001")],
        status=OutboundStatus.SENDING,
    )
    store.execute(
        "UPDATE outbound SET updated_at = ? WHERE id = ?", [iso(store.clock() - age), row_id]
    )
    return row_id


def test_the_recovery_requeues_only_a_row_nobody_claimed_since(store: Store) -> None:
    row_id = a_reply(store, STRANDED_AFTER + timedelta(seconds=1))
    before = iso(store.clock() - STRANDED_AFTER)
    (seen,) = attempts.stranded(store, "sms", before)  # the leader looks...
    assert attempts.reclaim(store, row_id)  # ...its live sender claims it again...
    attempts.requeue(store, row_id, seen["updated_at"])  # ...the leader's requeue misses
    row = store.one("SELECT status FROM outbound WHERE id = ?", [row_id])
    assert row == {"status": OutboundStatus.SENDING}
    assert attempts.stranded(store, "sms", before) == []  # fresh again: not stranded

    (seen,) = attempts.stranded(store, "sms", None)  # nobody claims it: requeued
    attempts.requeue(store, row_id, seen["updated_at"])
    row = store.one("SELECT status FROM outbound WHERE id = ?", [row_id])
    assert row == {"status": OutboundStatus.PENDING}
    assert not attempts.reclaim(store, row_id)  # and its old sender lets it go


def test_a_renewed_claim_moves_the_row_time(store: Store) -> None:
    """The sender renews a claim older than ``RECLAIM_AFTER`` before its REST call: the row's
    time moves, so the leader's next look finds it fresh."""
    row_id = a_reply(store, RECLAIM_AFTER + timedelta(seconds=1))
    old = store.one("SELECT updated_at FROM outbound WHERE id = ?", [row_id])["updated_at"]
    assert attempts.reclaim(store, row_id)
    new = store.one("SELECT updated_at FROM outbound WHERE id = ?", [row_id])["updated_at"]
    assert new > old
