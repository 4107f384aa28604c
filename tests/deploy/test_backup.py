"""Backups of the store while ``kanavat serve`` writes to it, and restoring one after it stops."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from harness import SMS_CAMPAIGN, SMS_GROUP, free_port, write_config
from processes import healthy

from kanavat import backup
from kanavat.cli import main

KANAVAT = (sys.executable, "-m", "kanavat")
PEOPLE = [f"+3584050{n:05d}" for n in range(8)]


def kanavat(*args: str, config: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*KANAVAT, *args, "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode == 0) == ok, f"kanavat {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def cli(*args: str, config: Path, ok: bool = True) -> str:
    """A command in this process (setup and restore; the backups run as their own processes)."""
    result = CliRunner().invoke(main, [*args, "--config", str(config)])
    assert (result.exit_code == 0) == ok, f"kanavat {' '.join(args)}: {result.output}"
    return result.output


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]


async def text(emulator: str, phone: str, body: str) -> None:
    url = f"{emulator}/_emulator/handsets/{phone.replace('+', '%2B')}/sms"
    async with aiohttp.ClientSession() as http, http.post(url, json={"body": body}) as resp:
        assert resp.status == 200


def ports(port: int, emulator_port: int) -> tuple[str, ...]:
    return ("--port", str(port), "--emulator-port", str(emulator_port))


def serve(config: Path, port: int, emulator_port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*KANAVAT, "serve", "--config", str(config), *ports(port, emulator_port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(30)


async def test_backup_while_serving_then_restore(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    config = write_config(tmp_path, port)
    db, log, backups = tmp_path / "kanavat.db", tmp_path / "serve.log", tmp_path / "backups"
    bulk = tmp_path / "bulk.csv"  # enough rows that a copy takes a while
    bulk.write_text(
        "phone,language,note\n" + "".join(f"+35850{n:07d},fi,{'x' * 800}\n" for n in range(5000)),
        encoding="utf-8",
    )
    cli("contacts", "import", str(bulk), "--group", "arkisto", config=config)
    people = tmp_path / "people.csv"
    people.write_text("phone,language\n" + "".join(f"{p},fi\n" for p in PEOPLE))
    cli("contacts", "import", str(people), "--group", SMS_GROUP, config=config)

    proc = serve(config, port, emulator_port, log)
    try:
        await healthy(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=60)
        cli("campaign", "start", SMS_CAMPAIGN, config=config)
        emulator = f"http://127.0.0.1:{emulator_port}"
        writing = True

        async def residents() -> int:  # answers keep arriving while the backups run
            sent = 0
            while writing:
                await asyncio.gather(*(text(emulator, p, str(1 + sent % 5)) for p in PEOPLE))
                sent += 1
                # Up to 20 rounds a second: writes all through each backup, and CPU left for the
                # backup processes themselves (flat out, the writer starved them on two cores).
                await asyncio.sleep(0.05)
            return sent

        writer = asyncio.create_task(residents())
        await asyncio.sleep(0.5)
        copies = []
        for _ in range(2):
            done = await asyncio.to_thread(
                kanavat, "store", "backup", f"{backups}/", "--keep", "1", config=config
            )
            assert "integrity ok" in done.stdout and "+358" not in done.stdout
            copies.append(Path(done.stdout.split()[1].rstrip(":")))
            await asyncio.sleep(1.1)  # a new timestamp per second
        writing = False
        assert await writer >= 2

        refused = cli("store", "restore", str(copies[-1]), "--yes", config=config, ok=False)
        assert "in use by kanavat serve" in refused and "systemctl stop" in refused
        assert backup.last_backup(db) is not None
    finally:
        assert stop(proc) == 0, log.read_text()

    assert sorted(backups.glob("*.db")) == copies[1:]  # --keep 1 pruned the older
    last = copies[-1]
    with sqlite3.connect(last) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not Path(f"{last}-wal").exists() and oct(last.stat().st_mode & 0o777) == "0o600"
    in_backup = count(last, "SELECT id FROM events")
    assert count(db, "SELECT id FROM events") > in_backup > 0  # the server went on writing

    assert "the previous store is" in cli("store", "restore", str(last), "--yes", config=config)
    assert count(db, "SELECT id FROM events") == in_backup
    assert count(db, "SELECT id FROM contacts") == 5000 + len(PEOPLE)
    assert len(list(tmp_path.glob("kanavat.db.before-restore-*"))) == 1

    proc = serve(config, port, emulator_port, log)  # the restored store serves again
    try:
        await healthy(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=60)
    finally:
        assert stop(proc) == 0, log.read_text()


def test_backup_of_no_store(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    assert "no store at" in cli("store", "backup", config=config, ok=False)
    assert "nothing to back up" in cli("store", "backup", "--if-exists", config=config)
    assert "schema 0 -> " in cli("store", "migrate", config=config)
    assert "up to date" in cli("store", "migrate", config=config)
    done = cli("store", "backup", config=config)  # default: backups/ beside the store
    assert done.startswith(f"backup {tmp_path / 'backups' / 'kanavat-'}")
    assert backup.last_backup(tmp_path / "kanavat.db") is not None


def test_restore_refuses_what_is_not_a_kanavat_store(tmp_path: Path) -> None:
    db = tmp_path / "kanavat.db"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t(x)")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    for bad, message in [
        (other, "not a kanavat store"),
        (tmp_path / "junk.db", "not an SQLite database"),
        (tmp_path / "absent.db", "no backup at"),
    ]:
        with pytest.raises(backup.BackupError, match=message):
            backup.restore(bad, db)
    assert not db.exists()


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    names = [f"kanavat-2027030{d}T020000Z.db" for d in range(1, 6)]
    for name in [*names, "other-20270301T020000Z.db", "kanavat-handmade.db"]:
        (tmp_path / name).write_bytes(b"")

    gone = backup.prune(tmp_path, "kanavat", 2)
    assert [p.name for p in gone] == names[:3]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*names[3:], "other-20270301T020000Z.db", "kanavat-handmade.db"])


def test_dest_is_a_file_or_a_folder(tmp_path: Path) -> None:
    db, moment = tmp_path / "kanavat.db", datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    named = "kanavat-20270301T020000Z.db"
    assert backup.target(db, None, moment) == tmp_path / "backups" / named
    assert backup.target(db, "/srv/copies/", moment) == Path("/srv/copies") / named
    assert backup.target(db, "/srv/copies", moment) == Path("/srv/copies") / named
    assert backup.target(db, tmp_path, moment) == tmp_path / named
    assert backup.target(db, "/srv/one.db", moment) == Path("/srv/one.db")


def test_one_server_per_store(tmp_path: Path) -> None:
    db = tmp_path / "kanavat.db"
    with (
        backup.serving(db),
        pytest.raises(backup.BackupError, match=rf"in use by kanavat serve \(pid {os.getpid()}\)"),
        backup.serving(db),
    ):
        pass
    with backup.serving(db):  # released when the holder stops
        pass


def test_servers_sharing_a_store_start_one_at_a_time_and_the_first_is_alone(
    tmp_path: Path,
) -> None:
    """``[server] workers_per_machine`` > 1: servers share the store; the first to start is
    alone (it recovers what a dead process left in flight), the others are not, and a
    server that wants the store to itself, or a restore, is refused meanwhile."""
    db = tmp_path / "kanavat.db"
    with backup.serving(db, shared=True) as first:
        assert first.alone
        first.started()
        with backup.serving(db, shared=True) as second:
            assert not second.alone
            with (
                pytest.raises(backup.BackupError, match="workers_per_machine"),
                backup.serving(db),
            ):
                pass
    with backup.serving(db, shared=True) as again:  # all gone: alone again
        assert again.alone
    with (
        backup.serving(db),
        pytest.raises(backup.BackupError, match="in use by kanavat serve"),
        backup.serving(db, shared=True),
    ):
        pass


def test_a_server_waits_while_another_starts(tmp_path: Path) -> None:
    """Until the first server's start-up is done (``Serving.started``) the next one waits:
    two that started together could both find themselves alone."""
    db = tmp_path / "kanavat.db"
    with backup.serving(db, shared=True) as first:
        results: list[bool] = []
        later = threading.Thread(target=lambda: results.append(_serve_briefly(db)))
        later.start()
        later.join(0.5)
        assert later.is_alive() and results == []  # waiting for the first's start-up
        first.started()
        later.join(10)
        assert results == [False]


def _serve_briefly(db: Path) -> bool:
    with backup.serving(db, shared=True) as hold:
        return hold.alone
