"""Recorded Twilio SMS webhook bodies (``webhooks/*.form``), replayed against the real server.

The shared runner (courier's ``handlertest``) sends each fixture with a tampered signature,
with none, with a good one, and the good one twice: the first two are 403 and change nothing,
the third gets the expected status and effect, the fourth is acknowledged and changes nothing.
Numbers in the fixtures are invented; +358401000001 is the one contact, mid-questionnaire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from harness import Server, running_server

from kanavat import sender, signing
from kanavat.emulator.messages import inbound_params, receive_inbound
from kanavat.store import iso

FIXTURES = Path(__file__).parent / "webhooks"
RESIDENT = "+358401000001"
STATUS_SID = "SM" + f"{0xC1:032x}"  # an outbound message the status fixtures report on


def load_form(name: str) -> list[tuple[str, str]]:
    text = (FIXTURES / f"{name}.form").read_text(encoding="utf-8").strip()
    return parse_qsl(text, keep_blank_values=True, strict_parsing=True)


# -- expectations ---------------------------------------------------------------------------


def outcome(srv: Server, form: list[tuple[str, str]]) -> str | None:
    sid = dict(form)["MessageSid"]
    row = srv.store.one(
        "SELECT outcome FROM events WHERE kind = 'inbound' AND external_id = ?", [sid]
    )
    return row["outcome"] if row else None


def replies(srv: Server, purpose: str | None = None) -> list[dict]:
    rows = srv.store.query(
        "SELECT purpose, status FROM outbound WHERE purpose NOT IN ('invitation', 'fixture') ORDER BY id"
    )
    return [r for r in rows if purpose is None or r["purpose"] == purpose]


def answers(srv: Server) -> dict[str, object]:
    return {
        r["question"]: json.loads(r["value"]) if r["value"] else None
        for r in srv.store.query("SELECT question, value FROM answers")
    }


def session_status(srv: Server) -> str:
    return srv.store.one("SELECT status FROM sessions ORDER BY id DESC LIMIT 1")["status"]  # type: ignore[index]


def opted_out(srv: Server) -> dict[str, str]:
    return {r["phone"]: r["source"] for r in srv.store.query("SELECT * FROM opt_outs")}


def outbound_status(srv: Server) -> tuple[str, int | None]:
    row = srv.store.one("SELECT status, error_code FROM outbound WHERE sid = ?", [STATUS_SID])
    assert row is not None
    return row["status"], row["error_code"]


Check = Callable[[Server, list[tuple[str, str]]], None]


def answered(question: str, value: object) -> Check:
    def check(srv: Server, form: list[tuple[str, str]]) -> None:
        assert answers(srv) == {question: value}
        assert outcome(srv, form) == "answered"
        assert [r["purpose"] for r in replies(srv)] == ["reply"]

    return check


def reprompted(expected_outcome: str, answer_count: int = 0) -> Check:
    """A clear reply goes out, nothing is recorded as an answer, the session stays open."""

    def check(srv: Server, form: list[tuple[str, str]]) -> None:
        assert len(answers(srv)) == answer_count
        assert outcome(srv, form) == expected_outcome
        assert len(replies(srv)) == 1
        assert session_status(srv) == "active"

    return check


def stopped(confirmed: bool) -> Check:
    def check(srv: Server, form: list[tuple[str, str]]) -> None:
        assert opted_out(srv) == {RESIDENT: "sms-keyword"}
        assert session_status(srv) == "stopped"
        assert outcome(srv, form) == "opted_out"
        assert len(replies(srv, "opt_out")) == (1 if confirmed else 0)
        disposition = srv.store.one("SELECT disposition FROM campaign_contacts")
        assert disposition == {"disposition": "refusal"}

    return check


def unknown_sender(srv: Server, form: list[tuple[str, str]]) -> None:
    assert outcome(srv, form) == "unknown_sender"
    assert [r["purpose"] for r in replies(srv)] == ["unknown_sender"]
    assert srv.count("SELECT id FROM contacts") == 1


def ignored_sender(srv: Server, form: list[tuple[str, str]]) -> None:
    assert outcome(srv, form) == "ignored:bad_sender" and replies(srv) == []


def status_is(state: str, code: int | None = None, opt_out: bool = False) -> Check:
    def check(srv: Server, form: list[tuple[str, str]]) -> None:
        assert outbound_status(srv) == (state, code)
        assert opted_out(srv) == ({RESIDENT: "provider-21610"} if opt_out else {})

    return check


def status_waiting(srv: Server, form: list[tuple[str, str]]) -> None:
    """Stored and left unhandled: its message's sid may not be in the store yet."""
    assert outbound_status(srv) == ("queued", None)
    row = srv.store.one("SELECT outcome FROM events WHERE kind = 'status'")
    assert row == {"outcome": None}


