"""``kanavat serve`` SIGKILLed at each step of a resident's turn, then started again: the
resident's next message is sent exactly once, and the answer is stored exactly once.

SMS: the emulator runs in this test's process (as Twilio would, it outlives our server) and
``[twilio] api_base`` points the server at it. The resident answers the invitation; the
server dies at the step (``killpoint.py``); a new server starts on the same database; then
Twilio's retry of the same MessageSid arrives. Whatever the step, the resident ends with one
copy of the next question and one stored answer, and no event is left unhandled.

Voice: the resident presses a key on a call; the server dies at the step, and the call with
it. After the restart the resident calls back and is asked the next question.

Chat: the chat page's client sends an answer frame; the server dies at the step; the client
reconnects to a new server and re-sends the frame with the same id, as the page does. It
gets the next question, the answer is stored once, and a third copy of the frame gets the
same reply without a second turn.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from harness import SMS_CAMPAIGN, free_port, write_config
from processes import healthy, until

from bench.pg_cluster import PostgresServer
from kanavat.cli import main
from kanavat.emulator import EmulatorSettings, HangUp, Press, Wait, running_emulator
from kanavat.store import Store

KILLPOINT = Path(__file__).with_name("killpoint.py")
TOKEN = secrets.token_hex(16)  # the emulator's and the server's Twilio auth token
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "KANAVAT_TEST_TWILIO_TOKEN": TOKEN}
RESIDENT = "+358401234001"
NEXT_QUESTION = "Onko jokin este"  # the question after the first (asiointi, answered "4")
SMS_STEPS = ["receiving", "event", "answer", "outbox", "handled", "rest", "sent"]
CHAT_STEPS = ["receiving", "event", "answer", "outbox", "handled"]
# On PostgreSQL a few representative steps (the suite's time): inside the turn's transaction
# (the server rolls it back when the connection dies), and right after its commit.
PG_STEPS = {"sms": ["answer", "handled"], "chat": ["outbox"], "voice": ["event", "answer"]}


def cases(channel: str, steps: list[str]) -> list:
    return [pytest.param(s, "sqlite", id=s) for s in steps] + [
        pytest.param(s, "postgresql", id=f"{s}-postgresql") for s in PG_STEPS[channel]
    ]


CHAT_CAMPAIGN = "nuoret-2027"


def rows(db: str, sql: str, params: list | None = None) -> list[dict]:
    store = Store(db)
    try:
        return store.query(sql, params or [])
    finally:
        store.close()


def cli(config: Path, *args: str) -> None:
    """A ``kanavat`` command, as an official runs it beside the server."""
    result = CliRunner().invoke(main, [*args, "--config", str(config)], env=ENV)
    assert result.exit_code == 0, result.output


def serve(config: Path, port: int, log: Path, killpoint: tuple[str, ...] = ()) -> subprocess.Popen:
    start = (str(KILLPOINT), *killpoint) if killpoint else ("-m", "kanavat")
    return subprocess.Popen(
        [sys.executable, *start, "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env=ENV,
    )


async def wait_up(port: int, proc: subprocess.Popen, log: Path) -> None:
    await healthy(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=60)


def settled(db: Path) -> bool:
    """Nothing left for a sweep: no reply pending or being sent, no event unhandled."""
    waiting = rows(
        db,
        "SELECT (SELECT count(*) FROM outbound WHERE status IN ('pending', 'sending')) "
        "+ (SELECT count(*) FROM events WHERE handled_at IS NULL) AS n",
    )
    return waiting == [{"n": 0}]


async def killed(proc: subprocess.Popen, log: Path) -> None:
    code = await asyncio.to_thread(proc.wait, 30)
    assert code == -signal.SIGKILL, f"the kill point was never reached:\n{log.read_text()}"


async def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def county(
    tmp_path: Path, database: str, sms_replies: str = "rest"
) -> AsyncIterator[tuple[Path, int, object]]:
    """A config whose [twilio] is an emulator in this process, which outlives the server."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = EmulatorSettings(
        account_sid="AC" + secrets.token_hex(16),
        auth_token=TOKEN,
        phone_number="+358451234567",
        sms_url=f"{public}/twilio/sms",
        voice_url=f"{public}/twilio/voice",
        speed=20.0,
    )
    async with running_emulator(settings) as emulator:
        config = write_config(tmp_path, port, database=database)
        twilio = (
            "\n[twilio]\n"
            f'account_sid = "{settings.account_sid}"\n'
            'auth_token = "env:KANAVAT_TEST_TWILIO_TOKEN"\n'
            f'caller_id = "{settings.phone_number}"\n'
            f'api_base = "{emulator.base_url}"\n'
        )
        text = config.read_text(encoding="utf-8")
        text = text.replace("[server]\n", f'[server]\nsms_replies = "{sms_replies}"\n', 1)
        config.write_text(text.replace("\n[county]", twilio + "\n[county]", 1), encoding="utf-8")
        yield config, port, emulator


