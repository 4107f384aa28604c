"""``kanavat serve`` killed with SIGKILL in the middle of a 200-resident SMS campaign and a
voice campaign, twice, then started again: nobody gets a text or a call twice and everybody
due is contacted.

The Twilio stand-in runs here, outside the server (the config's ``[twilio]`` points at it),
so it outlives every kill exactly as Twilio would: its records are the residents' phones,
and the restarted server must reconcile with it (a call it placed just before dying, a
final call status it never heard).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections import Counter
from pathlib import Path

from harness import EXAMPLE_CONFIG, free_port, write_config
from processes import KANAVAT, count, healthy, kanavat, until

from kanavat.emulator import EmulatorSettings, running_emulator
from kanavat.store import Store

SMS = "vammaispalvelut-2027"
VOICE = "kotihoito-2027"
TEXTED = [f"+3584070{n:05d}" for n in range(200)]
CALLED = [f"+3584080{n:05d}" for n in range(20)]
NUMBER = "+358451234567"
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")


async def test_sigkill_mid_campaign_then_restart(tmp_path: Path) -> None:
    port = free_port()
    account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    public = f"http://127.0.0.1:{port}"
    settings = EmulatorSettings(
        account_sid=account,
        auth_token=token,
        phone_number=NUMBER,
        sms_url=f"{public}/twilio/sms",
        voice_url=f"{public}/twilio/voice",
        speed=20,
        webhook_timeout=2,
    )
    async with running_emulator(settings) as emu:
        text = EXAMPLE_CONFIG.read_text(encoding="utf-8") + (
            f'\n[twilio]\naccount_sid = "{account}"\nauth_token = "env:KANAVAT_TEST_TOKEN"\n'
            f'caller_id = "{NUMBER}"\napi_base = "{emu.base_url}"\n\n'
            f'[campaigns.{VOICE}]\nquestionnaire = "hyvinvointi"\ncouncil = "vanhusneuvosto"\n'
            'channels = ["voice"]\naudience = { group = "ikaihmiset" }\ncalls_per_second = 10\n'
        )
        config = write_config(tmp_path, port, text=text)  # every hour open: runs any time
        db, log = tmp_path / "kanavat.db", tmp_path / "serve.log"
        env = {**os.environ, "KANAVAT_TEST_TOKEN": token, "PYTHONUNBUFFERED": "1"}
        for group, people in (("palvelunkayttajat", TEXTED), ("ikaihmiset", CALLED)):
            csv = tmp_path / f"{group}.csv"
            csv.write_text("phone,language\n" + "".join(f"{p},fi\n" for p in people))
            kanavat(config, "contacts", "import", str(csv), "--group", group, env=env)

        def serve() -> subprocess.Popen:
            return subprocess.Popen(
                [*KANAVAT, "serve", "--config", str(config), "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=log.open("ab"),
                env=env,
            )

        def sent() -> int:
            return len([m for m in emu.messages.values() if m.direction != "inbound"])

        proc = serve()
        try:
            await healthy(f"{public}/healthz", proc, log)
            kanavat(config, "campaign", "start", SMS, env=env)
            kanavat(config, "campaign", "start", VOICE, env=env)
            for threshold in (20, 90):  # killed twice, mid-campaign
                await until(lambda t=threshold: sent() >= t, 60, f"{threshold} texts")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                assert sent() < 2 * len(TEXTED), "the campaign had already finished"
                proc = serve()
                await healthy(f"{public}/healthz", proc, log)
            everyone = len(TEXTED) + len(CALLED)
            await until(
                lambda: (
                    count(
                        db,
                        "SELECT DISTINCT contact_id FROM attempts WHERE status NOT IN "
                        "('sending', 'queued', 'initiated', 'ringing', 'in-progress', 'abandoned')",
                    )
                    == everyone
                ),
                90,
                "everyone attempted",
            )
            await until(
                lambda: all(
                    c.status in ("completed", "busy", "no-answer", "failed", "canceled")
                    for c in emu.calls.values()
                ),
                30,
                "calls to end",
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        texts = [(m.to, m.body) for m in emu.messages.values() if m.direction != "inbound"]
        calls = [c.to for c in emu.calls.values() if c.direction.startswith("outbound")]

    repeated = [k for k, n in Counter(texts).items() if n > 1]
    assert repeated == [], f"{len(repeated)} texts delivered twice"
    assert {phone for phone, _ in texts} == set(TEXTED)
    assert sorted(calls) == sorted(CALLED), Counter(calls).most_common(3)
    store = Store(db)
    try:
        per_step = Counter(
            r["contact_id"]
            for r in store.query("SELECT contact_id FROM attempts WHERE status != 'abandoned'")
        )
        assert store.integrity_ok()
    finally:
        store.close()
    assert set(per_step.values()) == {1} and len(per_step) == len(TEXTED) + len(CALLED)
