"""Which worker holds an inbound event, and when another may take it over (``workers.py``,
``inbound.claim``): never while its holder is alive, at once when its process is gone, after
``STALE`` seconds without a beat when its process cannot be looked at (another machine), and
by one worker only when several sweep at once.

Each "worker" is a Store of its own (its own connection), as each ``kanavat serve`` has.
Staleness is judged by the watching worker's monotonic clock, given here explicitly.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator

import pytest

from kanavat import inbound, workers
from kanavat.store import Store

pytestmark = pytest.mark.both_backends
KINDS = ("inbound",)


@pytest.fixture
def three(database: str) -> Iterator[tuple[Store, Store, Store]]:
    stores = [Store(database, secret="s") for _ in range(3)]
    yield stores[0], stores[1], stores[2]
    for s in stores:
        s.close()


def elsewhere(name: str) -> workers.Worker:
    """A worker on another machine: its process cannot be looked at from here."""
    return workers.Worker(f"{name}/1/abc", name, "another-boot/pid:[1]", "1@1")


def takeable(store: Store, watcher: workers.Liveness, now: float) -> list[int]:
    alive, _ = watcher.judge(store, now)
    others = alive - {watcher.me.id}
    return [e.id for e in inbound.unhandled(store, "sms", KINDS, not_held_by=others)]


def test_a_live_workers_event_is_left_to_it_a_silent_ones_taken_after_stale(
    three: tuple[Store, Store, Store],
) -> None:
    a_store, b_store, _ = three
    a = workers.register(a_store, elsewhere("a"))
    b = workers.register(b_store)
    watch = workers.Liveness(b)
    held = inbound.record(a_store, "sms", "inbound", "SM1", {"Body": "4"}, holder=a.id).id
    free = inbound.record(a_store, "sms", "inbound", "SM2", {"Body": "5"}).id

    assert takeable(b_store, watch, 0.0) == [free]  # nobody holds it; a is handling SM1
    assert takeable(b_store, watch, workers.STALE - 0.1) == [free]
    workers.beat(a_store, a)  # a beats: seen alive for STALE more seconds
    assert takeable(b_store, watch, workers.STALE + 1) == [free]
    assert takeable(b_store, watch, 2 * workers.STALE + 1) == [held, free]

    assert inbound.claim(b_store, held, a.id, b.id)
    assert not inbound.claim(b_store, held, a.id, b.id)  # a's no longer: claimed once
    inbound.finish(b_store, held, "answered")
    assert not inbound.claim(b_store, free, "someone", b.id)  # not held by that one
    assert inbound.claim(b_store, free, None, b.id)
    inbound.finish(b_store, free, "answered")
    assert not inbound.claim(a_store, free, b.id, a.id)  # handled: nothing to take


def test_a_dead_process_on_this_machine_is_gone_at_once(
    three: tuple[Store, Store, Store],
) -> None:
    a_store, b_store, _ = three
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        mine = workers.this_process()
        assert mine.machine is not None, "Linux: /proc tells whether a process runs"
        process = workers._process(sleeper.pid)
        a = workers.register(a_store, workers.Worker("a/2/def", "a", mine.machine, process))
        b = workers.register(b_store)
        watch = workers.Liveness(b)
        held = inbound.record(a_store, "sms", "inbound", "SM1", {}, holder=a.id).id
        assert takeable(b_store, watch, 0.0) == []  # its process runs: alive
    finally:
        sleeper.kill()
        sleeper.wait()
    alive, gone = watch.judge(b_store, 0.0)
    assert gone == {a.id} and a.id not in alive
    assert takeable(b_store, watch, 0.0) == [held]


def test_a_stopped_workers_row_is_gone_and_its_events_free(
    three: tuple[Store, Store, Store],
) -> None:
    a_store, b_store, _ = three
    a, b = workers.register(a_store), workers.register(b_store)
    held = inbound.record(a_store, "sms", "inbound", "SM1", {}, holder=a.id).id
    watch = workers.Liveness(b)
    assert takeable(b_store, watch, 0.0) == []
    workers.retire(a_store, a)
    assert takeable(b_store, watch, 0.0) == [held]
    workers.beat(a_store, a)  # it was only slow: its row comes back, and it holds again
    assert takeable(b_store, watch, 0.0) == []


def test_two_workers_claiming_one_event_at_once_one_gets_it(
    three: tuple[Store, Store, Store],
) -> None:
    a_store, b_store, c_store = three
    a = workers.register(a_store, elsewhere("a"))
    ids = [
        inbound.record(a_store, "sms", "inbound", f"SM{n}", {}, holder=a.id).id for n in range(40)
    ]
    got: dict[str, list[int]] = {"b": [], "c": []}
    start = threading.Barrier(2)

    def sweep(name: str, store: Store) -> None:
        start.wait()
        for event_id in ids:
            if inbound.claim(store, event_id, a.id, f"{name}/9/x"):
                got[name].append(event_id)

    threads = [threading.Thread(target=sweep, args=w) for w in (("b", b_store), ("c", c_store))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["b"] + got["c"]) == ids  # each taken, and by one
