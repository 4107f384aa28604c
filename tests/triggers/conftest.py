"""An event-triggered campaign on a real store and a real aiohttp server with the events
routes, on a free loopback port; the store's clock is the test's."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fake_clock import Clock

from kanavat import appkeys
from kanavat import config as configuration
from kanavat.outreach import campaigns, triggers
from kanavat.store import Store

TOKEN = "t0k3n-for-tests-only"
CAMPAIGN = "pikapalaute"

QUESTIONNAIRE = """
[questionnaires.pikapalaute]
title = { fi = "Pikapalaute", sv = "Snabbrespons", en = "Quick feedback" }
intro = { fi = "Kävit palvelussamme.", sv = "Du besökte vår tjänst.", en = "You visited our service." }
outro = { fi = "Kiitos!", sv = "Tack!", en = "Thank you!" }

[[questionnaires.pikapalaute.questions]]
id = "suosittelu"
type = "scale"
min = 1
max = 5
text = { fi = "Miten onnistuimme? 1-5", sv = "Hur lyckades vi? 1-5", en = "How did we do? 1-5" }
"""


def event_campaign(delay: str = "30min", extra: str = "") -> str:
    return f"""
[campaigns.{CAMPAIGN}]
questionnaire = "pikapalaute"
council = "asiakasraati"
channels = ["sms"]
trigger = "event"
delay = "{delay}"
cooldown = 30
{extra}
"""


CONFIG = (
    """
[county]
name = "Testin hyvinvointialue"
languages = ["fi", "sv", "en"]
sms_hours = ["mon-sun 09:00-21:00"]

[server]
database = "kanavat.db"
"""
    + QUESTIONNAIRE
    + event_campaign()
    + """
[campaigns.kysely]
questionnaire = "pikapalaute"
council = "vanhusneuvosto"
channels = ["sms"]
audience = { group = "ikaihmiset" }
"""
)


@dataclass
class Api:
    url: str
    store: Store
    config: configuration.Config
    config_path: Path
    clock: Clock
    http: aiohttp.ClientSession

    async def post(
        self, body: Any, *, token: str | None = TOKEN, raw: bytes | None = None
    ) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(self.url, data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    def row(self, phone: str, campaign: str = CAMPAIGN) -> dict | None:
        return self.store.one(
            "SELECT cc.* FROM campaign_contacts cc JOIN contacts c ON c.id = cc.contact_id "
            "WHERE c.phone = ? AND cc.campaign_id = ?",
            [phone, campaign],
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
async def api(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv(triggers.TOKEN_ENV, TOKEN)
    config = configuration.load(config_path, env={})
    clock = Clock()
    store = Store(config.database_path, clock=clock)
    campaigns.sync(store, config)
    app = web.Application()
    app[appkeys.CONFIG] = config
    app[appkeys.STORE] = store
    triggers.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        yield Api(f"http://127.0.0.1:{port}/api/events", store, config, config_path, clock, http)
    await runner.cleanup()
    store.close()