def nothing_stored(srv: Server, form: list[tuple[str, str]]) -> None:
    assert srv.count("SELECT id FROM events WHERE kind IN ('inbound', 'status')") == 0


@dataclass(frozen=True)
class Case:
    fixture: str
    status: int
    check: Check
    body: str = ""  # a part of the response text


TWIML = "<Response/>"
CASES = [
    Case("inbound_answer", 200, answered("asiointi", 4), TWIML),
    Case("inbound_answer_words", 200, answered("asiointi", 4), TWIML),
    Case("inbound_wrong_answer", 200, reprompted("no_match"), TWIML),
    Case("inbound_repeat", 200, reprompted("repeat"), TWIML),
    Case("inbound_stop", 200, stopped(confirmed=True), TWIML),
    Case("inbound_lopeta_punctuation", 200, stopped(confirmed=True), TWIML),
    Case("inbound_stop_advanced_optout", 200, stopped(confirmed=False), TWIML),
    Case("inbound_unknown_sender", 200, unknown_sender, TWIML),
    Case("inbound_bad_sender", 200, ignored_sender, TWIML),
    Case("inbound_empty_body", 200, reprompted("empty"), TWIML),
    Case("inbound_mms_no_text", 200, reprompted("empty"), TWIML),
    Case("inbound_emoji_only", 200, reprompted("empty"), TWIML),
    Case("inbound_binary", 200, reprompted("empty"), TWIML),
    Case("inbound_too_long", 200, reprompted("too_long"), TWIML),
    Case("inbound_missing_from", 400, nothing_stored, "From"),
    Case("inbound_missing_sid", 400, nothing_stored, "MessageSid"),
    Case("inbound_bad_sid", 400, nothing_stored, "MessageSid"),
    Case("status_sent", 200, status_is("sent"), "ok"),
    Case("status_delivered", 200, status_is("delivered"), "ok"),
    Case("status_undelivered", 200, status_is("undelivered", 30003), "ok"),
    Case("status_failed_opted_out", 200, status_is("failed", 21610, opt_out=True), "ok"),
    Case("status_unknown_sid", 200, status_waiting, "waiting"),
    Case("status_missing_status", 400, nothing_stored, "MessageStatus"),
]


def test_every_fixture_has_a_case() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.form")) == sorted(c.fixture for c in CASES)


# -- the runner -----------------------------------------------------------------------------


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[Server]:
    """The server with one contact at the first question and one outbound message queued."""
    async with running_server(tmp_path, dispatch_interval=0.05) as server:
        server.import_contacts({RESIDENT: "fi"})
        server.start_campaign()
        await server.wait_until(
            lambda: server.store.one("SELECT 1 FROM outbound WHERE status != 'sending'"),
            what="the invitation",
        )
        await server.idle()
        now = server.store.now()
        server.store.execute(
            "INSERT INTO outbound(sid, channel, campaign_id, contact_id, purpose, status, "
            "created_at, updated_at) VALUES (?, 'sms', 'vammaispalvelut-2027', 1, 'fixture', "
            "'queued', ?, ?)",
            [STATUS_SID, now, now],
        )
        server.store.execute("DELETE FROM events")  # the invitation's own status callbacks
        yield server


def snapshot(srv: Server) -> dict[str, object]:
    """Everything a webhook may change, to prove that a replay changed nothing."""
    tables = ("events", "answers", "sessions", "outbound", "opt_outs", "campaign_contacts")
    return {t: srv.store.query(f"SELECT * FROM {t} ORDER BY rowid") for t in tables}


