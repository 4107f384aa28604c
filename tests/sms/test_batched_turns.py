"""Answers arriving together are group-committed (``kanavat/turn/batch.py``): each is still
taken once, its retries are answered as before, and one resident's failing turn fails only
that resident's.

Residents' handsets text at the same moment, so their webhooks reach the server together
(the server and the emulator share this test's loop; how many share a group depends on
timing, so the failure test hands its group to the batches itself).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import pytest
from harness import Server, running_server

from kanavat.appkeys import TURN_BATCHES
from kanavat.turn.entry import Reply
from kanavat.turn.message import Message

pytestmark = pytest.mark.both_backends

RESIDENTS = [f"+35840123{n:04d}" for n in range(1, 13)]
NEXT_QUESTION = "Onko jokin este"  # the question after the first (answered "4")


async def invited(srv: Server) -> None:
    srv.import_contacts(dict.fromkeys(RESIDENTS, "fi"))
    srv.start_campaign()
    for number in RESIDENTS:
        await srv.emulator.handset(number).wait_for_message(10)


async def test_answers_arriving_together_are_each_taken_once(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database) as srv:
        await invited(srv)
        handsets = [srv.emulator.handset(n) for n in RESIDENTS]
        first = await asyncio.gather(*(h.send_sms("4") for h in handsets))
        again = await asyncio.gather(*(h.resend_last() for h in handsets))  # Twilio's retries
        assert [r.status for r in first + again] == [200] * 2 * len(RESIDENTS)
        for h in handsets:
            assert NEXT_QUESTION in (await h.wait_for_message(10)).body
        await srv.idle()
        for h in handsets:
            assert len(h.inbox) == 2  # the invitation and one next question
        assert srv.count("SELECT id FROM answers") == len(RESIDENTS)
        assert srv.count("SELECT id FROM events WHERE kind = 'inbound'") == len(RESIDENTS)
        assert srv.count("SELECT id FROM events WHERE kind = 'inbound' AND outcome IS NULL") == 0


async def test_a_failing_turn_fails_only_its_own(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The group is made deterministic here: every message is handed to the server's
    ``TurnBatches`` before the event loop takes the group (as the SMS route hands them)."""
    async with running_server(tmp_path, database=database) as srv:
        await invited(srv)
        broken = RESIDENTS[0]
        # A session whose stored state names a questionnaire the configuration no longer has.
        srv.store.execute(
            "UPDATE sessions SET state = ? WHERE contact_id = "
            "(SELECT id FROM contacts WHERE phone = ?)",
            ['{"questionnaire": "gone", "language": "fi", "current": "x", "answers": {}}', broken],
        )
        batches = srv.app[TURN_BATCHES]
        messages = [
            Message("sms", "inbound", "SM" + secrets.token_hex(16), text="4", phone=number)
            for number in RESIDENTS
        ]
        with caplog.at_level(logging.INFO, logger="kanavat.turn"):
            results = await asyncio.gather(
                *(batches.take(m) for m in messages), return_exceptions=True
            )
        assert "turn.batch.split size=12" in caplog.text  # one group, split by the failure
        assert isinstance(results[0], Exception)  # the SMS route answers it 500
        for reply in results[1:]:
            assert isinstance(reply, Reply) and not reply.again
            assert NEXT_QUESTION in (reply.bodies[0] or "")
        assert srv.count("SELECT id FROM answers") == len(RESIDENTS) - 1
        failed = srv.store.one(
            "SELECT tries, outcome FROM events WHERE kind = 'inbound' AND external_id = ?",
            [messages[0].key],
        )
        assert failed == {"tries": 1, "outcome": None}  # counted once, left for a retry
