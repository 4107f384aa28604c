"""The server processes sharing a store, and which of them are alive: the only writer of
``workers``.

Each ``kanavat serve`` registers a row at start (an id of its own, its machine and process),
beats every :data:`BEAT` seconds and removes its row when it stops cleanly. An inbound event
being handled names the worker holding it (``inbound.py``); a sweep takes over events whose
holder is gone, so what a killed worker left is handled at once, and what a live worker is
handling is left to it.

A worker is gone when
- its row is missing (it stopped, or was found gone and forgotten);
- it ran on this machine (the same boot and process namespace) and its process no longer
  runs: a restarted worker knows at once that its predecessor died;
- its beat count has not moved for :data:`STALE` seconds as this worker watches it: a worker
  on another machine, or a hung one. Judged by this worker's own monotonic clock, so the
  machines' clocks need not agree.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from kanavat.store import Store, iso, utc_now

log = logging.getLogger("kanavat.workers")
BEAT = 2.0  # seconds between a worker's beats
STALE = 10.0  # seconds without a beat after which a worker is taken for dead


@dataclass(frozen=True)
class Worker:
    """One process: ``machine`` is None where its processes cannot be looked at (not Linux)."""

    id: str
    host: str
    machine: str | None
    process: str | None


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return None


def _machine() -> str | None:
    """This boot of this machine and this process namespace: where a pid means one process."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}" if boot else None


def _process(pid: int) -> str | None:
    """A process's pid and start time (so a reused pid is not taken for it), or None."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{pid}@{fields[19]}" if len(fields) > 19 else None  # field 22: starttime


def this_process() -> Worker:
    host = socket.gethostname()
    pid = os.getpid()
    return Worker(f"{host}/{pid}/{secrets.token_hex(3)}", host, _machine(), _process(pid))


def register(store: Store, worker: Worker | None = None) -> Worker:
    """Write this process's row (a new id for every start)."""
    worker = worker or this_process()
    now = iso(utc_now())
    store.execute(
        "INSERT INTO workers(id, host, machine, process, started_at, beat_at, beats) "
        "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT(id) DO NOTHING",
        [worker.id, worker.host, worker.machine, worker.process, now, now],
    )
    log.info("worker.started id=%s", worker.id)
    return worker


def beat(store: Store, worker: Worker) -> None:
    """Say this worker is alive; its row comes back if another took it for dead."""
    cur = store.execute(
        "UPDATE workers SET beats = beats + 1, beat_at = ? WHERE id = ?",
        [iso(utc_now()), worker.id],
    )
    if not cur.rowcount:
        log.warning("worker.returned id=%s", worker.id)
        register(store, worker)


def retire(store: Store, worker: Worker) -> None:
    """A clean stop: what it held and did not finish is anybody's at once."""
    store.execute("DELETE FROM workers WHERE id = ?", [worker.id])
    log.info("worker.stopped id=%s", worker.id)


def forget(store: Store, ids: set[str]) -> None:
    """Remove the rows of workers found gone (their held events stay takeable: no row)."""
    for worker_id in sorted(ids):
        store.execute("DELETE FROM workers WHERE id = ?", [worker_id])
        log.warning("worker.gone id=%s", worker_id)


@dataclass
class Liveness:
    """Which workers are alive, as one worker sees them (see the module docstring)."""

    me: Worker
    stale_after: float = STALE
    _seen: dict[str, tuple[int, float]] = field(default_factory=dict)

    def judge(self, store: Store, now: float | None = None) -> tuple[set[str], set[str]]:
        """(alive, gone): the ids of the registered workers, this one always alive."""
        now = time.monotonic() if now is None else now
        alive, gone = {self.me.id}, set()
        rows = store.query("SELECT id, machine, process, beats FROM workers")
        for row in rows:
            if row["id"] == self.me.id:
                continue
            beats, since = self._seen.get(row["id"], (None, now))
            if beats != row["beats"]:
                since = now
            self._seen[row["id"]] = (int(row["beats"]), since)
            if now - since >= self.stale_after or self._ended(row["machine"], row["process"]):
                gone.add(row["id"])
            else:
                alive.add(row["id"])
        for stale in set(self._seen) - {r["id"] for r in rows}:
            del self._seen[stale]
        return alive, gone

    def _ended(self, machine: str | None, process: str | None) -> bool:
        """Whether a process of this machine no longer runs (False: cannot tell here)."""
        if machine is None or process is None or machine != self.me.machine:
            return False
        pid = int(process.split("@", 1)[0])
        return _process(pid) != process
