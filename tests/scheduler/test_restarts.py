"""Restart the server at random moments during a 200-resident SMS campaign and a voice
campaign running beside it, then prove from what the emulators delivered (and from the
store) that nobody got a message or a call twice and everybody due was contacted.

The emulator is rebuilt at each restart and forgets its records, so each one is kept
(``srv.emulator`` before the restart) and read after it has stopped.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from clockwork import Clock, clock_server, config_text, local

SMS = "vammaispalvelut-2027"  # starts 2027-02-01 09:00, SMS first
VOICE = "kotihoito-2027"
VOICE_TOML = f"""
[campaigns.{VOICE}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "ikaihmiset" }}
start = 2027-02-01T10:00:00
calls_per_second = 10
"""
TEXTED = [f"+3584050{n:05d}" for n in range(200)]
CALLED = [f"+3584060{n:05d}" for n in range(20)]


def delivered(emulators: list) -> tuple[list[tuple[str, str]], list[str]]:
    """(phone, body) of every text sent to a resident, and the number of every call placed."""
    texts, calls = [], []
    for emu in emulators:
        texts += [(m.to, m.body) for m in emu.messages.values() if m.direction != "inbound"]
        calls += [c.to for c in emu.calls.values() if c.direction.startswith("outbound")]
    return texts, calls


async def test_random_restarts_never_duplicate_and_never_drop(tmp_path: Path) -> None:
    rng = random.Random(9)
    clock = Clock(local(2027, 1, 30, 12, 0))  # before both campaigns start
    async with clock_server(tmp_path, clock, config_text(extra=VOICE_TOML)) as srv:
        srv.import_contacts(dict.fromkeys(TEXTED, "fi"), group="palvelunkayttajat")
        srv.import_contacts(dict.fromkeys(CALLED, "fi"), group="ikaihmiset")
        clock.set(local(2027, 2, 2, 12, 0))  # Tuesday noon: both running, windows open
        emulators = [srv.emulator]
        for _ in range(6):
            await asyncio.sleep(rng.uniform(0.05, 0.8))
            await srv.restart()
            emulators.append(srv.emulator)

        def everyone_attempted() -> bool:
            return srv.count(
                "SELECT DISTINCT contact_id FROM attempts WHERE status NOT IN "
                "('sending', 'queued', 'initiated', 'ringing', 'in-progress', 'abandoned')"
            ) == len(TEXTED) + len(CALLED)

        await srv.wait_until(everyone_attempted, timeout=60, what="everyone attempted")
        # No live call left anywhere before the records are read.
        await srv.wait_until(
            lambda: (
                srv.count(
                    "SELECT * FROM attempts WHERE status IN ('queued', 'ringing', 'in-progress')"
                )
                == 0
            ),
            timeout=30,
            what="calls to end",
        )
        per_step = srv.store.query(
            "SELECT campaign_id, contact_id, count(*) AS n FROM attempts "
            "WHERE status != 'abandoned' GROUP BY campaign_id, contact_id"
        )
        restarts_seen = srv.count("SELECT * FROM audit WHERE action = 'campaign.status'")
    texts, calls = delivered(emulators)

    # Nobody got the same text twice, and every resident due got the invitation.
    repeated = [k for k, n in Counter(texts).items() if n > 1]
    assert repeated == [], f"{len(repeated)} texts delivered twice"
    assert {phone for phone, _ in texts} == set(TEXTED)
    bodies_per_phone = Counter(phone for phone, _ in texts)
    assert len(set(bodies_per_phone.values())) == 1, "some invitations were cut short"
    # Each resident of the voice campaign was called exactly once (retries are hours away).
    assert sorted(calls) == sorted(CALLED), Counter(calls).most_common(3)
    # The store agrees: one attempt per contact and step.
    assert len(per_step) == len(TEXTED) + len(CALLED)
    assert {r["n"] for r in per_step} == {1}
    assert restarts_seen >= 2  # both campaigns started by their start time, once
