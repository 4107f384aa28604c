"""``kanavat campaign start|pause|resume|status`` act on the running server's store and take
effect at its next tick."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from clockwork import Clock, clock_server, config_text, local
from harness import SMS_CAMPAIGN, SMS_GROUP, running_server

from kanavat.cli import main
from kanavat.outreach import audience, campaigns

FIRST = {f"+3584090{n:05d}": "fi" for n in range(5)}
LATER = {f"+3584091{n:05d}": "sv" for n in range(5)}


def invited(srv) -> int:
    return srv.count("SELECT DISTINCT contact_id FROM outbound WHERE purpose = 'invitation'")


def started(srv) -> int:
    """Contacts whose attempt is written: taken off the queue, the text about to go out (its
    outbound row follows when the provider request runs, which under load can be later)."""
    return srv.count("SELECT DISTINCT contact_id FROM attempts")


async def test_pause_resume_and_status(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts(FIRST)
        out = srv.cli("campaign", "start", SMS_CAMPAIGN).output
        assert "running; 5 contacts due now" in out
        await srv.wait_until(lambda: invited(srv) == 5, what="the first five invited")

        assert srv.cli("campaign", "pause", SMS_CAMPAIGN).output.strip().endswith("paused")
        srv.import_contacts({**FIRST, **LATER})
        assert audience.enrol(srv.store, srv.config, SMS_CAMPAIGN) == 5
        await asyncio.sleep(1.0)  # five ticks: nobody new while paused
        assert invited(srv) == 5

        srv.cli("campaign", "resume", SMS_CAMPAIGN)
        await srv.wait_until(lambda: invited(srv) == 10, what="the rest after resume")

        status = srv.cli("campaign", "status", SMS_CAMPAIGN).output
        assert status.startswith(f"{SMS_CAMPAIGN}: running")
        assert "pending" in status and "10" in status
        header, *rows = [line.split() for line in status.splitlines()[1:5]]
        assert header[:4] == ["channel", "contacts", "attempted", "reached"]
        total = next(r for r in rows if r[0] == "all")
        assert total[1:3] == ["10", "10"]

        listed = srv.cli("campaign", "list").output
        assert f"{SMS_CAMPAIGN}\trunning" in listed


async def test_finished_or_unstarted_campaigns_refuse_clearly(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts(FIRST, group=SMS_GROUP)
        runner = CliRunner()
        args = ["--config", str(srv.config_path)]
        result = runner.invoke(main, ["campaign", "resume", SMS_CAMPAIGN, *args])
        assert result.exit_code == 1 and "has not started" in result.output
        campaigns.set_status(srv.store, SMS_CAMPAIGN, "finished")
        for verb in ("start", "pause", "resume"):
            result = runner.invoke(main, ["campaign", verb, SMS_CAMPAIGN, *args])
            assert result.exit_code == 1 and "has finished" in result.output, result.output
        result = runner.invoke(main, ["campaign", "status", "no-such", *args])
        assert result.exit_code == 1 and "no campaign 'no-such'" in result.output


async def test_pause_stops_a_paced_batch_midway(tmp_path: Path) -> None:
    """At 4 texts a second a batch of 20 takes five seconds; a pause stops the rest of it."""
    clock = Clock(local(2027, 1, 30, 12, 0))
    async with clock_server(tmp_path, clock, config_text(), messages_per_second=4) as srv:
        srv.import_contacts({f"+3584092{n:05d}": "fi" for n in range(20)})
        clock.set(local(2027, 2, 2, 12, 0))  # the campaign starts by itself
        await srv.wait_until(lambda: invited(srv) >= 3, what="the first invitations")
        srv.cli("campaign", "pause", SMS_CAMPAIGN)
        paused_at = started(srv)
        await asyncio.sleep(1.5)
        assert started(srv) <= paused_at + 1  # at most the one waiting for its slot
        srv.cli("campaign", "resume", SMS_CAMPAIGN)
        await srv.wait_until(lambda: invited(srv) == 20, timeout=20, what="the rest")
        once = srv.store.query(
            "SELECT count(*) AS n FROM attempts GROUP BY contact_id HAVING n > 1"
        )
        assert once == []
