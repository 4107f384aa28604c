"""The server's WAL checkpoints run in their own thread, not in the commits of the event loop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kanavat import checkpoints
from kanavat.checkpoints import Checkpointer
from kanavat.store import Store


def _autocheckpoint(store: Store) -> int:
    row = store.one("PRAGMA wal_autocheckpoint")
    assert row is not None
    return int(next(iter(row.values())))


def _log_pages(path: Path) -> int:
    """Pages in the log: its header, then a frame header and a page per frame."""
    size = Path(f"{path}-wal").stat().st_size
    return (size - 32) // (24 + 4096)


def test_the_thread_copies_the_log_and_the_writer_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store = Store(path, secret="s")
    store.execute("CREATE TABLE filler(id INTEGER PRIMARY KEY, blob TEXT)")
    assert _autocheckpoint(store) == checkpoints.DEFAULT_PAGES
    checkpointer = Checkpointer(store, every=0.05)
    checkpointer.start()
    try:
        assert _autocheckpoint(store) == checkpoints.WRITER_PAGES
        # 1,500 commits of a page each: past SQLite's default of 1,000 pages, so without the
        # setting the writer's own commit would have copied the log and started it again.
        for n in range(1500):
            store.execute("INSERT INTO filler(blob) VALUES (?)", ["x" * 3000 + str(n)])
        deadline = time.monotonic() + 10
        while checkpointer.copied < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.copied >= 1500  # the thread copied the log into the file
    finally:
        checkpointer.stop()
    assert _log_pages(tmp_path / "k.db") >= 1500  # the writer never started it again
    assert _autocheckpoint(store) == checkpoints.DEFAULT_PAGES
    assert store.one("SELECT count(*) AS n FROM filler") == {"n": 1500}
    store.close()


def test_a_commit_starts_a_checkpoint_and_the_writer_starts_the_log_again(tmp_path: Path) -> None:
    """A checkpoint starts right after a commit, so it often copies the whole log before the
    next commit, which then starts the log again from its beginning (cheaply); the writer's
    own checkpoint at ``WRITER_PAGES``, a stall of the event loop, is rarely reached."""
    path = tmp_path / "k.db"
    store = Store(path, secret="s")
    store.execute("CREATE TABLE filler(id INTEGER PRIMARY KEY, blob TEXT)")
    extent = _log_pages(path)  # the schema's pages
    checkpointer = Checkpointer(store, every=3600, eager_pages=0)  # right after commits
    checkpointer.start()
    try:
        for n in range(500):
            before = checkpointer.checkpoints
            with store.transaction():
                store.execute("INSERT INTO filler(blob) VALUES (?)", ["x" * 3000 + str(n)])
            deadline = time.monotonic() + 10
            while checkpointer.checkpoints == before and time.monotonic() < deadline:
                time.sleep(0.001)
            assert checkpointer.checkpoints > before
    finally:
        checkpointer.stop()
    assert store.after_commit is None  # a stopped checkpointer is not told of commits
    # Without a restart the log would grow by 500 pages; the file keeps its largest extent.
    assert _log_pages(path) < extent + 50
    assert store.one("SELECT count(*) AS n FROM filler") == {"n": 500}
    store.close()


def test_a_short_log_waits_for_the_timer(tmp_path: Path) -> None:
    """Below ``eager_pages`` commits do not start checkpoints (each costs two fsyncs)."""
    store = Store(tmp_path / "k.db", secret="s")
    store.execute("CREATE TABLE filler(id INTEGER PRIMARY KEY, blob TEXT)")
    checkpointer = Checkpointer(store, every=3600, eager_pages=1_000_000)
    checkpointer.start()
    try:
        for n in range(20):
            with store.transaction():
                store.execute("INSERT INTO filler(blob) VALUES (?)", [str(n)])
        time.sleep(0.2)
        assert checkpointer.checkpoints == 0
    finally:
        checkpointer.stop()
    store.close()


def test_a_postgresql_store_has_none(tmp_path: Path) -> None:
    class Postgres:
        is_postgres = True

    with pytest.raises(TypeError):
        Checkpointer(Postgres())  # type: ignore[arg-type]
