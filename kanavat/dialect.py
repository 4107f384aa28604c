"""The store's two dialects: SQLite (the embedded default) and PostgreSQL (several workers).

Owners write one SQL for both: SQLite's portable subset with ``?`` placeholders, ``INSERT ...
ON CONFLICT``, ISO text for times. This module is the only place the dialects differ:

- connecting (PRAGMAs on SQLite; autocommit, dict rows on PostgreSQL);
- placeholders (``?`` becomes ``%s``, a literal ``%`` is doubled);
- round trips: PostgreSQL's ``BEGIN`` and a transaction's locks go with its first
  statement, in one message, and a write whose outcome nobody reads (``Store.write``)
  goes with the transaction's next statement (its ``COMMIT`` at the latest); in process,
  SQLite runs each statement at once;
- a write transaction's locks: SQLite's ``BEGIN IMMEDIATE`` takes the database's one write
  lock. On PostgreSQL a transaction names what it works on (a resident, an event: see
  ``Store.transaction``) and takes a transaction-level advisory lock on each name, plus the
  whole store's lock in shared mode; one naming nothing takes the whole store's lock exclusively.
  So a resident's turns are serialised across every worker, different residents' turns run
  in parallel, and an unnamed transaction's read-then-write rules hold as under SQLite;
- a lost connection (a restarted server, ``pg_terminate_backend``): noticed before a
  statement when possible (the socket says so) and answered by connecting again; a
  transaction cut mid-way was rolled back by the server and fails with
  :class:`ConnectionLost`;
- an inserted row's id (``cursor.lastrowid``): PostgreSQL appends ``RETURNING id`` for tables
  whose ``id`` is an identity column;
- a claim's row locks (``FOR UPDATE ... SKIP LOCKED`` on PostgreSQL);
- DDL types: ``INTEGER PRIMARY KEY`` is an identity column, ``INTEGER`` is ``BIGINT`` and
  ``REAL`` is ``DOUBLE PRECISION`` (PostgreSQL's ``REAL`` is single precision);
- the integrity check and the list of tables;
- an aggregate listing a group's integer ids as one comma-separated text (``id_list``:
  ``group_concat`` on SQLite, ``string_agg`` on PostgreSQL), so a million ids arrive as a few
  hundred rows.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from sqlite_utils import Database

WRITE_LOCK = 0x6B616E61  # "kana": the whole store's advisory lock on PostgreSQL
NAMED_LOCKS = 0x6B616E63  # "kanc": the space of named locks (a resident's, an event's)
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


class StoreUnavailable(Exception):
    """The database cannot be reached or refuses us (said without any password)."""


class ConnectionLost(StoreUnavailable):
    """The connection died under a statement (the server restarted, the backend was
    terminated). Inside a transaction the server rolled all of it back; the store is
    connected again (or says it cannot be) before the next statement."""


def where(url: str) -> str:
    """A PostgreSQL URL as host:port/database, for messages: no user, no password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


