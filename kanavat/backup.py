"""Backups of the SQLite store while the server runs, and restoring one while it does not.

``backup`` uses SQLite's online backup API inside one read transaction, so the copy is the
store as it was at one moment while the server goes on writing (WAL mode); the copy is then
checked (``PRAGMA integrity_check`` and every table's row count against the source's at that
moment), made a single self-contained file (journal mode DELETE, mode 0600) and its time is
recorded in the store's ``settings`` for ``kanavat check --deploy``. The database is opened
with plain sqlite3, never through ``Store``, so the backup an upgrade takes comes before any
migration runs.

``kanavat serve`` holds an advisory lock (``serving``) for as long as it has the store open
(several servers share it when configured to); ``restore`` refuses while anyone holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LAST_BACKUP = "last_backup"  # settings key: {"at": ISO UTC, "file": name, "bytes": n}


class BackupError(Exception):
    """Something a backup or restore cannot do; the message says what to do instead."""


@dataclass(frozen=True)
class Backup:
    path: Path
    tables: dict[str, int]
    bytes: int
    seconds: float


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def default_folder(database: Path) -> Path:
    return database.parent / "backups"


def target(database: Path, dest: str | Path | None, moment: datetime) -> Path:
    """The file for ``dest``: a file name with a suffix (``x.db``) as given; a folder (existing,
    ending in ``/`` or without a suffix) gets a timestamped name; default ``backups/``."""
    if dest is None:
        folder = default_folder(database)
    else:
        path = Path(dest)
        if not (path.is_dir() or str(dest).endswith("/") or not path.suffix):
            return path
        folder = path
    return folder / f"{database.stem}-{stamp(moment)}.db"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _integrity(conn: sqlite3.Connection) -> str:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


def backup(database: Path, dest: str | Path | None = None, *, keep: int | None = None) -> Backup:
    """Copy the live store to ``dest``, check the copy, record it; prune to ``keep`` copies."""
    if not database.is_file():
        raise BackupError(f"no store at {database}; nothing to back up")
    started = time.monotonic()
    now = datetime.now(UTC)
    path = target(database, dest, now)
    if path.exists():
        raise BackupError(f"{path} exists; give another file or a folder")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    source = _connect(database)
    try:
        source.execute("BEGIN")  # one snapshot for the counts and the copy
        expected = _counts(source)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(copy)
            source.execute("COMMIT")
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            problem = _integrity(copy)
            got = _counts(copy)
        finally:
            copy.close()
        if problem != "ok":
            raise BackupError(f"the copy failed its integrity check: {problem}")
        if got != expected:
            raise BackupError("the copy's row counts differ from the store's; try again")
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, path)
        size = path.stat().st_size
        _record(source, {"at": now.isoformat(timespec="seconds"), "file": str(path), "bytes": size})
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    if keep is not None:
        prune(path.parent, database.stem, keep)
    return Backup(path, got, size, time.monotonic() - started)


def _record(conn: sqlite3.Connection, detail: dict[str, object]) -> None:
    has_settings = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'"
    ).fetchone()
    if has_settings:
        conn.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [LAST_BACKUP, json.dumps(detail)],
        )


def last_backup(database: Path) -> datetime | None:
    """When the store was last backed up (by ``backup``), or None."""
    if not database.is_file():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", [LAST_BACKUP]).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return datetime.fromisoformat(json.loads(row[0])["at"]) if row else None


def prune(folder: Path, stem: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` timestamped backups of ``stem`` in ``folder``."""
    copies = sorted(folder.glob(f"{stem}-????????T??????Z.db"))
    gone = copies[: max(0, len(copies) - keep)]
    for old in gone:
        old.unlink()
    return gone


# -- the server's lock, and restoring ------------------------------------------------------


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".serving")


@dataclass
class Serving:
    """A server's hold on the store (:func:`serving`). ``alone``: no other server had the
    store when this one started, so whatever the store holds in flight (a reply being sent,
    a claim) is a dead process's, to recover at once. ``started`` lets the next server in."""

    alone: bool
    _starting: int | None = None

    def started(self) -> None:
        if self._starting is not None:
            os.close(self._starting)  # closing releases the lock
            self._starting = None


@contextlib.contextmanager
def serving(database: Path, *, shared: bool = False) -> Iterator[Serving]:
    """Held by ``kanavat serve`` while the store is open; ``restore`` refuses meanwhile.

    One server per store unless ``shared`` (``[server] workers_per_machine`` > 1): then
    several servers hold it together, and take ``.starting`` in turn to see whether they
    are alone; the first, which is, keeps it until it has recovered what a dead process
    left half-sent (``Serving.started``), so no other server writes meanwhile. A server of
    the other kind is refused. The locks are flocks: the kernel drops them when their
    process ends, however it ends."""
    path = _lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    starting: int | None = None
    try:
        if shared:
            starting = _wait_to_start(database)
            alone = _try(fd, fcntl.LOCK_EX)  # no other server holds it
            if alone:
                os.ftruncate(fd, 0)  # no one pid names several servers
            # From exclusive to shared (not atomic: a restore could slip in, and is refused
            # to us then); others wait on .starting meanwhile.
            if not _try(fd, fcntl.LOCK_SH):
                raise _in_use(database, fd)
            if not alone:  # nothing to recover at start: the next one may start at once
                os.close(starting)
                starting = None
        else:
            if not _try(fd, fcntl.LOCK_EX):
                raise _in_use(database, fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            alone = True
        hold = Serving(alone, starting)
        starting = None
        try:
            yield hold
        finally:
            hold.started()
    finally:
        if starting is not None:
            os.close(starting)
        os.close(fd)  # closing releases the lock


START_WAIT = 300.0  # seconds a server waits for the first's start-up (migrations, recovery)


def _wait_to_start(database: Path) -> int:
    fd = os.open(database.with_name(database.name + ".starting"), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + START_WAIT
    while not _try(fd, fcntl.LOCK_EX):
        if time.monotonic() > deadline:
            os.close(fd)
            raise BackupError(
                f"another kanavat serve has been starting on {database} for over "
                f"{START_WAIT:.0f} s; see its log"
            )
        time.sleep(0.1)
    return fd


def _try(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _in_use(database: Path, fd: int) -> BackupError:
    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return BackupError(
        f"the store {database} is in use by kanavat serve"
        + (f" (pid {holder})" if holder else "")
        + "; stop it first (systemctl stop kanavat, or 'kanavat@*'), or run every server with "
        "[server] workers_per_machine set to how many share the store"
    )


def restore(backup_file: Path, database: Path) -> Path:
    """Put ``backup_file`` in the store's place; the current store is kept beside it.

    Refused while ``kanavat serve`` holds the store. Returns where the old store was moved.
    """
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    check = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        problem = _integrity(check)
        tables = _counts(check)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup_file} is not an SQLite database: {exc}") from None
    finally:
        check.close()
    if problem != "ok":
        raise BackupError(f"{backup_file} failed its integrity check: {problem}")
    if "settings" not in tables or "contacts" not in tables:
        raise BackupError(f"{backup_file} is not a kanavat store")
    database.parent.mkdir(parents=True, exist_ok=True)
    with serving(database):
        aside = database.with_name(f"{database.name}.before-restore-{stamp(datetime.now(UTC))}")
        if database.exists():
            current = _connect(database)
            current.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL's commits into the file
            current.close()
            os.replace(database, aside)
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        partial = database.with_name(database.name + ".restoring")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        os.chmod(partial, 0o600)
        os.replace(partial, database)
    return aside