def import_resident(tmp_path: Path, config: Path) -> None:
    """The one resident of these tests, a service user texted in Finnish."""
    (tmp_path / "people.csv").write_text(f"phone,language\n{RESIDENT},fi\n")
    cli(config, "contacts", "import", str(tmp_path / "people.csv"), "--group", "palvelunkayttajat")


@pytest.mark.parametrize(("step", "backend"), cases("sms", SMS_STEPS))
async def test_sms_turn_killed(tmp_path: Path, step: str, database: str) -> None:
    await sms_turn_killed(tmp_path, step, database)


# Replies in the webhook's answer (``[server] sms_replies = "twiml"``): killed before the turn,
# and after its commit, before the answer carrying the reply is written. The restarted
# server (alone on SQLite) recovers the reply and sends it by REST; Twilio's retry is
# answered empty. (On PostgreSQL the leader recovers it after ``sender.STRANDED_AFTER``.)
@pytest.mark.parametrize(
    ("step", "backend"), [pytest.param(s, "sqlite", id=f"{s}-twiml") for s in ("event", "handled")]
)
async def test_sms_turn_killed_with_replies_in_the_answer(
    tmp_path: Path, step: str, database: str
) -> None:
    await sms_turn_killed(tmp_path, step, database, sms_replies="twiml")


async def sms_turn_killed(
    tmp_path: Path, step: str, database: str, sms_replies: str = "rest"
) -> None:
    db, log = database, tmp_path / "serve.log"
    async with county(tmp_path, database, sms_replies) as (config, port, emulator):
        import_resident(tmp_path, config)
        proc = serve(config, port, log, (step, "sms", "inbound", "0"))
        try:
            await wait_up(port, proc, log)
            cli(config, "campaign", "start", SMS_CAMPAIGN)
            handset = emulator.handset(RESIDENT)  # type: ignore[attr-defined]
            await until(lambda: any("1 = hyvin" in m.body for m in handset.inbox), 20, "invitation")

            answered = asyncio.create_task(handset.send_sms("4"))
            await killed(proc, log)
            await asyncio.gather(answered, return_exceptions=True)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        proc = serve(config, port, log)
        try:
            await wait_up(port, proc, log)
            # Start-up's heap is out of the garbage collector's sight before any request.
            assert "server.heap_frozen" in log.read_text(encoding="utf-8")
            retry = await handset.resend_last()  # Twilio's retry: same sid, same signature
            assert retry.status == 200
            await until(
                lambda: any(NEXT_QUESTION in m.body for m in handset.inbox), 20, "the next question"
            )
            # Any second copy would come from a row still to send or an event still to handle:
            # once there are none (what a sweep would find), every copy has gone out.
            await until(lambda: settled(db), 20, "the outbox and the events settled")
            await emulator.idle()  # type: ignore[attr-defined]
            retry = await handset.resend_last()  # and once more, after it was all handled
            assert retry.status == 200
            await emulator.idle()  # type: ignore[attr-defined]
        finally:
            await stop(proc)

    nexts = [m.body for m in handset.inbox if NEXT_QUESTION in m.body]
    assert len(nexts) == 1, f"the next question arrived {len(nexts)} times ({step})"
    answers = rows(db, "SELECT question, raw FROM answers")
    assert answers == [{"question": "asiointi", "raw": "4"}]
    assert rows(db, "SELECT id FROM events WHERE handled_at IS NULL") == []
    stuck = rows(db, "SELECT status FROM outbound WHERE status IN ('pending', 'sending')")
    assert stuck == []
    assert rows(db, "SELECT count(*) AS n FROM outbound WHERE to_number IS NOT NULL") == [{"n": 0}]


