"""A provider that answers oddly never fails the webhook, and the resident still gets the
next question when the provider recovers.

Twilio here is the emulator behind a real HTTP proxy we control (``[twilio] api_base``
points at the proxy), as a county's proxy or an odd ``api_base`` would sit in front of
Twilio: it passes requests on, or strips ``status`` from Twilio's answer, or answers 500,
or answers something that is not JSON.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from harness import SMS_CAMPAIGN, Server, free_port, write_config

from kanavat.emulator import Emulator, EmulatorSettings, running_emulator

pytestmark = pytest.mark.both_backends

RESIDENT = "+358401234002"
TOKEN = secrets.token_hex(16)
SECOND = "Onko jokin este"  # the question after the first (answered "4")


@dataclass
class Proxy:
    """A misbehaving HTTP endpoint in front of the emulator's REST API."""

    target: str
    mode: str = "pass"  # pass, no_status, error500, not_json
    seen: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(self.mode)
        if self.mode == "error500":
            body = {"code": 20500, "message": "Internal Server Error", "status": 500}
            return web.json_response(body, status=500)
        if self.mode == "not_json" and request.method == "POST":
            return web.Response(text="<html>gateway says hello</html>", status=201)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method,
                self.target + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as resp,
        ):
            text = await resp.text()
            status = resp.status
        if self.mode == "no_status" and request.method == "POST":
            data = json.loads(text)
            data.pop("status", None)
            text = json.dumps(data)
        return web.Response(text=text, status=status, content_type="application/json")


@asynccontextmanager
async def odd_twilio(
    tmp_path: Path, database: str
) -> AsyncIterator[tuple[Server, Emulator, Proxy]]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = EmulatorSettings(
        account_sid="AC" + secrets.token_hex(16),
        auth_token=TOKEN,
        sms_url=f"{public}/twilio/sms",
        voice_url=f"{public}/twilio/voice",
        speed=20.0,
    )
    async with running_emulator(settings) as emulator:
        proxy = Proxy(emulator.base_url)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", proxy.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        proxy_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", proxy_port).start()
        config = write_config(tmp_path, port, database=database)
        twilio = (
            "\n[twilio]\n"
            f'account_sid = "{settings.account_sid}"\n'
            'auth_token = "env:KANAVAT_TEST_TWILIO_TOKEN"\n'
            f'caller_id = "{settings.phone_number}"\n'
            f'api_base = "http://127.0.0.1:{proxy_port}"\n'
        )
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("\n[county]", twilio + "\n[county]", 1), encoding="utf-8")
        server = Server(config, port, free_port(), dispatch_interval=0.05)
        server.env = {"KANAVAT_TEST_TWILIO_TOKEN": TOKEN}
        try:
            await server.start()
            yield server, emulator, proxy
        finally:
            await server.stop()
            await runner.cleanup()


async def settled(srv: Server, emulator: Emulator) -> None:
    await srv.idle()
    await emulator.idle()
    await srv.idle()


def reply_rows(srv: Server) -> list[dict]:
    return srv.store.query(
        "SELECT status, sid, error_code, tries FROM outbound WHERE purpose = 'reply' ORDER BY id"
    )


async def invited(srv: Server, emulator: Emulator):  # type: ignore[no-untyped-def]
    srv.import_contacts({RESIDENT: "fi"})
    srv.start_campaign(SMS_CAMPAIGN)
    handset = emulator.handset(RESIDENT)
    await handset.wait_for_message(10)
    return handset


async def test_an_answer_without_status_is_an_error_on_the_row_not_a_500(
    tmp_path: Path,
    database: str,
) -> None:
    async with odd_twilio(tmp_path, database) as (srv, emulator, proxy):
        handset = await invited(srv, emulator)
        proxy.mode = "no_status"
        answered = await handset.send_sms("4")
        assert answered.status == 200  # was 500: NOT NULL constraint failed: outbound.status
        await settled(srv, emulator)
        (row,) = reply_rows(srv)
        # An error on the row, and its sid kept: Twilio's own callbacks then settle it.
        assert row["sid"] and row["status"] in ("error", "sent", "delivered"), row
        assert srv.store.query("SELECT outcome FROM events WHERE kind = 'inbound'") == [
            {"outcome": "answered"}
        ]
        again = await handset.resend_last()  # Twilio's retry of the same MessageSid
        assert again.status == 200
        await settled(srv, emulator)
        assert len(reply_rows(srv)) == 1, "the retry took a second turn"
        assert [m.body for m in handset.inbox].count(handset.inbox[-1].body) == 1
        assert SECOND in handset.inbox[-1].body  # it went out: only its answer was odd


async def test_a_provider_500_is_retried_and_the_question_sent_once(
    tmp_path: Path, database: str
) -> None:
    async with odd_twilio(tmp_path, database) as (srv, emulator, proxy):
        handset = await invited(srv, emulator)
        proxy.mode = "error500"
        answered = await handset.send_sms("4")
        assert answered.status == 200
        await settled(srv, emulator)
        (row,) = reply_rows(srv)
        assert (row["status"], row["error_code"], row["sid"]) == ("pending", 20500, None)
        proxy.mode = "pass"
        await srv.wait_until(
            lambda: any(SECOND in m.body for m in handset.inbox), 15, "the retried question"
        )
        await settled(srv, emulator)
        (row,) = reply_rows(srv)
        assert row["sid"] and row["status"] in ("queued", "sending", "sent", "delivered"), row
        assert sum(SECOND in m.body for m in handset.inbox) == 1


async def test_an_answer_that_is_not_json_is_an_error_on_the_row(
    tmp_path: Path, database: str
) -> None:
    async with odd_twilio(tmp_path, database) as (srv, emulator, proxy):
        handset = await invited(srv, emulator)
        proxy.mode = "not_json"
        answered = await handset.send_sms("4")
        assert answered.status == 200
        await settled(srv, emulator)
        (row,) = reply_rows(srv)
        assert row["status"] == "error" and row["sid"] is None
        answers = srv.store.query("SELECT question, raw FROM answers")
        assert answers == [{"question": "asiointi", "raw": "4"}]  # the answer is kept
