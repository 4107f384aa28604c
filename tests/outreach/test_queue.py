"""The queue's transitions on a real store: enrol, lease, take, release, final dispositions."""

from __future__ import annotations

import pytest

from kanavat.contacts import upsert_contact
from kanavat.outreach import queue
from kanavat.store import Store

pytestmark = pytest.mark.both_backends

BUSY = ("sending", "queued")


@pytest.fixture
def on_campaign(store: Store) -> int:
    store.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES ('k', 'q', 'c', 'running', ?)",
        [store.now()],
    )
    upsert_contact(store, "+358401234567", "fi", {}, None)
    contact = store.one("SELECT id FROM contacts")["id"]  # type: ignore[index]
    assert queue.enrol(store, "k", contact, due_at=store.now())
    assert not queue.enrol(store, "k", contact, due_at=store.now())  # already on it
    return contact


def test_a_leased_row_is_not_due_until_released(store: Store, on_campaign: int) -> None:
    now = store.now()
    assert [r["contact_id"] for r in queue.due(store, now, 10, BUSY)] == [on_campaign]
    queue.lease(store, "k", on_campaign, "9999-01-01T00:00:00.000Z")
    assert queue.due(store, now, 10, BUSY) == []
    queue.release(store, "k", on_campaign, "9999-01-01T00:00:00.000Z")
    assert len(queue.due(store, now, 10, BUSY)) == 1


def test_take_needs_the_lease_and_counts_the_attempt(store: Store, on_campaign: int) -> None:
    until = "9999-01-01T00:00:00.000Z"
    queue.lease(store, "k", on_campaign, until)
    assert not queue.take(store, "k", on_campaign, "someone-else", None)
    assert queue.take(store, "k", on_campaign, until, None)
    row = queue.entry(store, "k", on_campaign)
    assert row is not None and row["attempts"] == 1 and row["next_due_at"] is None
    assert queue.postpone(store, "k", on_campaign, store.now(), only_waiting=True)
    assert not queue.postpone(store, "k", on_campaign, store.now(), only_waiting=True)
    queue.untake(store, "k", on_campaign, store.now())
    assert queue.entry(store, "k", on_campaign)["attempts"] == 0  # type: ignore[index]


def test_a_final_disposition_leaves_the_queue(store: Store, on_campaign: int) -> None:
    with pytest.raises(queue.UnknownDisposition):
        queue.finalise(store, "k", on_campaign, "finished")
    queue.finalise(store, "k", on_campaign, "complete")
    assert queue.due(store, store.now(), 10, BUSY) == []
    assert queue.pending(store, "k") == []
    assert not queue.take(store, "k", on_campaign, "x", None)


def test_finished_campaigns_with_pending_residents_are_found(
    store: Store, on_campaign: int
) -> None:
    assert queue.unsettled_finished(store) == []
    store.execute("UPDATE campaigns SET status = 'finished'")
    assert queue.unsettled_finished(store) == ["k"]
    queue.finalise(store, "k", on_campaign, "unknown")
    assert queue.unsettled_finished(store) == []
