"""``kanavat store copy``: a county's SQLite store into an empty PostgreSQL database.

Both sides are opened as stores first, so both have every migration and the same tables.
Then, in one PostgreSQL transaction: each table's rows are streamed with ``COPY`` (ids kept,
parents before the tables that refer to them), the identity counters are moved past the
copied ids, and every table's row count is compared with the SQLite file's. Any difference
or error rolls the whole copy back: the target is either a full copy or still empty.

It reads the tables, not the owners: a copy moves rows as they are and decides nothing.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path

from kanavat import dialect
from kanavat.store import Store


class CopyError(Exception):
    pass


def copy_store(source: Path, target: str) -> dict[str, int]:
    """Copy and verify; returns each table's row count (equal on both sides)."""
    if not dialect.is_postgres(target):
        raise CopyError(f"the target must be a postgresql:// URL, not {target!r}")
    if not source.is_file():
        raise CopyError(f"no SQLite store at {source}")
    try:
        src = Store(source)
    except Exception as exc:
        raise CopyError(f"{source} is not a kanavat SQLite store: {exc}") from None
    try:
        dst = Store(target, secret="copying")  # a secret given: no pseudonym key is written
    except Exception as exc:
        src.close()
        raise CopyError(f"cannot open {dialect.where(target)}: {exc}") from None
    try:
        return _copy(src, dst)
    finally:
        src.close()
        dst.close()


def _copy(src: Store, dst: Store) -> dict[str, int]:
    record = {src.backend.migrations_table, dst.backend.migrations_table}
    tables = [t for t in _in_order(src) if t not in record]
    missing = [t for t in tables if t not in dst.tables()]
    if missing:
        raise CopyError(f"tables missing in the target: {', '.join(missing)}")
    filled = [t for t in tables if _count(dst, t)]
    if filled:
        raise CopyError(f"the target is not empty ({', '.join(filled)}): copy into a new database")
    expected = {t: _count(src, t) for t in tables}
    conn = dst.backend.conn  # type: ignore[attr-defined]
    with dst.transaction():
        dst.flush()  # BEGIN sent: the COPYs below are inside this transaction
        for table in tables:
            columns = _shared_columns(src, dst, table)
            names = ", ".join(columns)
            rows = src.execute(f"SELECT {names} FROM {table}").fetchall()
            try:
                with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as out:
                    for row in rows:
                        out.write_row(row)
            except Exception as exc:
                raise CopyError(f"table {table}: {exc}") from None
            if "id" in columns and table in dst.backend.identity_tables:
                dst.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table}"
                )
        copied = {t: _count(dst, t) for t in tables}
        wrong = {t: (expected[t], copied[t]) for t in tables if copied[t] != expected[t]}
        if wrong:
            detail = ", ".join(f"{t}: {a} in SQLite, {b} copied" for t, (a, b) in wrong.items())
            raise CopyError(f"counts differ, nothing copied: {detail}")
    return copied


def _count(store: Store, table: str) -> int:
    row = store.one(f"SELECT count(*) AS n FROM {table}")
    return int(row["n"]) if row else 0


def _in_order(src: Store) -> list[str]:
    """SQLite's tables, each after the tables its foreign keys point at."""
    graph: dict[str, set[str]] = {}
    for table in src.tables():
        refs = src.query(f"PRAGMA foreign_key_list({table})")
        graph[table] = {r["table"] for r in refs if r["table"] != table}
    return list(TopologicalSorter(graph).static_order())


def _shared_columns(src: Store, dst: Store, table: str) -> list[str]:
    theirs = {
        r["column_name"]
        for r in dst.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ?",
            [table],
        )
    }
    ours = [r["name"] for r in src.query(f"PRAGMA table_info({table})")]
    absent = [c for c in ours if c not in theirs]
    if absent:
        raise CopyError(f"table {table}: columns missing in the target: {', '.join(absent)}")
    return ours
