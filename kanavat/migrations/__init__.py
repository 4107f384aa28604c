"""Schema migrations: named, ordered, each applied once in a transaction with its record.

One set for both dialects. A migration is a function of a :class:`Schema`, registered with
``@migration`` at the end of ``later.py`` (``early.py`` holds the first nine); its SQL is SQLite's portable subset (TEXT, INTEGER,
REAL; ``id INTEGER PRIMARY KEY`` for a numbered table), which ``Schema.execute`` writes in
PostgreSQL's types there (``dialect.pg_ddl``). Something only one dialect has (a trigger) goes
under ``if db.dialect == "sqlite"``; better, keep rules in the owner's Python.

Never edit a migration that has shipped; add a new one. The record is sqlite_utils' table
(``_sqlite_migrations``, set ``kanavat``), so stores made before this runner open as they
were; PostgreSQL's is ``schema_migrations``. The schema version (``kanavat check``,
``/healthz``) is the number of migrations applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kanavat.store import Store

SET = "kanavat"


class Schema:
    """What a migration sees: ``execute`` (DDL or data, in the store's dialect)."""

    def __init__(self, store: Store):
        self.store = store
        self.dialect = store.dialect

    def execute(self, sql: str) -> None:
        self.store.execute(self.store.backend.ddl(sql))


Migration = Callable[[Schema], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a migration; its function name is its record, so never rename one."""
    if any(m.__name__ == fn.__name__ for m in MIGRATIONS):
        raise ValueError(f"migration {fn.__name__} is registered twice")
    MIGRATIONS.append(fn)
    return fn


def _ensure_record(store: Store) -> None:
    table = store.backend.migrations_table
    store.execute(
        store.backend.ddl(
            f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, migration_set TEXT, "
            "name TEXT, applied_at TEXT)"
        )
    )
    store.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS idx_{table}_migration_set_name "
        f"ON {table} (migration_set, name)"
    )


def applied(store: Store) -> list[str]:
    table = store.backend.migrations_table
    if table not in store.tables():
        return []
    rows = store.query(f"SELECT name FROM {table} WHERE migration_set = ? ORDER BY id", [SET])
    return [r["name"] for r in rows]


def schema_version(store: Store) -> int:
    return len(applied(store))


def version_at(location: str) -> int:
    """The schema version of a store not opened yet (0: none, or no store there)."""
    from kanavat import dialect

    backend = dialect.connect(location)
    try:
        table = backend.migrations_table
        if table not in backend.tables():
            return 0
        rows = backend.query(f"SELECT count(*) AS n FROM {table} WHERE migration_set = ?", [SET])
        return int(rows[0]["n"])
    finally:
        backend.close()


def apply(store: Store) -> None:
    """Apply what is pending, each in its own transaction with its record. Processes
    starting together take turns (the write lock) and each migration runs once."""
    done = set(applied(store))
    if all(m.__name__ in done for m in MIGRATIONS):
        return
    with store.transaction():
        _ensure_record(store)
    for fn in MIGRATIONS:
        with store.transaction():
            if fn.__name__ in applied(store):
                continue
            fn(Schema(store))
            store.execute(
                f"INSERT INTO {store.backend.migrations_table}(migration_set, name, applied_at) "
                "VALUES (?, ?, ?)",
                [SET, fn.__name__, str(datetime.now(UTC))],
            )
        store.backend.refresh()


# The migrations, in order: importing a module registers its own.
from kanavat.migrations import early, later  # noqa: E402, F401
