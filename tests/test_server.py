"""The server as a whole: health, signatures on every Twilio route, clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from harness import SMS_CAMPAIGN, Server, free_port, running_server, write_config
from processes import healthy

from kanavat import signing
from kanavat.store import Store

# Every route Twilio calls. The signature middleware also wraps aiohttp's not-found handler,
# so even a route that does not exist answers 403 unsigned, never 404 first.
TWILIO_ROUTES = [
    ("POST", "/twilio/sms"),
    ("POST", "/twilio/sms/status"),
    ("POST", "/twilio/voice"),
    ("POST", "/twilio/voice/status"),
    ("GET", "/twilio/voice/stream"),
]


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path) as server:
        yield server


def app_twilio_routes(srv: Server) -> set[tuple[str, str]]:
    assert srv.app is not None
    return {
        (r.method, r.resource.canonical)
        for r in srv.app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/twilio/")
        and r.method != "HEAD"
    }


async def test_healthz(srv: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(srv.base_url + "/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "ok" and body["twilio"] == "emulator" and body["schema"] >= 2


def test_every_app_twilio_route_is_listed(srv: Server) -> None:
    """The app has exactly these Twilio routes; a new one must join TWILIO_ROUTES."""
    assert app_twilio_routes(srv) == set(TWILIO_ROUTES)


@pytest.mark.parametrize(("method", "path"), TWILIO_ROUTES)
async def test_unsigned_or_badly_signed_is_403(srv: Server, method: str, path: str) -> None:
    form = [("MessageSid", "SM" + "1" * 32), ("From", "+358401000001"), ("Body", "4")]
    bad = signing.sign("not-the-token", srv.base_url + path, form)
    if method == "POST":
        for signature in (None, bad, srv.sign(path, [*form, ("Extra", "x")])):
            status, _ = await srv.post_twilio(path, form, signature=signature)
            assert status == 403, (path, signature)
        return
    ws_url = srv.base_url.replace("http", "ws") + path
    for headers in ({}, {signing.SIGNATURE_HEADER: signing.sign("not-the-token", ws_url)}):
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect(srv.base_url + path, headers=headers)
        assert err.value.status == 403
    assert srv.count("SELECT id FROM events") == 0


# -- SIGTERM on the real command --------------------------------------------------------------

KANAVAT = (sys.executable, "-m", "kanavat")


def kanavat(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KANAVAT, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


def serve(config: Path, port: int, emulator_port: int, log: Path) -> subprocess.Popen[bytes]:
    ports = ("--port", str(port), "--emulator-port", str(emulator_port))
    return subprocess.Popen(
        [*KANAVAT, "serve", "--config", str(config), *ports],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def text(emulator: str, phone: str, body: str) -> dict:
    url = f"{emulator}/_emulator/handsets/{phone.replace('+', '%2B')}/sms"
    async with aiohttp.ClientSession() as http, http.post(url, json={"body": body}) as resp:
        assert resp.status == 200
        return await resp.json()


def db_rows(path: Path, sql: str) -> list[dict]:
    store = Store(path)
    try:
        return store.query(sql)
    finally:
        store.close()


async def test_sigterm_mid_campaign_then_resume(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    config = write_config(tmp_path, port)
    db = tmp_path / "kanavat.db"
    log = tmp_path / "serve.log"
    people = [f"+3584030{n:05d}" for n in range(6)]
    (tmp_path / "people.csv").write_text("phone,language\n" + "".join(f"{p},fi\n" for p in people))
    kanavat(
        "contacts",
        "import",
        str(tmp_path / "people.csv"),
        "--group",
        "palvelunkayttajat",
        config=config,
    )

    proc = serve(config, port, emulator_port, log)
    try:
        await healthy(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=20)
        kanavat("campaign", "start", SMS_CAMPAIGN, config=config)
        emulator = f"http://127.0.0.1:{emulator_port}"
        deadline = time.monotonic() + 20
        while len(
            db_rows(db, "SELECT id FROM outbound WHERE purpose = 'invitation' AND sid IS NOT NULL")
        ) < len(people):
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        for phone in people[:3]:
            await text(emulator, phone, "4")
        # SIGTERM while answers are arriving and replies are in flight.
        in_flight = [asyncio.create_task(text(emulator, p, "3")) for p in people[3:]]
        await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 20)
        await asyncio.gather(*in_flight, return_exceptions=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert db_rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    answered = db_rows(db, "SELECT question, raw FROM answers")
    assert len(answered) >= 3 and {a["question"] for a in answered} == {"asiointi"}
    unhandled = db_rows(db, "SELECT id FROM events WHERE outcome IS NULL")
    assert unhandled == [], "an inbound event was stored but never handled"

    proc = serve(config, port, emulator_port, log)
    try:
        await healthy(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=20)
        for phone in people:  # answered when the webhook returns: stored before the reply
            reply = await text(emulator, phone, "kyllä")
            assert reply["http_status"] == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    invitations = db_rows(
        db,
        "SELECT contact_id, count(*) AS n FROM outbound WHERE purpose = 'invitation' GROUP BY contact_id",
    )
    assert [r["n"] for r in invitations] == [1] * len(people), "someone was invited twice"
    assert db_rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    resumed = db_rows(db, "SELECT question FROM answers WHERE question = 'esteet'")
    assert len(resumed) >= 3  # those who had answered the first question went on after restart