class Cursor(Protocol):
    """What ``Store.execute`` returns: sqlite3's cursor, or :class:`PgResult`."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    @property
    def description(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Backend(Protocol):
    name: str
    migrations_table: str
    lazy_locks: bool  # BEGIN and locks go with the transaction's first statement

    def begin(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]: ...
    def lock(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]: ...
    def defer(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def forget_deferred(self) -> None: ...
    def flush(self) -> None: ...
    def ensure_connected(self) -> None: ...
    def lost(self, exc: BaseException) -> bool: ...
    def collided(self, exc: BaseException) -> bool: ...
    def connection_ok(self) -> bool: ...
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def ddl(self, sql: str) -> str: ...
    def claim_rows(self, alias: str) -> str: ...
    def id_list(self, column: str) -> str: ...
    def tables(self) -> list[str]: ...
    def integrity_ok(self) -> bool: ...
    def refresh(self) -> None: ...
    def close(self) -> None: ...

    @property
    def round_trips(self) -> int: ...


def connect(location: str) -> Backend:
    return Postgres(location) if is_postgres(location) else Sqlite(location)


class Sqlite:
    """WAL mode so the server, the scheduler and CLI commands read while one writes.

    ``synchronous=NORMAL``: a commit is written to the WAL but not fsynced (the WAL is, at
    each checkpoint). A committed turn survives the process being killed (``kill -9``, a
    crash); a power cut or kernel crash may roll back the commits since the last checkpoint.
    ``FULL`` would fsync every commit, three and a share per SMS answer."""

    name = "sqlite"
    migrations_table = "_sqlite_migrations"  # sqlite_utils' name, kept for deployed stores
    round_trips = 0  # in process: a statement is a call, never a round trip
    lazy_locks = False  # BEGIN IMMEDIATE at once: the write lock, or a wait for it

    def __init__(self, path: str):
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        self.conn = conn
        self.db = Database(conn)

    def begin(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]:
        """The file's one write lock, whatever the transaction names."""
        return [("BEGIN IMMEDIATE", [])]

    def lock(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]:
        return []

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """In process, a statement costs no round trip: it runs at once."""
        self.conn.execute(sql, params)

    def forget_deferred(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def ensure_connected(self) -> None:
        pass

    def lost(self, exc: BaseException) -> bool:
        return False

    def collided(self, exc: BaseException) -> bool:
        return False

    def connection_ok(self) -> bool:
        return True

    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def ddl(self, sql: str) -> str:
        return sql

    def claim_rows(self, alias: str) -> str:
        """A claim's row locks: none needed, the write transaction holds the whole file."""
        return ""

    def id_list(self, column: str) -> str:
        """A group's integer ``column`` as one text, comma-separated, in no set order."""
        return f"group_concat({column}, ',')"

    def tables(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        return [r[0] for r in rows]

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        self.conn.close()


class PgResult:
    """A PostgreSQL statement's outcome with sqlite3's cursor surface (rows as tuples)."""

    def __init__(
        self,
        rowcount: int,
        rows: list[tuple[Any, ...]],
        lastrowid: int | None,
        description: list[tuple[str]] | None,
    ):
        self.rowcount = rowcount
        self._rows = rows
        self.lastrowid = lastrowid
        self.description = description

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


class Postgres:
    """One connection per store (as with SQLite), in autocommit: a statement outside a
    transaction commits at once. Values are bound on the client (psycopg's ClientCursor)
    so an untyped ``?`` (``? IS NULL``, ``coalesce(?, x)``) needs no cast."""

    name = "postgresql"
    migrations_table = "schema_migrations"
    lazy_locks = True

    def __init__(self, url: str):
        from psycopg.rows import tuple_row

        self.url = url
        self._tuple_row = tuple_row
        self.conn = self._connect()
        self._identity: set[str] = set()
        self._deferred: list[str] = []
        self.round_trips = 0  # messages sent and answered (statements through execute/query)
        self.refresh()

    def _connect(self) -> Any:
        import psycopg
        from psycopg.rows import dict_row

        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                row_factory=dict_row,
                cursor_factory=psycopg.ClientCursor,
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip().splitlines() or ["?"])[-1]
            raise StoreUnavailable(
                f"cannot open the PostgreSQL store {where(self.url)}: {reason}"
            ) from None
        _adapt(conn)
        return conn

    def begin(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]:
        """``BEGIN`` and the transaction's advisory locks (released by its end, whichever),
        in one round trip: the lock numbers are our own integers, written in the text."""
        if not names:
            return [(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})", [])]
        shared = f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})"
        return [("; ".join(["BEGIN", shared, *self._locks(names)]), [])]

    def lock(self, names: Sequence[int]) -> list[tuple[str, list[Any]]]:
        """Named locks, in one order everywhere (two transactions never wait on each other),
        in one round trip."""
        return [("; ".join(self._locks(names)), [])] if names else []

    @staticmethod
    def _locks(names: Sequence[int]) -> list[str]:
        return [f"SELECT pg_advisory_xact_lock({NAMED_LOCKS}, {int(n)})" for n in sorted(names)]

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose outcome nobody reads, inside a transaction: sent with the
        transaction's next statement (its ``COMMIT`` at the latest) in one round trip.
        Were it to fail, that statement fails (the transaction is undone either way)."""
        cur = self.conn.cursor()
        self._deferred.append(cur.mogrify(pyformat(sql), list(params)) if params else sql)

    def forget_deferred(self) -> None:
        """Writes deferred in a transaction that is being rolled back."""
        self._deferred.clear()

    def ensure_connected(self) -> None:
        """Connect again if the connection is known dead, before a statement is sent on it.

        An idle connection's socket turns readable only when the server has something to
        say unasked: we never LISTEN, so that is its goodbye (a restart, a
        ``pg_terminate_backend``, an idle timeout) or, rarely, a notice. Either way the
        statement goes to a new connection, found without a round trip, never half-way."""
        import select

        conn = self.conn
        if not (conn.closed or conn.broken) and conn.info.transaction_status == 0:
            try:
                readable, _, _ = select.select([conn.fileno()], [], [], 0)
            except (OSError, ValueError):
                readable = [True]
            if readable:
                self.reconnect()
                return
        if conn.closed or conn.broken or conn.pgconn.status != 0:
            self.reconnect()

    def reconnect(self) -> None:
        """A new connection for the old one (the server forgot the old one's locks)."""
        self._deferred.clear()
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = self._connect()

    def connection_ok(self) -> bool:
        return not (self.conn.closed or self.conn.broken)

    def in_transaction(self) -> bool:
        """A ``BEGIN`` reached the server (not one still waiting to go with a statement)."""
        return self.conn.info.transaction_status != 0  # psycopg.pq.TransactionStatus.IDLE

    def collided(self, exc: BaseException) -> bool:
        """Whether the server undid the transaction for another's sake (a deadlock between
        two workers' locks, which PostgreSQL breaks by failing one): it may run again."""
        import psycopg

        return isinstance(
            exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
        )

    def lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the connection dying (not an error of the statement)."""
        import psycopg

        return isinstance(exc, psycopg.OperationalError) and (
            self.conn.closed or bool(self.conn.broken)
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgResult:
        returning = False
        match = _INSERT_INTO.match(sql)
        if match and match.group(1).lower() in self._identity and "RETURNING" not in sql.upper():
            sql, returning = sql + " RETURNING id", True
        cur = self.conn.cursor(row_factory=self._tuple_row)
        self.round_trips += 1
        if self._deferred:  # the deferred writes first, then this, in one message
            bound = cur.mogrify(pyformat(sql), list(params)) if params else sql
            text, self._deferred = "; ".join([*self._deferred, bound]), []
            cur.execute(text)
            while cur.nextset():  # this statement's result is the last
                pass
        else:
            cur.execute(pyformat(sql) if params else sql, list(params) or None)
        columns = cur.description  # built anew at each access: once
        rows = cur.fetchall() if columns is not None else []
        lastrowid = int(rows[0][0]) if returning and rows else None
        if returning or columns is None:
            return PgResult(cur.rowcount, [], lastrowid, None)
        return PgResult(cur.rowcount, rows, None, [(c.name,) for c in columns])

    def flush(self) -> None:
        """Send what waits to go with the next statement (a transaction's ``BEGIN`` and
        locks, deferred writes) now: before work on the raw connection (``COPY``)."""
        if self._deferred:
            text, self._deferred = "; ".join(self._deferred), []
            self.round_trips += 1
            self.conn.execute(text)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.flush()
        self.round_trips += 1
        with self.conn.cursor() as cur:
            cur.executemany(pyformat(sql), [list(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.flush()
        self.round_trips += 1
        cur = self.conn.execute(pyformat(sql) if params else sql, list(params) or None)
        return cur.fetchall() if cur.description is not None else []

    def ddl(self, sql: str) -> str:
        return pg_ddl(sql)

    def claim_rows(self, alias: str) -> str:
        """A claim's rows are locked until it commits and skipped by any other claimer."""
        return f" FOR UPDATE OF {alias} SKIP LOCKED"

    def id_list(self, column: str) -> str:
        """A group's integer ``column`` as one text, comma-separated, in no set order."""
        return f"string_agg(CAST({column} AS TEXT), ',')"

    def tables(self) -> list[str]:
        self.flush()
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        return [r["table_name"] for r in rows]

    def integrity_ok(self) -> bool:
        """No index left invalid (a failed concurrent build); the server checks its pages."""
        self.flush()
        row = self.conn.execute("SELECT count(*) AS n FROM pg_index WHERE NOT indisvalid")
        found = row.fetchone()
        return found is not None and found["n"] == 0

    def refresh(self) -> None:
        """Learn which tables number their rows (after migrations changed the schema)."""
        self.flush()
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        ).fetchall()
        self._identity = {r["table_name"] for r in rows}

    @property
    def identity_tables(self) -> set[str]:
        """Tables whose ``id`` PostgreSQL numbers (``INTEGER PRIMARY KEY`` in a migration)."""
        return set(self._identity)

    def close(self) -> None:
        self.conn.close()


