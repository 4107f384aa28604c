"""``[server] sms_replies = "twiml"``: a turn's replies in the webhook's answer, not by REST.

Real server, the emulator as Twilio: a handset's text is posted signed, the server's TwiML
answer becomes the messages Twilio sends (with their delivery callbacks to the ``action``
naming the row). An answer that never reaches Twilio is recovered like a REST call that
died: sent once by REST, or adopted if Twilio has the message.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from harness import EXAMPLE_CONFIG, Server, running_server

from kanavat import attempts, inbound
from kanavat.appkeys import SENDER, TURNS
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.provider import TwilioProvider
from kanavat.sms import answer
from kanavat.store import Store
from kanavat.turn.message import Message

pytestmark = pytest.mark.both_backends

RESIDENTS = [f"+35840124{n:04d}" for n in range(1, 5)]
NEXT_QUESTION = "Onko jokin este"  # the question after the first (answered "4")
TWIML = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
    "[server]\n", '[server]\nsms_replies = "twiml"\n', 1
)


async def invited(srv: Server) -> None:
    srv.import_contacts(dict.fromkeys(RESIDENTS, "fi"))
    srv.start_campaign()
    for number in RESIDENTS:
        await srv.emulator.handset(number).wait_for_message(10)


def inbound_form(srv: Server, number: str, body: str) -> list[tuple[str, str]]:
    sid = "SM" + secrets.token_hex(16)
    return [("MessageSid", sid), ("From", number), ("To", "+358451234567"), ("Body", body)]


async def recovered(srv: Server) -> None:
    """What a restart (or the leader, after a minute) does with rows left ``sending``."""
    await srv.app[SENDER].recover()
    await srv.app[SENDER].sweep(settle=timedelta(0))


def replies_to(srv: Server, number: str) -> list[dict]:
    return srv.store.query(
        "SELECT o.* FROM outbound o JOIN contacts c ON c.id = o.contact_id "
        "WHERE c.phone = ? AND o.purpose != 'invitation' ORDER BY o.id",
        [number],
    )


async def test_the_next_question_comes_in_the_answer_and_is_tracked(
    tmp_path: Path, database: str
) -> None:
    async with running_server(tmp_path, database=database, config_text=TWIML) as srv:
        await invited(srv)
        handset = srv.emulator.handset(RESIDENTS[0])
        sent = await handset.send_sms("4")
        assert sent.status == 200 and len(sent.replies) == 1  # Twilio read it from the answer
        assert sent.replies[0].direction == "outbound-reply"
        assert NEXT_QUESTION in (await handset.wait_for_message(10)).body
        again = await handset.resend_last()  # Twilio's retry: answered empty, sent nothing
        assert again.status == 200 and again.replies == ()
        await srv.wait_until(
            lambda: [r["status"] for r in replies_to(srv, RESIDENTS[0])] == ["delivered"]
        )
        (row,) = replies_to(srv, RESIDENTS[0])
        assert row["sid"] == sent.replies[0].sid  # the first callback named the row
        assert row["to_number"] is None and row["body"] is None  # the provider has them
        await srv.idle()
        assert len(handset.inbox) == 2  # the invitation and one next question
        rest = [m for m in srv.emulator.messages.values() if m.direction == "outbound-api"]
        assert len(rest) == len(RESIDENTS)  # the invitations alone went by REST


async def test_an_answer_lost_on_the_way_is_sent_once_by_rest(
    tmp_path: Path, database: str
) -> None:
    async with running_server(tmp_path, database=database, config_text=TWIML) as srv:
        await invited(srv)
        number = RESIDENTS[1]
        # Posted as Twilio would, but the answer is dropped: Twilio never sends its messages.
        status, text = await srv.post_twilio("/twilio/sms", inbound_form(srv, number, "4"))
        assert status == 200 and NEXT_QUESTION in text
        (row,) = replies_to(srv, number)
        assert row["status"] == OutboundStatus.SENDING and row["sid"] is None
        await recovered(srv)
        got = await srv.emulator.handset(number).wait_for_message(10)
        assert NEXT_QUESTION in got.body and got.direction == "outbound-api"
        await srv.idle()
        assert len(srv.emulator.handset(number).inbox) == 2
        (row,) = replies_to(srv, number)
        assert row["sid"] == got.sid


async def test_an_answer_twilio_took_is_adopted_not_sent_again(
    tmp_path: Path, database: str
) -> None:
    async with running_server(tmp_path, database=database, config_text=TWIML) as srv:
        await invited(srv)
        number = RESIDENTS[2]
        # Its delivery callbacks are lost: the row never learns its sid from them.
        srv.emulator.settings = dataclasses.replace(srv.emulator.settings, status_callbacks=False)
        sent = await srv.emulator.handset(number).send_sms("4")
        assert len(sent.replies) == 1
        await recovered(srv)
        await srv.idle()
        assert len(srv.emulator.handset(number).inbox) == 2  # not sent a second time
        (row,) = replies_to(srv, number)
        assert row["sid"] == sent.replies[0].sid


async def test_a_turn_taken_by_the_sweep_is_answered_by_rest(tmp_path: Path, database: str) -> None:
    """No webhook is waiting for its answer: the sweep's turn sends its reply by REST."""
    async with running_server(tmp_path, database=database, config_text=TWIML) as srv:
        await invited(srv)
        number = RESIDENTS[3]
        message = Message("sms", "inbound", "SM" + secrets.token_hex(16), text="4", phone=number)
        # Stored and never handled (its worker died): the sweep takes it within seconds.
        inbound.record(srv.store, "sms", "inbound", message.key, message.payload())
        got = await srv.emulator.handset(number).wait_for_message(10)
        assert NEXT_QUESTION in got.body and got.direction == "outbound-api"
        await srv.idle()
        (row,) = replies_to(srv, number)
        assert row["sid"] == got.sid
        assert srv.app[TURNS].channels["sms"].in_answer


async def test_the_number_guard_refuses_before_the_answer(store: Store) -> None:
    rows = attempts.enqueue(
        store,
        [
            Outgoing("sms", "Kysymys 2", "reply", to="+358401234567"),
            Outgoing("sms", "Kysymys 2", "reply", to="+882351234567"),  # not an allowed country
        ],
        status=OutboundStatus.SENDING,
    )
    provider = TwilioProvider("AC" + "1" * 32, secrets.token_hex(16), "+358451234567")
    text = answer.twiml(store, provider, "https://kunta.example/twilio/sms/status", rows)
    assert text.count("<Message") == 1
    assert f'action="https://kunta.example/twilio/sms/status?row={rows[0]}"' in text
    assert 'to="+358401234567"' in text
    refused = store.one("SELECT status, error_code FROM outbound WHERE id = ?", [rows[1]])
    assert refused is not None and refused["status"] == OutboundStatus.FAILED
