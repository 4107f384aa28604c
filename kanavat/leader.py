"""Which process runs the scheduler: exactly one at a time, and another within seconds of its
death.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own.
PostgreSQL releases it the moment that connection ends: a ``kill -9``, a crash or a lost
network all close it. Every other worker asks for the lock at each scheduler tick (about a
second), so one of them takes over at its next tick. The leader checks at each tick that its
connection (and so its lock) is still there, and steps down if not.

On SQLite (several servers on one machine, ``[server] workers_per_machine``) the leader holds
an exclusive ``flock`` on ``<store>.leader``, which the kernel drops when its process ends,
however it ends; the others try it at each tick the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from typing import Any

from kanavat.store import Store

log = logging.getLogger("kanavat.leader")
SCHEDULER_LOCK = 0x6B616E62  # "kanb": the scheduler's advisory lock


class Leadership:
    def __init__(self, store: Store, key: int = SCHEDULER_LOCK):
        self.store = store
        self.key = key
        self._conn: Any = None
        self._fd: int | None = None  # SQLite: the open lock file while leading
        self.leading = False

    def check(self) -> bool:
        """Whether this process leads now: keeps the lock it has, or takes a free one."""
        if not self.store.is_postgres:
            return self._check_file()
        try:
            if self.leading:
                self._conn.execute("SELECT 1")
                return True
            if self._conn is None or self._conn.closed:
                self._conn = _connect(self.store.path)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
            self.leading = bool(row and row[0])
        except Exception as exc:  # the database went away: whoever reconnects first leads
            if self.leading:
                log.warning("leader.lost reason=%s", type(exc).__name__)
            self._drop()
        return self.leading

    def release(self) -> None:
        """Give the lead up (a clean shutdown): another worker takes over at once."""
        self._drop()

    def _check_file(self) -> bool:
        if self.leading:
            return True
        path = str(self.store.path)
        if path == ":memory:" or path.startswith("file:"):
            self.leading = True  # nobody else can open it
            return True
        fd = os.open(f"{path}.leader", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self.leading = fd, True
        return True

    def _drop(self) -> None:
        self.leading = False
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)
