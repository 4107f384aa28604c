"""The server's SQLite WAL checkpoints, off the event loop.

SQLite in WAL mode appends every commit to the log and, by default, the commit that takes
the log past 1,000 pages copies it into the database file and fsyncs both (a checkpoint),
in the connection that committed: on the server that is the event loop, stalled for
several to tens of milliseconds every few dozen SMS answers, with every request in flight
waiting behind it (most of the SMS bench's p99).

While the server runs, a thread with its own connection checkpoints every fraction of a
second (``PASSIVE``: it never waits for the writer, and the writer never waits for it), so
the copying and the fsyncs happen beside the loop. The log is restarted from its beginning
only by a writer, and only after a checkpoint has copied all of it: under steady load a
checkpoint every 0.2 s never quite catches up (commits come every few milliseconds), and
the server's own connection would reach its checkpoint at ``WRITER_PAGES``, a stall of 5 to
20 ms in a commit about once a second at 1,000 SMS answers/s (seen in the SMS bench). So
once the log is ``EAGER_PAGES`` long, the thread checkpoints right after each commit (the
store calls ``after_commit``); the first one to copy the whole log before the next
transaction begins lets that transaction start the log again, which costs its commit a
small fsync. The writer's own checkpoint stays as a bound that is rarely reached.

Durability is SQLite's as before (``dialect.py``: ``synchronous=NORMAL``): a commit is in
the log when it returns; a checkpoint, whoever runs it, fsyncs what it copied. Only servers
do this (several sharing a store each run one: a checkpoint finding another under way just
copies less); a command-line tool's connection checkpoints as SQLite does by default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from kanavat.store import Store

log = logging.getLogger("kanavat.checkpoints")
EVERY = 0.2  # seconds between the thread's checkpoints
EAGER_PAGES = 4_000  # a log this long is checkpointed right after commits until it restarts
WRITER_PAGES = 10_000  # the server connection's own checkpoint (SQLite's default: 1,000)
DEFAULT_PAGES = 1_000


class Checkpointer:
    """A thread checkpointing one SQLite store's log; ``start`` and ``stop`` it."""

    def __init__(self, store: Store, every: float = EVERY, eager_pages: int = EAGER_PAGES) -> None:
        if store.is_postgres:
            raise TypeError("checkpoints are SQLite's; this store is PostgreSQL")
        self.store = store
        self.every = every
        self.eager_pages = eager_pages
        self.checkpoints = 0  # completed (tests read it)
        self.copied = 0  # pages of the log in the file after the last one
        self.log = 0  # pages in the log at the last one
        self._stop = threading.Event()
        self._committed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.store.execute(f"PRAGMA wal_autocheckpoint={WRITER_PAGES}")
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()
        self.store.after_commit = self._committed.set

    def stop(self) -> None:
        """Stop the thread; the server's connection checkpoints as SQLite's default again."""
        if self._thread is None:
            return
        self.store.after_commit = None
        self._stop.set()
        self._committed.set()
        self._thread.join()
        self._thread = None
        self.store.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_PAGES}")

    def _run(self) -> None:
        conn = sqlite3.connect(self.store.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._wait():
                try:
                    # fetchall: a statement left unfinished would keep a read snapshot
                    # open, and the writer could never restart the log.
                    (_, pages, copied), *_ = conn.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchall()
                    self.log, self.copied = pages, copied
                    done = True
                except sqlite3.Error as exc:  # busy, or the disk: the next one tries again
                    log.warning("store.checkpoint.failed reason=%s", type(exc).__name__)
                    done = False
                # A commit from now on starts the next one (when eager). Counted after, so
                # one made by whoever waited for the count is never missed.
                self._committed.clear()
                self.checkpoints += done
        finally:
            conn.close()

    def _wait(self) -> bool:
        """Until the next checkpoint is due; True to stop. A long log is checkpointed right
        after a commit: the one that copies it all before the next transaction lets that one
        start the log again, long before the writer's own checkpoint (a stall) would."""
        if self._stop.is_set():
            return True
        if self.log >= self.eager_pages:
            self._committed.wait(self.every)
            return self._stop.is_set()
        return self._stop.wait(self.every)