async def chat_frames(port: int, cookie: str, frames: list[dict]) -> list[dict]:
    """Open the chat page's socket, say hello, send ``frames``; each one's reply frame."""
    url = f"http://127.0.0.1:{port}/chat/{CHAT_CAMPAIGN}/ws"
    replies = []
    async with (
        aiohttp.ClientSession(cookies={"kanavat_visitor": cookie}) as http,
        http.ws_connect(url) as ws,
    ):
        await ws.send_json({"type": "hello", "lang": "fi"})
        await ws.receive_json(timeout=10)
        for frame in frames:
            await ws.send_json(frame)
            while True:
                got = await ws.receive_json(timeout=10)
                if got.get("type") != "typing":
                    replies.append(got)
                    break
    return replies


@pytest.mark.parametrize(("step", "backend"), cases("chat", CHAT_STEPS))
async def test_chat_turn_killed(tmp_path: Path, step: str, database: str) -> None:
    db, log = database, tmp_path / "serve.log"
    visitor = secrets.token_urlsafe(24)
    answer = {"type": "text", "id": "f2", "text": "15"}
    async with county(tmp_path, database) as (config, port, _):
        proc = serve(config, port, log, (step, "chat", "ws", "1"))  # killed at the answer
        try:
            await wait_up(port, proc, log)
            cli(config, "campaign", "start", CHAT_CAMPAIGN)
            (started,) = await chat_frames(port, visitor, [{"type": "start", "id": "f1"}])
            assert started.get("question") == "ika", started
            with pytest.raises((aiohttp.ClientError, TimeoutError, TypeError)):  # the server dies
                await chat_frames(port, visitor, [answer])
            await killed(proc, log)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        proc = serve(config, port, log)
        try:
            await wait_up(port, proc, log)
            again, third = await chat_frames(port, visitor, [answer, answer])
        finally:
            await stop(proc)

    assert again["type"] == "bot" and again["re"] == "f2", again
    assert again["question"] == "vointi", f"not the next question after a kill at {step}"
    assert third == again, "a re-sent frame took a second turn"
    answers = rows(db, "SELECT question, raw FROM answers")
    assert answers == [{"question": "ika", "raw": "15"}]
    assert rows(db, "SELECT id FROM events WHERE handled_at IS NULL") == []


VOICE_STEPS = ["receiving", "event", "answer", "handled"]
ELDER = "+358401234003"


@pytest.mark.parametrize(("step", "backend"), cases("voice", VOICE_STEPS))
async def test_voice_turn_killed(tmp_path: Path, step: str, database: str) -> None:
    """Killed while a keypad answer is taken: the call drops with the server. After the
    restart the answer is stored once (the start-up sweep handles a stored, unhandled
    answer), and when the resident calls back the next question is asked, not that one.
    Killed before the answer's event was stored, nothing was: the question is asked again."""
    db, log = database, tmp_path / "serve.log"
    async with county(tmp_path, database) as (config, port, emulator):
        (tmp_path / "elders.csv").write_text(f"phone,language\n{ELDER},fi\n")
        cli(config, "contacts", "import", str(tmp_path / "elders.csv"), "--group", "ikaihmiset")
        handset = emulator.handset(ELDER)  # type: ignore[attr-defined]
        handset.set_behaviour(script=[Wait("question.arki"), Press("4"), Wait(), HangUp()])
        proc = serve(config, port, log, (step, "voice", "turn", "0"))
        try:
            await wait_up(port, proc, log)
            cli(config, "campaign", "start", "vanhukset-2027")
            await handset.wait_for_call(20)
            await killed(proc, log)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        proc = serve(config, port, log)
        try:
            await wait_up(port, proc, log)
            back = await handset.call(script=[Wait(), HangUp()])
            await back.wait_ended(30)
        finally:
            await stop(proc)

    asked = [m for m in back.marks if m.startswith("question.")]
    answers = rows(db, "SELECT question, raw FROM answers")
    if step == "receiving":  # nothing was stored, and a keypress has no retry: asked again
        assert asked[:1] == ["question.arki"] and answers == []
        return
    assert asked[:1] == ["question.apu"], f"call-back after a kill at {step}: {back.marks}"
    assert answers == [{"question": "arki", "raw": "4"}]
    assert rows(db, "SELECT id FROM events WHERE handled_at IS NULL AND kind = 'turn'") == []


