"""``kanavat serve`` killed with SIGKILL at every write of a campaign's finish, then started
again: the campaign ends finished with every resident settled, each with the disposition an
unbroken finish gives. (Issue 17: the status was once committed before the residents, and a
kill between the two left them ``pending`` for good.)"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from harness import free_port, write_config

from bench.pg_cluster import PostgresServer
from kanavat import config as configuration
from kanavat import contacts
from kanavat.conversations import Conversations
from kanavat.outreach import audience, campaigns, queue
from kanavat.questions.normalise import Input
from kanavat.store import Store

CAMPAIGN = "vammaispalvelut-2027"
GROUP = "palvelunkayttajat"
PHONES = [f"+3584090{n:05d}" for n in range(5)]
KILLPOINT = Path(__file__).with_name("killpoint.py")
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def ended_config(tmp_path: Path, port: int, database: str = "kanavat.db") -> Path:
    """The example county with the campaign's end already past."""
    path = write_config(tmp_path, port, database=database)
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(
        r"start = 2027-02-01T09:00:00\nend = 2027-02-14T21:00:00",
        "start = 2026-01-01T09:00:00\nend = 2026-01-02T21:00:00",
        text,
    )
    assert n == 1
    path.write_text(text, encoding="utf-8")
    return path


def running_campaign(tmp_path: Path, config_path: Path, database: str | None = None) -> Path:
    """A running campaign of five residents: two never attempted, one texted without a reply,
    one who answered one question, one who completed. Each kind of final disposition, and a
    kill between two residents of one kind; every resident costs the test its kill points and
    two server starts each (eight took twice as long and proved nothing more)."""
    config = configuration.load(config_path, env={})
    csv = tmp_path / "residents.csv"
    csv.write_text("phone,language\n" + "".join(f"{p},fi\n" for p in PHONES))
    store = Store(database or tmp_path / "kanavat.db")
    try:
        contacts.import_csv(store, csv, GROUP, ["fi", "sv", "en"], [358], False)
        campaigns.sync(store, config)
        audience.enrol(store, config, CAMPAIGN)
        campaigns.set_status(store, CAMPAIGN, "running")
        ids = [r["contact_id"] for r in queue.pending(store, CAMPAIGN)]
        talk = Conversations(config, store)
        for n, contact in enumerate(ids[2:], start=2):
            queue.lease(store, CAMPAIGN, contact, "9999")
            queue.take(store, CAMPAIGN, contact, "9999", "2026-01-03T00:00:00.000Z")
            store.execute(
                "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
                "updated_at) VALUES (?, ?, 'sms', 'sent', ?, ?)",
                [CAMPAIGN, contact, store.now(), store.now()],
            )
            if n >= 3:
                turn = talk.begin(CAMPAIGN, "sms", "fi", contact_id=contact)
                talk.take(turn.session_id, Input("text", "4"))
        queue.finalise(store, CAMPAIGN, ids[4], "complete")
    finally:
        store.close()
    return tmp_path / "kanavat.db"


def dispositions(db: Path | str) -> tuple[str | None, dict[str, int]]:
    store = Store(db)
    try:
        status = campaigns.status(store, CAMPAIGN)
        rows = store.query(
            "SELECT disposition, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? "
            "GROUP BY disposition",
            [CAMPAIGN],
        )
        return status, {r["disposition"]: r["n"] for r in rows}
    finally:
        store.close()


async def serve_until_healthy(config: Path, port: int, log: Path, *killpoint: str) -> None:
    """Start the server and wait for /healthz; with ``killpoint`` (N, marker) it runs under
    killpoint.py and must die of SIGKILL."""
    start = (str(KILLPOINT), *killpoint) if killpoint else ("-m", "kanavat")
    proc = subprocess.Popen(
        [
            sys.executable,
            *start,
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--emulator-port",
            str(free_port()),
        ],  # not port + 1: another test may hold it
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env=ENV,
    )
    deadline = time.monotonic() + 60
    try:
        async with aiohttp.ClientSession() as http:
            while proc.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200 and not killpoint:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        assert proc.returncode == -signal.SIGKILL, log.read_text()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


SETTLED = {"unknown": 2, "non_contact": 1, "partial": 1, "complete": 1}


async def test_killed_at_every_write_of_the_finish(tmp_path: Path) -> None:
    port = free_port()
    config = ended_config(tmp_path, port)
    template = running_campaign(tmp_path, config)
    kill_at, writes = 1, None
    while writes is None or kill_at <= writes + 1:
        run = tmp_path / f"kill-{kill_at}"
        run.mkdir()
        shutil.copy(template, run / "kanavat.db")
        shutil.copy(config, run / "config.toml")
        marker, log = run / "writes", run / "serve.log"
        await serve_until_healthy(run / "config.toml", port, log, str(kill_at), str(marker))
        if marker.exists():  # the finish completed before this kill point: killed after it
            writes = int(marker.read_text())
        else:
            assert dispositions(run / "kanavat.db") == ("running", {"pending": 4, "complete": 1})
        await serve_until_healthy(run / "config.toml", port, log)
        assert dispositions(run / "kanavat.db") == ("finished", SETTLED), f"killed at {kill_at}"
        kill_at += 1
    assert writes is not None and writes >= 4  # at least one kill point per pending resident


async def test_killed_at_writes_of_the_finish_on_postgresql(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """The same on PostgreSQL at three kill points (the suite's time): the first write, one
    mid-way, and after the commit. Each run starts from a copy of one template database."""
    port = free_port()
    template = postgres_server.fresh_database()
    running_campaign(tmp_path, ended_config(tmp_path, port, template), template)
    for kill_at in (1, 5, 10**6):
        run = tmp_path / f"kill-{kill_at}"
        run.mkdir()
        url = postgres_server.fresh_database(template)
        config = ended_config(run, port, url)
        marker, log = run / "writes", run / "serve.log"
        await serve_until_healthy(config, port, log, str(kill_at), str(marker))
        if marker.exists():
            assert int(marker.read_text()) >= 4
        else:
            assert dispositions(url) == ("running", {"pending": 4, "complete": 1})
        await serve_until_healthy(config, port, log)
        assert dispositions(url) == ("finished", SETTLED), f"killed at {kill_at}"
        postgres_server.drop(url)
    assert marker.exists()
    postgres_server.drop(template)


async def test_start_up_settles_a_finished_campaigns_pending_residents(tmp_path: Path) -> None:
    """A database left by the old two-step finish: finished, residents still pending."""
    port = free_port()
    config = ended_config(tmp_path, port)
    db = running_campaign(tmp_path, config)
    store = Store(db)
    campaigns.set_status(store, CAMPAIGN, "finished")
    store.close()
    assert dispositions(db) == ("finished", {"pending": 4, "complete": 1})
    await serve_until_healthy(config, port, tmp_path / "serve.log")
    assert dispositions(db) == ("finished", SETTLED)
