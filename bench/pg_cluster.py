"""A real, throwaway PostgreSQL server for the tests and benchmarks: Debian's package, a
cluster in a temp dir.

Started once per test session, on first use, on a free port of 127.0.0.1 with trust
authentication (nothing else can reach it). PostgreSQL refuses to run as root, so as root
(CI) the cluster belongs to the ``postgres`` user Debian's package creates and its programs
run through ``runuser``. Each test gets a database of its own (``fresh_database``), dropped
after.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    """A PostgreSQL program: on PATH, or in Debian's versioned folder (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    raise RuntimeError(
        f"PostgreSQL's {name} is not installed: run scripts/install-test-deps "
        "(Debian package postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, *, count_statements: bool = False) -> None:
        """``count_statements``: load ``pg_stat_statements`` (the benchmark counts a
        database's statements and transactions per answer with :meth:`counts`)."""
        self.count_statements = count_statements
        self.folder = Path(tempfile.mkdtemp(prefix="kanavat-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, text=True, cwd=self.folder
        )

    def start(self) -> PostgresServer:
        self._run(
            _bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self._options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        if self.count_statements:
            self._options += (
                " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=10000"
            )
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-o", self._options, "-l",
            str(self.folder / "log"), "-w", "start",
        )  # fmt: skip
        return self

    def restart(self) -> None:
        """Stop the server (its connections end, as in an upgrade or a crash's recovery)
        and start it again on the same port and data."""
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-o", self._options, "-l",
            str(self.folder / "log"), "-m", "fast", "-w", "restart",
        )  # fmt: skip

    def down(self) -> None:
        """Stop the server and leave it stopped (its data kept): an outage, until :meth:`up`."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def up(self) -> None:
        """Start it again after :meth:`down`, on the same port and data."""
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-o", self._options, "-l",
            str(self.folder / "log"), "-w", "start",
        )  # fmt: skip

    def terminate(self, url: str) -> int:
        """End every connection to ``url``'s database (``pg_terminate_backend``), as an
        administrator or a failover would; how many were ended."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            ).fetchall()
            for _ in range(1000):  # until they are gone (a terminated backend exits soon after)
                left = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()",
                    [name],
                ).fetchone()
                if not left or not left[0]:
                    break
                conn.execute("SELECT pg_sleep(0.01)")
        return len(rows)

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def fresh_database(self, template: str | None = None) -> str:
        """A new database: empty, or a copy of ``template``'s (a URL nobody is connected to)."""
        name = "t_" + secrets.token_hex(6)
        copy = f" TEMPLATE {template.rsplit('/', 1)[1]}" if template else ""
        self._admin(f"CREATE DATABASE {name}{copy}")
        return f"{self.url}/{name}"

    def counts(self, url: str) -> dict[str, int]:
        """Calls of each statement (by its normalised text) run in ``url``'s database, and
        its commits and rollbacks (``:commits``, ``:rollbacks``), all since the cluster
        started: the benchmark takes the difference over a run (:func:`counted`). Each
        statement is one round trip from its client unless the client pipelined it."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            rows = conn.execute(
                "SELECT s.query, sum(s.calls) FROM pg_stat_statements s JOIN pg_database d "
                "ON d.oid = s.dbid WHERE d.datname = %s GROUP BY s.query",
                [name],
            ).fetchall()
            xact = conn.execute(
                "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = %s",
                [name],
            ).fetchone()
        found = {str(r[0]): int(r[1]) for r in rows}
        found[":commits"], found[":rollbacks"] = (int(xact[0]), int(xact[1])) if xact else (0, 0)
        return found

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(sql)


def counted(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What ran between two :meth:`PostgresServer.counts`, most called first."""
    diff = {k: v - before.get(k, 0) for k, v in after.items()}
    return dict(sorted(((k, v) for k, v in diff.items() if v), key=lambda kv: -kv[1]))