async def test_sms_turn_killed_mid_handling_taken_over_by_the_other_worker(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Two workers on one PostgreSQL. The one the resident's answer reaches is killed inside
    the turn's transaction (the event stored and held by it, nothing else), and Twilio does
    not retry. The other worker's sweep sees the holder's process gone and handles the event:
    the next question is sent once. The killed worker, started again, and a late retry of the
    same MessageSid at it change nothing."""
    url = postgres_server.fresh_database()
    logs = [tmp_path / "killed.log", tmp_path / "other.log"]
    other_port = free_port()
    async with county(tmp_path, url) as (config, port, emulator):
        import_resident(tmp_path, config)
        killed_one = serve(config, port, logs[0], ("answer", "sms", "inbound", "0"))
        other = serve(config, other_port, logs[1])
        try:
            await wait_up(port, killed_one, logs[0])
            await wait_up(other_port, other, logs[1])
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{other_port}/healthz") as resp,
            ):
                other_worker = (await resp.json())["worker"]
            cli(config, "campaign", "start", SMS_CAMPAIGN)
            handset = emulator.handset(RESIDENT)  # type: ignore[attr-defined]
            await until(lambda: any("1 = hyvin" in m.body for m in handset.inbox), 20, "invitation")

            answered = asyncio.create_task(handset.send_sms("4"))  # to the first worker
            await killed(killed_one, logs[0])
            killed_at = time.monotonic()
            await asyncio.gather(answered, return_exceptions=True)  # cut off: no retry
            held = rows(url, "SELECT held_by FROM events WHERE kind = 'inbound'")
            assert len(held) == 1 and held[0]["held_by"] not in (None, other_worker), held
            await until(
                lambda: any(NEXT_QUESTION in m.body for m in handset.inbox),
                60,
                "the other worker to take the answer over",
            )
            took = time.monotonic() - killed_at
            await until(lambda: settled(url), 20, "the outbox and the events settled")
            assert "turn.taken_over event=" in logs[1].read_text()

            restarted = serve(config, port, logs[0])  # the killed one, back: nothing to redo
            try:
                await wait_up(port, restarted, logs[0])
                retry = await handset.resend_last()  # Twilio's late retry, at the first worker
                assert retry.status == 200
                await until(lambda: settled(url), 20, "the retry answered as a duplicate")
                await emulator.idle()  # type: ignore[attr-defined]
            finally:
                await stop(restarted)
        finally:
            for proc in (killed_one, other):
                if proc.poll() is None:
                    await stop(proc)

    print(f"the other worker sent the next question {took:.1f} s after the kill")
    nexts = [m.body for m in handset.inbox if NEXT_QUESTION in m.body]
    assert len(nexts) == 1, f"the next question arrived {len(nexts)} times"
    assert rows(url, "SELECT question, raw FROM answers") == [{"question": "asiointi", "raw": "4"}]
    assert rows(url, "SELECT held_by FROM events WHERE kind = 'inbound'") == [
        {"held_by": other_worker}
    ]
    postgres_server.drop(url)
