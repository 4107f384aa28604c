"""Several workers on one PostgreSQL store: named transactions run side by side, a claim
skips the rows a turn holds, and a worker whose connection dies (a terminated backend, a
restarted server) connects again without losing or half-writing a transaction.

Each "worker" is a Store of its own (its own connection), as each ``kanavat serve`` has.
Whether one waits for another is read from PostgreSQL itself (``pg_stat_activity``: a
backend waiting on an advisory lock), never from a clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from bench.pg_cluster import PostgresServer
from kanavat import locks
from kanavat.contacts import upsert_contact
from kanavat.dialect import ConnectionLost
from kanavat.outreach import queue
from kanavat.store import Store

LIVE = ("sending", "queued")


@pytest.fixture
def url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.fresh_database()
    Store(url, secret="s").close()  # migrated once
    yield url
    postgres_server.drop(url)


@pytest.fixture
def workers(url: str) -> Iterator[tuple[Store, Store]]:
    a, b = Store(url, secret="s"), Store(url, secret="s")
    yield a, b
    a.close()
    b.close()


def _pid(store: Store) -> int:
    return int(store.one("SELECT pg_backend_pid() AS pid")["pid"])  # type: ignore[index]


def _waits_on_a_lock(url: str, pid: int, kind: str = "advisory") -> bool:
    """Wait until the backend ``pid`` waits on a lock of ``kind``; False if it finished."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(2000):
            row = conn.execute(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s",
                [pid],
            ).fetchone()
            if row and row[1] == "Lock" and row[2] == kind:
                return True
            if row and row[0] == "idle":
                return False
            conn.execute("SELECT pg_sleep(0.005)")
    raise AssertionError("the backend neither waited nor finished")


def _in_thread(work: object) -> threading.Thread:
    thread = threading.Thread(target=work)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_different_residents_run_side_by_side_the_same_one_waits(
    url: str, workers: tuple[Store, Store]
) -> None:
    a, b = workers
    b_pid = _pid(b)
    done: list[bool] = []

    def same_resident() -> None:
        with b.transaction(locks.contact(1)):
            b.set_setting("same", "after a")
        done.append(True)

    with a.transaction(locks.contact(1)):
        a.set_setting("a", "1")
        with b.transaction(locks.contact(2)):  # another resident: no wait
            b.set_setting("b", "2")
        assert a.setting("b") == "2"
        thread = _in_thread(same_resident)
        assert _waits_on_a_lock(url, b_pid)  # the same resident waits for a's commit
        assert done == []
    thread.join()
    assert done == [True] and a.setting("same") == "after a"


def test_an_unnamed_transaction_waits_for_every_named_one(
    url: str, workers: tuple[Store, Store]
) -> None:
    """One naming nothing keeps the whole store, as on SQLite (its rules read anything).
    (A transaction's locks go with its first statement: one that ran none holds none.)"""
    a, b = workers
    b_pid = _pid(b)
    finished: list[bool] = []

    def whole() -> None:
        with b.transaction():
            b.set_setting("whole", "yes")
        finished.append(True)

    with a.transaction(locks.contact(7)):
        a.setting("anything")
        thread = _in_thread(whole)
        assert _waits_on_a_lock(url, b_pid)
        assert finished == []
    thread.join()
    assert finished == [True] and a.setting("whole") == "yes"


def test_a_claim_skips_the_rows_a_turn_holds(url: str, workers: tuple[Store, Store]) -> None:
    """FOR UPDATE SKIP LOCKED: a resident whose turn is under way is left for the next claim
    rather than waited for; the other residents are claimed at once."""
    a, b = workers
    a.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES ('k', 'q', 'c', 'running', ?)",
        [a.now()],
    )
    ids = []
    for n in range(3):
        upsert_contact(a, f"+35840123450{n}", "fi", {}, None)
        ids.append(a.one("SELECT max(id) AS id FROM contacts")["id"])  # type: ignore[index]
        assert queue.enrol(a, "k", ids[-1], due_at=a.now())
    with a.transaction(locks.contact(ids[0])):
        assert queue.postpone(a, "k", ids[0], a.now())  # the turn holds this row
        with b.transaction(locks.CLAIMS):
            claimed = [r["contact_id"] for r in queue.due(b, b.now(), 10, LIVE)]
        assert sorted(claimed) == sorted(ids[1:])
    with b.transaction(locks.CLAIMS):
        assert ids[0] in [r["contact_id"] for r in queue.due(b, b.now(), 10, LIVE)]


