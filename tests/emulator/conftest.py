"""A fake kanavat server on a real port, the emulator pointed at it, and a provider.

The fake server checks every webhook's signature with the official ``RequestValidator``
and records what arrived; tests choose the TwiML it answers with.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from kanavat.emulator import EmulatorSettings, running_emulator
from kanavat.provider import TwilioProvider

ACCOUNT = "AC" + "a1" * 16
TOKEN = "test-auth-token"
NUMBER = "+358451234567"
RESIDENT = "+358401234567"


@dataclass
class Hit:
    path: str
    form: dict[str, str]
    signed: bool


@dataclass
class FakeServer:
    base_url: str = ""
    hits: list[Hit] = field(default_factory=list)
    twiml: dict[str, str] = field(default_factory=dict)  # path -> TwiML reply
    ws_handler: Callable[[web.WebSocketResponse, web.Request], Awaitable[None]] | None = None
    ws_signed: list[bool] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Hit]:
        async with asyncio.timeout(timeout):
            while len(self.at(path)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.at(path)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/stream"


SERVER = web.AppKey("server", FakeServer)


async def _hook(request: web.Request) -> web.StreamResponse:
    server: FakeServer = request.app[SERVER]
    form = await request.post()
    signature = request.headers.get("X-Twilio-Signature", "")
    signed = RequestValidator(TOKEN).validate(str(request.url), form, signature)
    server.hits.append(Hit(request.path, {k: str(v) for k, v in form.items()}, signed))
    server.arrived.set()
    if not signed:
        return web.Response(status=403)
    reply = server.twiml.get(request.path, "<Response/>")
    return web.Response(text=reply, content_type="text/xml")


async def _stream(request: web.Request) -> web.StreamResponse:
    server: FakeServer = request.app[SERVER]
    signature = request.headers.get("X-Twilio-Signature", "")
    server.ws_signed.append(RequestValidator(TOKEN).validate(server.ws_url, {}, signature))
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    if server.ws_handler is not None:
        await server.ws_handler(ws, request)
    await ws.close()
    return ws


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    app = web.Application()
    app[SERVER] = fake
    app.router.add_get("/stream", _stream)
    app.router.add_post("/{tail:.*}", _hook)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield fake
    await runner.cleanup()


def settings_for(server: FakeServer, **kw: Any) -> EmulatorSettings:
    base = {
        "account_sid": ACCOUNT,
        "auth_token": TOKEN,
        "phone_number": NUMBER,
        "sms_url": server.base_url + "/sms?campaign=c1",
        "voice_url": server.base_url + "/voice",
        "speed": 20.0,
        "sms_step_seconds": 0.1,
    }
    return EmulatorSettings(**{**base, **kw})


@pytest.fixture
async def emu(server: FakeServer) -> AsyncIterator[Any]:
    async with running_emulator(settings_for(server)) as running:
        yield running


@pytest.fixture
async def provider(emu: Any) -> AsyncIterator[TwilioProvider]:
    async with TwilioProvider(ACCOUNT, TOKEN, NUMBER, api_base=emu.base_url) as p:
        yield p


async def frames(ws: web.WebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    async for msg in ws:
        yield json.loads(msg.data)
