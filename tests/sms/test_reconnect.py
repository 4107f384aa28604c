"""A worker whose PostgreSQL connections are ended under it (``pg_terminate_backend``: an
administrator, a failover, a server restarting) connects again and carries on: the
resident's next answers are taken, each once, and the next question sent once."""

from __future__ import annotations

from pathlib import Path

from harness import SMS_CAMPAIGN, running_server

from bench.pg_cluster import PostgresServer
from kanavat.sms import render

WAIT = 10.0


def said(text: str) -> str:
    return render.plain(text.strip())


async def test_a_worker_carries_on_after_its_connections_are_ended(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.fresh_database()
    try:
        async with running_server(tmp_path, database=url) as srv:
            q = srv.config.questionnaire_of(SMS_CAMPAIGN)
            number = "+358401000077"
            srv.import_contacts({number: "fi"})
            srv.start_campaign()
            handset = srv.emulator.handset(number)
            await handset.wait_for_message(WAIT)
            await handset.send_sms("4")
            assert (
                said(q.question("esteet").text["fi"]) in (await handset.wait_for_message(WAIT)).body
            )
            await srv.idle()
            assert postgres_server.terminate(url) >= 1  # the worker's, the scheduler's, ours
            await handset.send_sms("kyllä")
            assert (
                said(q.question("este_mika").text["fi"])
                in (await handset.wait_for_message(WAIT)).body
            )
            postgres_server.terminate(url)
            await handset.send_sms("2")
            assert (
                said(q.question("kuljetus").text["fi"])
                in (await handset.wait_for_message(WAIT)).body
            )
            await srv.idle()
            values = {row["question"]: row["value"] for row in srv.export()}
            assert len(handset.inbox) == 4  # invitation and three questions, none twice
            failed = srv.store.one(
                "SELECT count(*) AS n FROM events WHERE outcome IS NULL OR tries > 0"
            )
        assert values == {"asiointi": 4, "esteet": "yes", "este_mika": "tilat"}
        assert failed == {"n": 0}
    finally:
        postgres_server.drop(url)
