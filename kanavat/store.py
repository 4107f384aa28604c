"""The SQLite store: the single source of truth for contacts, campaigns, sessions and answers.

WAL mode so the server, the scheduler and CLI commands can read while one writes; every
schema change is a migration (``migrations.py``). Respondents are known by pseudonyms: an HMAC
of the campaign and the contact's internal id under a secret key, never the phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kanavat import migrations

Clock = Callable[[], datetime]


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


class Store:
    def __init__(self, path: str | Path, *, secret: str | None = None, clock: Clock = utc_now):
        self.path = str(path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        self.db = Database(conn)
        self.clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        migrations.apply(self.db)
        self._key = (secret or self._stored_key()).encode()

    def close(self) -> None:
        self.db.conn.close()

    def now(self) -> str:
        return iso(self.clock())

    @property
    def schema_version(self) -> int:
        return migrations.schema_version(self.db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested calls join the outer transaction."""
        with self._lock:
            if self._depth == 0:
                self._run("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._run("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._run("COMMIT")

    def _run(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        """Every statement of the store goes through here (kill-point tests hook it)."""
        return self.db.conn.execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        # Straight to the connection: sqlite-utils' query() wraps every SELECT in a savepoint
        # (three statements for one), which was a third of an SMS answer's store time.
        with self._lock:
            cursor = self._run(sql, params)
            if cursor.description is None:
                return []
            keys = _column_names(cursor.description)
            return [dict(zip(keys, row, strict=True)) for row in cursor]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        # The connection is in autocommit mode (isolation_level=None): a statement outside
        # ``transaction()`` commits by itself, inside it joins the transaction.
        with self._lock:
            return self._run(sql, params)

    def integrity_ok(self) -> bool:
        return self.one("PRAGMA integrity_check")["integrity_check"] == "ok"  # type: ignore[index]

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
