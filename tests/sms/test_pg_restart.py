"""A worker carries on after its PostgreSQL server restarts (an upgrade, a crash's recovery,
a failover) or is down for a while: every connection it had ends, the scheduler's advisory
lock with them. The resident's next answers are taken, each once; the scheduler is led
again (the lock held anew) and dispatches again: a resident added after the restart is
invited. No process is restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import SMS_CAMPAIGN, running_server

from bench.pg_cluster import PostgresServer
from kanavat.leader import SCHEDULER_LOCK
from kanavat.sms import render

WAIT = 20.0


def said(text: str) -> str:
    return render.plain(text.strip())


def scheduler_led(cluster: PostgresServer, url: str) -> bool:
    """Whether a backend holds the scheduler's advisory lock (a bigint key: its low 32
    bits are the lock's ``objid``)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 0 AND objid = %s AND objsubid = 1",
            [SCHEDULER_LOCK],
        ).fetchone()
    return bool(row and row[0])


async def test_a_worker_carries_on_after_postgresql_restarts(tmp_path: Path) -> None:
    cluster = PostgresServer().start()  # its own: the shared one serves the other tests
    try:
        url = cluster.fresh_database()
        async with running_server(tmp_path, database=url) as srv:
            q = srv.config.questionnaire_of(SMS_CAMPAIGN)
            first, second = "+358401000078", "+358401000079"
            srv.import_contacts({first: "fi"})
            srv.start_campaign()
            handset = srv.emulator.handset(first)
            await handset.wait_for_message(WAIT)
            await handset.send_sms("4")
            assert (
                said(q.question("esteet").text["fi"]) in (await handset.wait_for_message(WAIT)).body
            )
            await srv.idle()
            assert scheduler_led(cluster, url)

            await asyncio.to_thread(cluster.restart)  # the server away, then back

            await srv.wait_until(lambda: scheduler_led(cluster, url), WAIT, "a leader again")
            await handset.send_sms("kyllä")
            assert (
                said(q.question("este_mika").text["fi"])
                in (await handset.wait_for_message(WAIT)).body
            )
            srv.import_contacts({second: "fi"})
            srv.start_campaign()  # enrols the newcomer; the leader's dispatcher invites
            newcomer = srv.emulator.handset(second)
            await newcomer.wait_for_message(WAIT)
            await srv.idle()

            await asyncio.to_thread(cluster.down)  # an outage: the scheduler's ticks fail
            await asyncio.sleep(2.0)  # ten of the harness's ticks against a stopped server
            await asyncio.to_thread(cluster.up)

            await srv.wait_until(lambda: scheduler_led(cluster, url), WAIT, "a leader again")
            await handset.send_sms("2")
            assert (
                said(q.question("kuljetus").text["fi"])
                in (await handset.wait_for_message(WAIT)).body
            )
            await srv.idle()
            values = {row["question"]: row["value"] for row in srv.export()}
            assert len(handset.inbox) == 4  # invitation and three questions, none twice
            assert len(newcomer.inbox) == 1
            failed = srv.store.one(
                "SELECT count(*) AS n FROM events WHERE outcome IS NULL OR tries > 0"
            )
        assert {k: values[k] for k in ("asiointi", "esteet", "este_mika")} == {
            "asiointi": 4,
            "esteet": "yes",
            "este_mika": "tilat",
        }
        assert failed == {"n": 0}
    finally:
        cluster.stop()
