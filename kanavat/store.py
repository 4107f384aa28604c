"""The store: the single source of truth for contacts, campaigns, sessions and answers.

SQLite (a file path, the embedded default) or PostgreSQL (a ``postgresql://`` URL, for
several workers sharing one database); the differences live in ``dialect.py`` and owners
write one SQL for both. Every schema change is a migration (``kanavat/migrations``). Respondents are known by pseudonyms: an HMAC
of the campaign and the contact's internal id under a secret key, never the phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from kanavat import dialect, migrations
from kanavat.dialect import ConnectionLost, Cursor

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _column_names(description: Any) -> list[str]:
    """Result columns as dict keys; a repeated name gets ``_2``, ``_3`` (as sqlite-utils)."""
    keys: list[str] = []
    for column in description:
        name, n = column[0], 1
        while name in keys:
            n += 1
            name = f"{column[0]}_{n}"
        keys.append(name)
    return keys


def _lock_id(name: str) -> int:
    """A named lock's number (32 bits of a hash: the name itself, a contact id or a number,
    never reaches the server)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


class Store:
    def __init__(self, location: str | Path, *, secret: str | None = None, clock: Clock = utc_now):
        """``location``: a SQLite file's path, or a ``postgresql://`` URL."""
        self.path = str(location)
        self.backend = dialect.connect(self.path)
        self.clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._whole = True  # the transaction holds the whole store (it named nothing)
        self._held: set[int] = set()  # the named locks it holds
        # Called after each transaction's COMMIT, in the committing thread (the server's
        # SQLite checkpoints start then: ``kanavat/checkpoints.py``).
        self.after_commit: Callable[[], None] | None = None
        migrations.apply(self)
        self._key = (secret or self._stored_key()).encode()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.backend.name

    @property
    def round_trips(self) -> int:
        """Statements (or batches of them) sent to PostgreSQL and answered so far; 0 on
        SQLite, whose statements are calls in process (the SMS bench reads it)."""
        return self.backend.round_trips

    @property
    def is_postgres(self) -> bool:
        return self.backend.name == "postgresql"

    @property
    def db(self) -> Database:
        """sqlite_utils' view of a SQLite store (tests and SQLite-only tools)."""
        if not isinstance(self.backend, dialect.Sqlite):
            raise TypeError("store.db is SQLite's; this store is PostgreSQL")
        return self.backend.db

    def close(self) -> None:
        self.backend.close()

    def now(self) -> str:
        return iso(self.clock())

    @property
    def schema_version(self) -> int:
        return migrations.schema_version(self)

    @contextmanager
    def transaction(self, *names: str) -> Iterator[None]:
        """One atomic unit; nested calls join the outer transaction.

        ``names`` say what it works on: a resident (``contact:ID``, ``phone:NUMBER``, ...),
        an event, a stratum. On PostgreSQL a named transaction excludes only those holding
        one of its names (and unnamed ones), so different residents' turns run in parallel
        in every worker; an unnamed one holds the whole store, as every transaction does on
        SQLite (``BEGIN IMMEDIATE``). What it reads under its names stays true until it
        commits. A nested call adds its names; an unnamed one nested in a named one is part
        of that work (it touches what the outer names cover, or names what else it needs).

        A connection found dead before the transaction starts is replaced; one lost during
        it fails it with :class:`ConnectionLost` (the server rolled it back)."""
        with self._lock:
            ids = [_lock_id(n) for n in names]
            if self._depth == 0:
                self._begin(ids)
            elif not self._whole:
                self._locks(self.backend.lock([i for i in ids if i not in self._held]))
                self._held.update(ids)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._run("COMMIT")
                    if self.after_commit is not None:
                        self.after_commit()

    def atomic(self, work: Callable[[], T], *names: str) -> T:
        """``work()`` in a transaction, run again if the connection was lost under it or
        PostgreSQL broke a deadlock by failing it: the server rolled the first run back, so
        the second is the only one that counts. For work whose rules make a repeat harmless
        (a turn checks its event is unhandled)."""
        for tries_left in (2, 1, 0):
            try:
                with self.transaction(*names):
                    return work()
            except Exception as exc:
                again = isinstance(exc, ConnectionLost) or self.backend.collided(exc)
                if not again or not tries_left or self._depth:
                    raise
        raise AssertionError("unreachable")

    def _begin(self, ids: list[int]) -> None:
        if self.backend.lazy_locks:  # sent with the transaction's first statement
            self.backend.ensure_connected()
            self._locks(self.backend.begin(ids))
            self._whole = not ids
            self._held = set(ids)
            return
        for tries_left in (1, 0):
            self.backend.ensure_connected()
            try:
                self._locks(self.backend.begin(ids))
                break
            except ConnectionLost:
                if not tries_left:
                    raise
            except BaseException:  # BEGIN ran, a lock did not: end what was begun
                self._rollback()
                raise
        self._whole = not ids
        self._held = set(ids)

    def _rollback(self) -> None:
        self.backend.forget_deferred()
        if self.backend.connection_ok() and self.backend.in_transaction():
            self._run("ROLLBACK")

    def _locks(self, statements: list[tuple[str, list[Any]]]) -> None:
        """``BEGIN`` and locks: run now, or (PostgreSQL) sent with the next statement, which
        runs only once they are held (a round trip saved per transaction)."""
        for sql, params in statements:
            if self.backend.lazy_locks:
                self.backend.defer(sql, params)
            else:
                self._run(sql, params)

    def _run(self, sql: str, params: Any = ()) -> Cursor:
        """Every statement of the store goes through here (kill-point tests hook it)."""
        try:
            return self.backend.execute(sql, params)
        except Exception as exc:
            if not self.backend.lost(exc):
                raise
            raise ConnectionLost(
                f"the connection to the store was lost ({type(exc).__name__})"
            ) from exc

    def _outside(self, sql: str, params: Any) -> Cursor:
        """A statement outside any transaction (it commits by itself): on a connection
        known alive; a read is asked again on a new connection if the old one died under it."""
        if self._depth:
            return self._run(sql, params)
        self.backend.ensure_connected()
        try:
            return self._run(sql, params)
        except ConnectionLost:
            if not sql.lstrip()[:6].upper() == "SELECT":
                raise
            self.backend.ensure_connected()
            return self._run(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        # Straight to the connection: sqlite-utils' query() wraps every SELECT in a savepoint
        # (three statements for one), which was a third of an SMS answer's store time.
        with self._lock:
            cursor = self._outside(sql, params)
            if cursor.description is None:
                return []
            keys = _column_names(cursor.description)
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Any = ()) -> Cursor:
        # Autocommit on both backends: a statement outside ``transaction()`` commits by
        # itself, inside it joins the transaction.
        with self._lock:
            return self._outside(sql, params)

    def write(self, sql: str, params: Any = ()) -> None:
        """A write whose outcome (a row count, an id) the caller does not read. Inside a
        transaction on PostgreSQL it is sent with the transaction's next statement (its
        ``COMMIT`` at the latest), a round trip saved; an error it meets fails that
        statement, and so the transaction. Otherwise as :meth:`execute`."""
        with self._lock:
            if self._depth:
                self._defer(sql, params)
            else:
                self._outside(sql, params)

    def flush(self) -> None:
        """Send now what waits for the next statement (a transaction's ``BEGIN`` and locks,
        deferred writes): before work on the raw connection, as ``store copy``'s ``COPY``."""
        with self._lock:
            self.backend.flush()

    def _defer(self, sql: str, params: Any) -> None:
        """Every deferred write goes through here (kill-point tests hook it, as ``_run``)."""
        self.backend.defer(sql, params)

    def executemany(self, sql: str, rows: Any) -> None:
        with self._lock:
            if not self._depth:
                self.backend.ensure_connected()
            self.backend.executemany(sql, list(rows))

    def integrity_ok(self) -> bool:
        with self._lock:
            return self.backend.integrity_ok()

    def tables(self) -> list[str]:
        with self._lock:
            return self.backend.tables()

    # -- settings and pseudonyms ----------------------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self.one("SELECT value FROM settings WHERE key = ?", [key])
        return row["value"] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def _stored_key(self) -> str:
        with self.transaction():
            key = self.setting("pseudonym_key")
            if key is None:
                key = secrets.token_hex(32)
                self.set_setting("pseudonym_key", key)
        return key

    def pseudonym(self, campaign_id: str, identity: str) -> str:
        """Stable within a campaign, unlinkable across campaigns without the key."""
        digest = hmac.new(
            self._key, f"{campaign_id}\x00{identity}".encode(), hashlib.sha256
        ).digest()
        return "r" + base64.b32encode(digest[:10]).decode().lower().rstrip("=")[:12]

    def audit(self, action: str, **detail: Any) -> None:
        self.execute(
            "INSERT INTO audit(at, action, detail) VALUES (?, ?, ?)",
            [self.now(), action, json.dumps(detail, ensure_ascii=False)],
        )
