"""Two ``kanavat serve`` workers on one store (PostgreSQL, or one machine's SQLite file with
``[server] workers_per_machine = 2``) behind a load balancer; the one running the
scheduler is killed with SIGKILL mid-campaign, with texts going out, calls live and residents
answering through both workers. The other takes the scheduler over: nobody gets a text or a
call twice, everybody due is contacted, every answer sent is stored once.

The Twilio stand-in runs here, outside the workers, and posts its webhooks (and opens its
Media Streams) to the balancer, which gives each to either worker and skips a dead one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from balancer import balancing
from harness import EXAMPLE_CONFIG, free_port, write_config
from processes import KANAVAT, count, healthy, kanavat, until

from kanavat.emulator import EmulatorSettings, running_emulator
from kanavat.sender import STRANDED_AFTER
from kanavat.store import Store

SMS = "vammaispalvelut-2027"
VOICE = "kotihoito-2027"
TEXTED = [f"+3584071{n:05d}" for n in range(200)]
CALLED = [f"+3584081{n:05d}" for n in range(20)]
ANSWERING = TEXTED[::4]  # these answer their invitation
NUMBER = "+358451234567"
UNHANDLED = "SELECT 1 FROM events WHERE channel = 'sms' AND kind = 'inbound' AND handled_at IS NULL"


@pytest.mark.both_backends
async def test_two_workers_the_leader_killed(tmp_path: Path, database: str) -> None:
    url = database
    public_port, ports = free_port(), [free_port(), free_port()]
    public = f"http://127.0.0.1:{public_port}"
    account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    settings = EmulatorSettings(
        account_sid=account,
        auth_token=token,
        phone_number=NUMBER,
        sms_url=f"{public}/twilio/sms",
        voice_url=f"{public}/twilio/voice",
        speed=20,
        webhook_timeout=5,
    )
    upstreams = [f"http://127.0.0.1:{p}" for p in ports]
    async with running_emulator(settings) as emu, balancing(public_port, upstreams):
        text = EXAMPLE_CONFIG.read_text(encoding="utf-8") + (
            f'\n[twilio]\naccount_sid = "{account}"\nauth_token = "env:KANAVAT_TEST_TOKEN"\n'
            f'caller_id = "{NUMBER}"\napi_base = "{emu.base_url}"\n\n'
            f'[campaigns.{VOICE}]\nquestionnaire = "hyvinvointi"\ncouncil = "vanhusneuvosto"\n'
            'channels = ["voice"]\naudience = { group = "ikaihmiset" }\ncalls_per_second = 10\n'
        )
        text = text.replace("[server]\n", "[server]\nworkers_per_machine = 2\n", 1)
        config = write_config(
            tmp_path, public_port, text=text, database=url, messages_per_second=20
        )
        env = {**os.environ, "KANAVAT_TEST_TOKEN": token, "PYTHONUNBUFFERED": "1"}
        for group, people in (("palvelunkayttajat", TEXTED), ("ikaihmiset", CALLED)):
            csv = tmp_path / f"{group}.csv"
            csv.write_text("phone,language\n" + "".join(f"{p},fi\n" for p in people))
            kanavat(config, "contacts", "import", str(csv), "--group", group, env=env)
        logs = [tmp_path / "worker0.log", tmp_path / "worker1.log"]

        def serve(i: int) -> subprocess.Popen:
            return subprocess.Popen(
                [*KANAVAT, "serve", "--config", str(config), "--port", str(ports[i])],
                stdout=subprocess.DEVNULL,
                stderr=logs[i].open("ab"),
                env=env,
            )

        def sent() -> int:
            return len([m for m in emu.messages.values() if m.direction != "inbound"])

        answered: set[str] = set()
        taken: set[str] = set()  # whose webhook a worker answered 2xx: stored for sure

        async def answer(number: str) -> None:
            try:
                result = await emu.handset(number).send_sms("4")
            except Exception:
                return  # cut off with the killed worker: stored or not, Twilio won't retry
            if 200 <= result.status < 300:
                taken.add(number)

        async def residents_answer() -> None:
            """Each answering resident replies "4" to the invitation, once, when it comes."""
            pending: set[asyncio.Task] = set()
            while True:
                for m in list(emu.messages.values()):
                    if m.direction != "inbound" and m.to in ANSWERING and m.to not in answered:
                        answered.add(m.to)
                        pending.add(asyncio.create_task(answer(m.to)))
                pending = {t for t in pending if not t.done()}
                await asyncio.sleep(0.05)

        first = serve(0)
        second: subprocess.Popen | None = None
        answering = asyncio.create_task(residents_answer())
        try:
            await healthy(f"{upstreams[0]}/healthz", first, logs[0])
            second = serve(1)  # the first leads: the second waits
            await healthy(f"{upstreams[1]}/healthz", second, logs[1])
            # Calls first: a command takes seconds on a busy machine, and the texts (200 at
            # 20 a second) must still be going out when the calls are live.
            kanavat(config, "campaign", "start", VOICE, env=env)
            kanavat(config, "campaign", "start", SMS, env=env)
            await until(lambda: sent() >= 60 and len(emu.calls) >= 3, 120, "the campaign going")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed_at, sent_then = time.monotonic(), sent()
            assert sent_then < len(TEXTED), "the campaign had already finished"
            await until(lambda: "scheduler.leading" in logs[1].read_text(), 60, "a takeover")
            taken_over = time.monotonic() - killed_at
            everyone = len(TEXTED) + len(CALLED)
            await until(
                lambda: (
                    count(
                        url,
                        "SELECT DISTINCT contact_id FROM attempts WHERE status NOT IN "
                        "('sending', 'queued', 'initiated', 'ringing', 'in-progress', 'abandoned')",
                    )
                    == everyone
                ),
                180,
                "everyone attempted",
            )
            await until(
                lambda: all(
                    c.status in ("completed", "busy", "no-answer", "failed", "canceled")
                    for c in emu.calls.values()
                ),
                60,
                "calls to end",
            )
            await until(lambda: answered >= set(ANSWERING), 60, "every answer sent")
            await until(lambda: count(url, UNHANDLED) == 0, 60, "every stored answer handled")
            # A reply the killed worker had claimed and was sending is the leader's to
            # recover once no request could still be in flight (sender.STRANDED_AFTER),
            # at its next leader job: wait that long and more.
            stranded = STRANDED_AFTER.total_seconds() + 60
            await until(lambda: sent() >= len(TEXTED) + len(taken), stranded, "every reply sent")
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0, logs[1].read_text()
        finally:
            answering.cancel()
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
        texts = [(m.to, m.body) for m in emu.messages.values() if m.direction != "inbound"]
        calls = [c.to for c in emu.calls.values() if c.direction.startswith("outbound")]

    print(f"takeover {taken_over:.1f} s after the kill; {sent_then} texts out at the kill")
    assert "scheduler.leading" in logs[0].read_text()  # the killed one led
    repeated = [k for k, n in Counter(texts).items() if n > 1]
    assert repeated == [], f"{len(repeated)} texts delivered twice"
    assert {phone for phone, _ in texts} >= set(TEXTED)
    assert sorted(calls) == sorted(CALLED), Counter(calls).most_common(3)
    store = Store(url)
    try:
        per_step = Counter(
            r["contact_id"]
            for r in store.query("SELECT contact_id FROM attempts WHERE status != 'abandoned'")
        )
        answers = store.query(
            "SELECT s.contact_id, a.question FROM answers a JOIN sessions s "
            "ON s.id = a.session_id WHERE a.campaign_id = ?",
            [SMS],
        )
        assert store.integrity_ok()
    finally:
        store.close()
    assert set(per_step.values()) == {1} and len(per_step) == len(TEXTED) + len(CALLED)
    per_resident = Counter(r["contact_id"] for r in answers)
    assert set(per_resident.values()) == {1}  # each "4" stored once
    assert len(taken) > len(ANSWERING) // 2  # those cut off by the kill are Twilio's to lose
    assert len(per_resident) >= len(taken)  # every answer a worker took is stored