async def raw_post(srv: Server, path: str, form: list[tuple[str, str]], signature: bytes) -> int:
    """A POST written on the socket, for a header no client library would send as given."""
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(head + b"X-Twilio-Signature: " + signature + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def path_of(fixture: str) -> str:
    return "/twilio/sms/status" if fixture.startswith("status_") else "/twilio/sms"


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
async def test_fixture(srv: Server, case: Case) -> None:
    form = load_form(case.fixture)
    path = path_of(case.fixture)
    before = snapshot(srv)

    tampered = [(k, v + "x" if k == "To" else v) for k, v in form]
    forged = (srv.sign(path, tampered), signing.sign("wrong-token", "x", form), None)
    for signature in (*forged, "ä" * 28):  # the last: not base64
        status, _ = await srv.post_twilio(path, form, signature=signature)
        assert status == 403
    assert await raw_post(srv, path, form, b"\xff\xfe" * 14) == 403  # bytes, not text
    assert snapshot(srv) == before, "a rejected request changed the store"

    status, text = await srv.post_twilio(path, form)
    assert (status, case.body in text) == (case.status, True), text
    await srv.idle()
    case.check(srv, form)
    assert srv.store.integrity_ok()

    after = snapshot(srv)
    status, text = await srv.post_twilio(path, form)  # Twilio's retry: same sid, same body
    assert status == case.status
    await srv.idle()
    assert snapshot(srv) == after, "the duplicate was processed again"


def test_emulator_posts_the_recorded_field_set() -> None:
    """The emulator and the fixtures agree on what Twilio sends (keeps the emulator honest)."""
    from kanavat.emulator import Emulator, EmulatorSettings

    emu = Emulator(EmulatorSettings("AC" + "0" * 32, "token", sms_url="http://x/twilio/sms"))
    msg, kind = receive_inbound(emu, RESIDENT, "4", "+358451234567")
    sent = [name for name, _ in inbound_params(emu, msg, kind)]
    recorded = [name for name, _ in load_form("inbound_answer")]
    assert sent == recorded


async def test_earlier_answers_survive_bad_input(srv: Server) -> None:
    """Every kind of bad input in a row: clear replies or 4xx, never 500, nothing lost."""
    status, _ = await srv.post_twilio("/twilio/sms", load_form("inbound_answer"))
    assert status == 200 and answers(srv) == {"asiointi": 4}
    bad = [c for c in CASES if c.fixture.startswith("inbound_") and c.check is not None]
    bad = [c for c in bad if "answer" not in c.fixture and "stop" not in c.fixture]
    bad = [c for c in bad if "lopeta" not in c.fixture]
    for case in bad:
        status, _ = await srv.post_twilio("/twilio/sms", load_form(case.fixture))
        assert status == case.status, case.fixture
    oversize = [("MessageSid", "SM" + "e" * 32), ("From", RESIDENT), ("Body", "x" * 70_000)]
    status, _ = await srv.post_twilio("/twilio/sms", oversize)
    assert status == 413
    status, _ = await srv.post_twilio("/twilio/sms", b"\xff\xfe\x00garbage=%%%")
    assert status in (400, 403)
    await srv.idle()
    assert answers(srv) == {"asiointi": 4}
    assert session_status(srv) == "active"
    assert srv.store.integrity_ok()
    assert srv.count("SELECT id FROM events WHERE outcome IS NULL") == 0


async def test_status_callbacks_out_of_order_never_regress(srv: Server) -> None:
    """Callbacks may arrive out of order (twilio-protocol.md §2): the latest state wins."""
    order = ["delivered", "sent", "sending", "queued", "undelivered"]
    seen = []
    for state in order:
        form = [
            (k, state if k in ("MessageStatus", "SmsStatus") else v)
            for k, v in load_form("status_sent")
        ]
        status, _ = await srv.post_twilio("/twilio/sms/status", form)
        assert status == 200
        seen.append(outbound_status(srv)[0])
    # delivered and undelivered are both final; whichever came first stays.
    assert seen == ["delivered"] * 5
    assert srv.count("SELECT id FROM events WHERE kind = 'status'") == len(order)


async def test_status_callbacks_arriving_together_are_each_applied_once(srv: Server) -> None:
    """Callbacks that arrive at once share a commit (``sender.StatusCallbacks``): each is
    still stored once, applied to its own row, and answered as if it came alone."""
    now = srv.store.now()
    sids = [STATUS_SID] + ["SM" + f"{0xD0 + n:032x}" for n in range(5)]
    for sid in sids[1:]:
        srv.store.execute(
            "INSERT INTO outbound(sid, channel, campaign_id, contact_id, purpose, status, "
            "created_at, updated_at) VALUES (?, 'sms', 'vammaispalvelut-2027', 1, 'fixture', "
            "'queued', ?, ?)",
            [sid, now, now],
        )

    def callback(sid: str, state: str) -> list[tuple[str, str]]:
        fields = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": state, "SmsStatus": state}
        return [(k, fields.get(k, v)) for k, v in load_form("status_sent")]

    unknown = "SM" + f"{0xEE:032x}"
    forms = [callback(sid, state) for sid in sids for state in ("sent", "delivered")]
    forms += [callback(sids[0], "delivered"), callback(unknown, "sent")]  # a retry, a stranger
    answers = await asyncio.gather(*(srv.post_twilio("/twilio/sms/status", f) for f in forms))

    assert [status for status, _ in answers] == [200] * len(forms)
    texts = sorted(text for _, text in answers)
    assert texts.count("duplicate") == 1 and texts.count("waiting: unknown sid") == 1
    assert texts.count("ok") == len(forms) - 2
    statuses = srv.store.query(
        f"SELECT sid, status FROM outbound WHERE sid IN ({','.join('?' * len(sids))})", sids
    )
    assert {r["sid"]: r["status"] for r in statuses} == dict.fromkeys(sids, "delivered")
    stored = srv.store.query(
        "SELECT external_id, count(*) AS n FROM events WHERE kind = 'status' "
        "AND outcome IS NOT NULL GROUP BY external_id"
    )
    assert len(stored) == len(sids) * 2 and {r["n"] for r in stored} == {1}
    assert srv.count("SELECT id FROM events WHERE outcome IS NULL") == 1  # the stranger waits


def status_form(sid: str, state: str) -> list[tuple[str, str]]:
    fields = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": state, "SmsStatus": state}
    return [(k, fields.get(k, v)) for k, v in load_form("status_sent")]


async def test_a_callback_before_its_sid_is_applied_once_the_sid_is_stored(srv: Server) -> None:
    """With several workers a callback can reach the store before its message's sid (the
    worker that sent it has not committed the REST answer yet, or was killed between the
    two): it waits, and the sweep applies it once the sid is there. One whose sid never
    comes is set aside after ``sender.WAIT_FOR_SID``."""
    early = "SM" + f"{0xE1:032x}"
    never = "SM" + f"{0xE2:032x}"
    for form in (status_form(early, "delivered"), status_form(never, "sent")):
        assert await srv.post_twilio("/twilio/sms/status", form) == (200, "waiting: unknown sid")
    await asyncio.sleep(sender.SWEEP_EVERY * 1.5)  # a sweep or two: nothing to apply yet
    assert srv.count("SELECT id FROM events WHERE kind = 'status' AND outcome IS NULL") == 2

    now = srv.store.now()
    srv.store.execute(  # what the sender records when the provider's answer comes in
        "INSERT INTO outbound(sid, channel, campaign_id, contact_id, purpose, status, "
        "created_at, updated_at) VALUES (?, 'sms', 'vammaispalvelut-2027', 1, 'fixture', "
        "'queued', ?, ?)",
        [early, now, now],
    )
    long_ago = iso(srv.store.clock() - sender.WAIT_FOR_SID - timedelta(seconds=1))
    srv.store.execute(
        "UPDATE events SET received_at = ? WHERE external_id = ?", [long_ago, f"{never}:sent"]
    )
    await srv.wait_until(
        lambda: not srv.count("SELECT id FROM events WHERE kind = 'status' AND outcome IS NULL"),
        what="the sweep",
    )
    row = srv.store.one("SELECT status FROM outbound WHERE sid = ?", [early])
    assert row == {"status": "delivered"}
    outcomes = srv.store.query(
        "SELECT external_id, outcome FROM events WHERE kind = 'status' ORDER BY external_id"
    )
    assert outcomes == [
        {"external_id": f"{early}:delivered", "outcome": "status:delivered"},
        {"external_id": f"{never}:sent", "outcome": "ignored:unknown_sid"},
    ]
    # Twilio's retry of the one applied late is a duplicate.
    assert await srv.post_twilio("/twilio/sms/status", status_form(early, "delivered")) == (
        200,
        "duplicate",
    )