def test_a_terminated_connection_is_replaced_before_the_next_statement(
    postgres_server: PostgresServer, url: str
) -> None:
    store = Store(url, secret="s")
    old = _pid(store)
    assert postgres_server.terminate(url) >= 1
    store.set_setting("after", "yes")  # a write: sent on a new connection, once
    assert store.setting("after") == "yes"
    assert _pid(store) != old
    with store.transaction(locks.contact(1)):
        store.set_setting("in", "a transaction")
    assert store.setting("in") == "a transaction"
    store.close()


def test_a_transaction_cut_by_a_lost_connection_leaves_nothing(
    postgres_server: PostgresServer, url: str
) -> None:
    store = Store(url, secret="s")
    with pytest.raises(ConnectionLost), store.transaction(locks.contact(1)):
        store.set_setting("first", "half")
        postgres_server.terminate(url)
        store.set_setting("second", "half")
    assert store.setting("first") is None and store.setting("second") is None
    store.set_setting("then", "fine")  # connected again
    assert store.setting("then") == "fine"
    store.close()


def test_atomic_work_cut_once_runs_again_and_counts_once(
    postgres_server: PostgresServer, url: str
) -> None:
    store = Store(url, secret="s")
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        store.execute("INSERT INTO audit(at, action, detail) VALUES (?, 'x', '{}')", [store.now()])
        if len(runs) == 1:
            postgres_server.terminate(url)
            store.one("SELECT 1 AS x")
        return len(runs)

    assert store.atomic(work, locks.contact(1)) == 2
    assert store.one("SELECT count(*) AS n FROM audit WHERE action = 'x'")["n"] == 1  # type: ignore[index]
    store.close()


def test_a_restarted_server_is_found_again() -> None:
    """A real restart (its own cluster: the shared one serves the other tests)."""
    server = PostgresServer().start()
    try:
        url = server.fresh_database()
        store = Store(url, secret="s")
        store.set_setting("before", "1")
        server.restart()
        assert store.setting("before") == "1"
        with store.transaction(locks.contact(1)):
            store.set_setting("after", "2")
        assert store.setting("after") == "2"
        store.close()
    finally:
        server.stop()


def test_a_deadlock_between_two_workers_is_broken_and_the_loser_runs_again(
    workers: tuple[Store, Store],
) -> None:
    """Each holds one resident and then asks for the other's: PostgreSQL fails one of them,
    whose work ``atomic`` runs again once the other has committed. Both land, once."""
    a, b = workers
    holding = threading.Barrier(2)
    runs: list[str] = []

    def crossing(store: Store, mine: int, theirs: int) -> None:
        def work() -> None:
            runs.append(f"contact:{mine}")
            store.setting("anything")  # its first statement: the lock is held from here
            if runs.count(f"contact:{mine}") == 1:
                holding.wait()  # both hold their own before asking for the other's
            with store.transaction(locks.contact(theirs)):
                store.set_setting(f"by-{mine}", "done")

        store.atomic(work, locks.contact(mine))

    threads = [
        _in_thread(lambda: crossing(a, 1, 2)),
        _in_thread(lambda: crossing(b, 2, 1)),
    ]
    for thread in threads:
        thread.join()
    assert a.setting("by-1") == "done" and a.setting("by-2") == "done"
    assert sorted(runs) in (
        ["contact:1", "contact:1", "contact:2"],
        ["contact:1", "contact:2", "contact:2"],
    )