@lru_cache(maxsize=4096)
def pyformat(sql: str) -> str:
    """``?`` placeholders outside quotes as ``%s``; every literal ``%`` doubled."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


_IDENTITY = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE)
_INTEGER = re.compile(r"\bINTEGER\b", re.IGNORECASE)
_REAL = re.compile(r"\bREAL\b", re.IGNORECASE)


def pg_ddl(sql: str) -> str:
    """A migration's SQLite DDL in PostgreSQL's types (column names stay)."""
    sql = _IDENTITY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sql)
    sql = _INTEGER.sub("BIGINT", sql)
    return _REAL.sub("DOUBLE PRECISION", sql)


def _adapt(conn: Any) -> None:
    """SQLite's value habits: a bool is stored as 0/1 in an INTEGER column, and a sum or an
    average comes back as a Python int or float, not a Decimal."""
    from psycopg.adapt import Loader
    from psycopg.types.numeric import Int8Dumper

    class BoolAsInteger(Int8Dumper):
        def dump(self, obj: Any) -> Any:
            return super().dump(int(obj))

    class PlainNumber(Loader):
        def load(self, data: Any) -> int | float:
            value = Decimal(bytes(data).decode())
            return int(value) if value == value.to_integral_value() else float(value)

    conn.adapters.register_dumper(bool, BoolAsInteger)
    conn.adapters.register_loader("numeric", PlainNumber)
