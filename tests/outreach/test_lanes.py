"""Calls and texts do not wait for each other (issue 17): with a text campaign's invitations
going out at its rate, a voice campaign started after it places its calls at once, and the
texts keep their pace. The real server and emulator; the store's timestamps tell the order."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from harness import EXAMPLE_CONFIG, running_server

from kanavat.outreach.dispatch import CATCH_UP

pytestmark = pytest.mark.both_backends

SMS = "vammaispalvelut-2027"  # group palvelunkayttajat, SMS first
VOICE = "vanhukset-2027"  # group ikaihmiset, voice first
RATE = 20
TEXTED = {f"+3584091{n:05d}": "fi" for n in range(80)}
CALLED = {f"+3584092{n:05d}": "fi" for n in range(4)}


def config_text() -> str:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    header = f"[campaigns.{SMS}]\n"
    assert header in text
    # Two spaces: write_config raises the county's line (one space) to 200/s, not this one.
    return text.replace(header, f"{header}messages_per_second  = {RATE}\n")


def moments(srv, sql: str) -> list[datetime]:
    return [datetime.fromisoformat(r["at"]) for r in srv.store.query(sql)]


async def test_calls_go_out_while_invitations_are_still_being_sent(
    tmp_path: Path, database: str
) -> None:
    async with running_server(tmp_path, config_text=config_text(), database=database) as srv:
        srv.import_contacts(TEXTED, group="palvelunkayttajat")
        srv.import_contacts(CALLED, group="ikaihmiset")
        srv.start_campaign(SMS)  # due first: the old single queue sent every text first
        srv.start_campaign(VOICE)
        await srv.wait_until(
            lambda: (
                srv.count("SELECT 1 FROM outbound WHERE purpose = 'invitation' AND sid IS NOT NULL")
                == len(TEXTED)
            ),
            timeout=30,
            what="every invitation",
        )
        await srv.wait_until(
            lambda: srv.count("SELECT 1 FROM attempts WHERE channel = 'voice'") == len(CALLED),
            timeout=10,
            what="every call",
        )
        texts = moments(
            srv, "SELECT created_at AS at FROM outbound WHERE purpose = 'invitation' ORDER BY id"
        )
        calls = moments(
            srv, "SELECT created_at AS at FROM attempts WHERE channel = 'voice' ORDER BY id"
        )
    before_first_call = [t for t in texts if t < calls[0]]
    assert len(before_first_call) <= len(TEXTED) // 4, "the calls waited for the texts"
    assert calls[-1] < texts[-1]  # at the voice campaign's own rate, beside the texts
    # The pace: no more than the rate allows plus the lateness it may make up at once
    # (CATCH_UP), and as much again for rows written late on a loaded machine (timestamps
    # are when a row was written, not its slot). How close to the rate it comes is a
    # figure (bench/dispatch.py), not a test: a busy machine sends more slowly.
    seconds = (texts[-1] - texts[0]).total_seconds()
    assert len(texts) <= RATE * (seconds + 2 * CATCH_UP) + 1, seconds
