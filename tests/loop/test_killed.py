"""Telling a resident survives the provider failing and the server being killed where it is
promised: the outcome arrives once, never lost, never twice.

A server (``kanavat serve`` under ``killpoint.py``) is SIGKILLed inside the transaction that
queues the text, right after it, or after a call is marked ``calling``; the same store and
ports are then served again, and the resident is told exactly once. A provider answering 500
is retried by the outbox until it recovers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import SMS_CAMPAIGN, Server, free_port, running_server
from turn.test_provider_failures import invited, odd_twilio, settled

from kanavat.emulator import Press, Wait

from .test_sms_loop import outcome_messages, take_part
from .test_voice_loop import CAMPAIGN as VOICE_CAMPAIGN
from .test_voice_loop import GROUP as VOICE_GROUP
from .test_voice_loop import MESSAGE, took_part

KILLPOINT = Path(__file__).with_name("killpoint.py")
ROOT = Path(__file__).resolve().parents[2]  # this checkout's kanavat, not an installed one
RESIDENT = "+358401250001"


def killed_serving(srv: Server, point: str, log: Path) -> None:
    """Serve the same config and port under the kill point until it dies of SIGKILL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(KILLPOINT),
            point,
            "serve",
            "--config",
            str(srv.config_path),
            "--port",
            str(srv.port),
            "--emulator-port",
            str(free_port()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
    )
    try:
        proc.wait(90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, log.read_text()


def add_outcome(srv: Server, campaign: str) -> None:
    out = srv.cli(
        "outcome", "add", campaign, "--body", "Neuvosto", "--date", "2027-05-14", "--fi", MESSAGE,
        "--no-wait-for-recording",  # a call at once (the example county waits for recordings)
    ).output  # fmt: skip
    assert "1 residents to tell" in out


@pytest.mark.parametrize("point", ["before_commit", "queued"])
async def test_text_killed_where_promised_told_once(tmp_path: Path, point: str) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({RESIDENT: "fi"})
        srv.start_campaign()
        await take_part(srv, RESIDENT)
        await srv.stop()
        add_outcome(srv, SMS_CAMPAIGN)
        killed_serving(srv, point, tmp_path / "killed.log")
        await srv.start()
        await srv.wait_until(lambda: outcome_messages(srv, RESIDENT), 20, "the outcome")
        for _ in range(5):
            await srv.idle()
            await asyncio.sleep(0.2)
        assert len(outcome_messages(srv, RESIDENT)) == 1
        assert srv.count("SELECT id FROM outbound WHERE purpose = 'outcome'") == 1
        row = srv.store.one("SELECT status, outbound_id FROM notices")
        assert row["status"] == "queued" and row["outbound_id"]


async def test_call_killed_after_calling_is_placed_once_after_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({RESIDENT: "fi"}, group=VOICE_GROUP)
        srv.start_campaign(VOICE_CAMPAIGN)
        await took_part(srv, RESIDENT)
        await srv.stop()
        add_outcome(srv, VOICE_CAMPAIGN)
        killed_serving(srv, "calling", tmp_path / "killed.log")
        await srv.start()
        handset = srv.emulator.handset(RESIDENT)
        handset.set_behaviour(script=[Wait("outcome.1"), Press("9"), Wait()])
        call = await handset.wait_for_call(30)
        await call.wait_ended(60)
        assert call.marks[0] == "outcome.1"
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM notices WHERE status = 'told'"), what="told"
        )
        await asyncio.sleep(1)
        assert len(handset.calls) == 1
        assert srv.store.one("SELECT tries FROM notices")["tries"] == 2  # the killed one counts


async def test_provider_500_retried_by_the_outbox_told_once(tmp_path: Path) -> None:
    async with odd_twilio(tmp_path, str(tmp_path / "kanavat.db")) as (srv, emulator, proxy):
        handset = await invited(srv, emulator)
        await handset.send_sms("4")
        await handset.wait_for_message(10)
        proxy.mode = "error500"
        add_outcome(srv, SMS_CAMPAIGN)
        await srv.wait_until(
            lambda: srv.store.one(
                "SELECT o.error_code FROM notices n JOIN outbound o ON o.id = n.outbound_id "
                "WHERE o.status = 'pending' AND o.error_code = 20500"
            ),
            20,
            "the refused text",
        )
        proxy.mode = "pass"
        deadline = time.monotonic() + 20
        while not any("Mitä tapahtui" in m.body for m in handset.inbox):
            assert time.monotonic() < deadline, "the outcome never arrived"
            await asyncio.sleep(0.1)
        await settled(srv, emulator)
        assert sum("Mitä tapahtui" in m.body for m in handset.inbox) == 1
