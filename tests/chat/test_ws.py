"""The chat websocket protocol (PROTOCOL.md) over a real socket, and the page around it."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from kanavat.chat.limits import RateLimit
from kanavat.chat.ws import LIMITS
from kanavat.outreach import campaigns

from .conftest import CAMPAIGN, ChatServer, start_server


class Chat:
    """One visitor's browser, minus the browser: a cookie jar and a websocket."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.http = http
        self.ws = ws
        self.seq = 0
        self.prefix = secrets.token_hex(4)  # as the page does: ids are unique per page load

    async def reply(self) -> dict[str, Any]:
        """The next frame that is not a typing indicator."""
        while True:
            frame = await self.ws.receive_json(timeout=5)
            if frame["type"] != "typing":
                return frame

    async def hello(self, lang: str = "fi") -> dict[str, Any]:
        await self.ws.send_json({"type": "hello", "lang": lang})
        return await self.reply()

    async def send(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        await self.ws.send_json({"type": type_, "id": f"{self.prefix}-{self.seq}", **fields})
        return await self.reply()


@asynccontextmanager
async def visitor(
    server: ChatServer, lang: str | None = None, jar: aiohttp.CookieJar | None = None
) -> AsyncIterator[Chat]:
    jar = aiohttp.CookieJar(unsafe=True) if jar is None else jar  # an empty jar is falsy
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        query = f"?lang={lang}" if lang else ""
        async with http.get(f"{server.base_url}/chat/{CAMPAIGN}{query}") as page:
            assert page.status == 200
        async with http.ws_connect(
            f"{server.base_url}/chat/{CAMPAIGN}/ws", origin=server.base_url
        ) as ws:
            yield Chat(http, ws)


async def test_page_sets_an_anonymous_httponly_cookie(chat_server: ChatServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{chat_server.base_url}/chat/{CAMPAIGN}", headers={"Accept-Language": "sv-FI,sv;q=0.9"}
        ) as r,
    ):
        assert r.status == 200
        body = await r.text()
        cookies = r.headers.getall("Set-Cookie")
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert '<html lang="sv">' in body
    visitor_cookie = next(c for c in cookies if c.startswith("kanavat_visitor="))
    assert "HttpOnly" in visitor_cookie
    assert "SameSite=Lax" in visitor_cookie
    assert "Secure" not in visitor_cookie  # public_url is http in tests
    assert "Börja" in body and "anonymt" in body
    for script in ("chat.js", "chat.css"):
        assert f"/chat/static/{script}" in body


async def test_cookie_is_secure_behind_https(tmp_path) -> None:
    async for server in start_server(tmp_path, public_url="https://kysely.example.fi"):
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.base_url}/chat/{CAMPAIGN}") as r,
        ):
            cookie = next(
                c for c in r.headers.getall("Set-Cookie") if c.startswith("kanavat_visitor=")
            )
        assert "Secure" in cookie and "HttpOnly" in cookie


async def test_static_files_are_served_by_kanavat(chat_server: ChatServer) -> None:
    async with aiohttp.ClientSession() as http:
        for name, kind in (("chat.js", "javascript"), ("chat.css", "text/css")):
            async with http.get(f"{chat_server.base_url}/chat/static/{name}") as r:
                assert r.status == 200
                assert kind in r.headers["Content-Type"]
        async with http.get(f"{chat_server.base_url}/chat/static/../routes.py") as r:
            assert r.status in (403, 404)


@pytest.mark.parametrize(
    ("header", "title"),
    [
        ("en-GB,en;q=0.8", "Survey not found"),
        ("sv", "Enkäten hittades inte"),
        (None, "Kyselyä ei löytynyt"),
    ],
)
async def test_unknown_campaign_is_a_404_page_in_the_visitors_language(
    chat_server: ChatServer, header: str | None, title: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{chat_server.base_url}/chat/ei-ole", headers=headers) as r,
    ):
        assert r.status == 404
        assert f"<title>{title}</title>" in await r.text()


async def test_phone_campaign_has_no_chat(chat_server: ChatServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{chat_server.base_url}/chat/vanhukset-2027?lang=en") as r,
    ):
        assert r.status == 404


async def test_a_whole_conversation_and_a_return(chat_server: ChatServer) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with visitor(chat_server, jar=jar) as chat:
        assert await chat.hello() == {
            "type": "state",
            "status": "welcome",
            "lang": "fi",
            "question": None,
            "messages": [],
        }
        started = await chat.send("start")
        assert started["type"] == "bot" and started["re"] == f"{chat.prefix}-1"
        assert [m["key"] for m in started["messages"]] == ["intro", "question.ika"]
        assert started["messages"][1] == {
            "key": "question.ika",
            "text": "Kuinka vanha olet?",
            "hint": "Vastaa numerolla.",
            "buttons": [],
            "question": "ika",
            "free_text": False,
        }
        scale = await chat.send("text", text="banaani")
        assert scale["question"] == "ika"  # not understood: asked again
        scale = await chat.send("text", text="15")
        assert [b["payload"] for b in scale["messages"][0]["buttons"]] == ["1", "2", "3", "4", "5"]
        yes_no = await chat.send("button", payload="4")
        assert yes_no["messages"][0]["buttons"] == [
            {"title": "Kyllä", "payload": "yes"},
            {"title": "Ei", "payload": "no"},
        ]
    # The same cookie later: the session continues where it was.
    async with visitor(chat_server, jar=jar) as chat:
        state = await chat.hello()
        assert state["status"] == "active" and state["question"] == "harrastus"
        assert state["messages"][0]["text"] == "Jatketaan siitä, mihin jäimme."
        free = await chat.send("button", payload="yes")
        assert free["question"] == "viesti" and free["messages"][0]["free_text"] is True
        done = await chat.send("text", text="<script>alert(1)</script> lisää skeittipaikkoja")
        assert done["status"] == "done" and done["question"] is None
    rows = chat_server.store.query("SELECT question, channel, input_kind, raw FROM answers")
    assert [(r["question"], r["input_kind"]) for r in rows] == [
        ("ika", "text"),
        ("vointi", "button"),
        ("harrastus", "button"),
        ("viesti", "text"),
    ]
    assert {r["channel"] for r in rows} == {"chat"}
    assert rows[-1]["raw"] == "<script>alert(1)</script> lisää skeittipaikkoja"


async def test_resent_frame_is_answered_once(chat_server: ChatServer) -> None:
    async with visitor(chat_server) as chat:
        await chat.hello()
        await chat.send("start")
        await chat.ws.send_json({"type": "text", "id": "same-1", "text": "16"})
        first = await chat.reply()
        await chat.ws.send_json({"type": "text", "id": "same-1", "text": "16"})
        again = await chat.reply()
    assert first["question"] == again["question"] == "vointi"
    assert again["re"] == "same-1"
    assert len(chat_server.store.query("SELECT * FROM answers")) == 1


async def test_restart_withdraws_and_stop_keeps(chat_server: ChatServer) -> None:
    async with visitor(chat_server) as chat:
        await chat.hello()
        await chat.send("start")
        await chat.send("text", text="14")
        restarted = await chat.send("restart")
        assert restarted["question"] == "ika"
        assert chat_server.store.query("SELECT * FROM answers") == []
        await chat.send("text", text="18")
        stopped = await chat.send("stop")
        assert stopped["status"] == "done"
        assert stopped["messages"][0]["text"].startswith("Selvä, lopetetaan")
        state = await chat.hello()
        assert state["status"] == "done"
    assert len(chat_server.store.query("SELECT * FROM answers")) == 1


async def test_switching_language_after_answering_starts_over(chat_server: ChatServer) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with visitor(chat_server, "fi", jar) as chat:
        await chat.hello("fi")
        await chat.send("start")
        await chat.send("text", text="14")
    async with visitor(chat_server, "sv", jar) as chat:
        assert (await chat.hello("sv"))["status"] == "welcome"
        started = await chat.send("start")
        assert started["lang"] == "sv" and started["question"] == "ika"
        await chat.send("text", text="14")
    rows = chat_server.store.query("SELECT language FROM answers")
    assert [r["language"] for r in rows] == ["sv"]  # the Finnish answer was withdrawn


async def test_finished_in_one_language_is_finished_in_all(chat_server: ChatServer) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with visitor(chat_server, "sv", jar) as chat:
        await chat.hello("sv")
        await chat.send("start")
        await chat.send("stop")
    async with visitor(chat_server, "en", jar) as chat:
        state = await chat.hello("en")
    assert state["status"] == "done" and state["lang"] == "sv"


async def test_bad_frames_get_clear_errors(chat_server: ChatServer) -> None:
    async with visitor(chat_server) as chat:
        await chat.hello()
        await chat.ws.send_str("not json")
        assert await chat.reply() == {
            "type": "error",
            "re": None,
            "code": "bad_message",
            "text": "Viestiä ei voitu lukea. Kokeile uudelleen.",
        }
        assert (await chat.send("dance"))["code"] == "bad_message"
        await chat.send("start")
        too_long = await chat.send("text", text="x" * 2001)
        assert too_long == {
            "type": "error",
            "re": f"{chat.prefix}-{chat.seq}",
            "code": "too_long",
            "text": "Viestisi on liian pitkä: enintään 2000 merkkiä. Kirjoita lyhyemmin.",
        }
        assert (await chat.send("button", payload=["x"]))["code"] == "bad_message"
        await chat.ws.send_str(json.dumps({"type": "text", "text": "y" * 40_000}))
        closing = await chat.ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert chat.ws.close_code == 1009  # over the websocket's max message size
    assert chat_server.store.query("SELECT * FROM answers") == []


async def test_rate_limit_per_visitor(chat_server: ChatServer) -> None:
    chat_server.app[LIMITS].per_visitor = RateLimit(per_minute=1, burst=3)
    async with visitor(chat_server) as chat:
        await chat.hello()
        codes = [(await chat.send("text", text="15")).get("code") for _ in range(5)]
    assert codes[:3] == [None, None, None]
    assert codes[3:] == ["rate_limited", "rate_limited"]


async def test_cross_origin_upgrade_is_refused(chat_server: ChatServer) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                f"{chat_server.base_url}/chat/{CAMPAIGN}/ws", origin="https://evil.example"
            )
    assert refused.value.status == 403


@pytest.mark.parametrize(
    ("status", "now", "code", "text"),
    [
        ("paused", None, "closed", "Kysely on tauolla. Kokeile myöhemmin uudelleen."),
        ("finished", None, "closed", "Kysely on päättynyt. Kiitos kiinnostuksesta!"),
        (
            "scheduled",
            datetime(2027, 3, 1, 5, 59, tzinfo=UTC),  # 7.59 in Helsinki: a minute early
            "closed",
            "Kysely ei ole vielä auki. Se aukeaa 1.3.2027 klo 8.00.",
        ),
        (
            "running",
            datetime(2027, 3, 31, 20, 0, tzinfo=UTC),
            "closed",
            "Kysely on päättynyt. Kiitos kiinnostuksesta!",
        ),
    ],
)
async def test_closed_campaign(
    chat_server: ChatServer, status: str, now: datetime | None, code: str, text: str
) -> None:
    chat_server.set_status(status)  # type: ignore[arg-type]
    if now is not None:
        chat_server.store.clock = lambda: now
    async with visitor(chat_server) as chat:
        state = await chat.hello()
        assert state["status"] == "closed" and state["text"] == text
        refused = await chat.send("start")
        assert (refused["code"], refused["text"]) == (code, text)
        async with chat.http.get(f"{chat_server.base_url}/chat/{CAMPAIGN}") as page:
            assert text in await page.text()


def test_is_open_rule(example_config, store) -> None:
    campaigns.sync(store, example_config)
    helsinki = datetime(2027, 3, 1, 8, 0)  # naive: county time
    assert campaigns.is_open(example_config, store, CAMPAIGN, helsinki) == (True, None)
    early = datetime(2027, 2, 1, 12, 0)
    assert campaigns.is_open(example_config, store, CAMPAIGN, early) == (False, "not_started")
    campaigns.set_status(store, CAMPAIGN, "running")
    assert campaigns.is_open(example_config, store, CAMPAIGN, early) == (True, None)
    late = datetime(2027, 3, 31, 22, 0)
    assert campaigns.is_open(example_config, store, CAMPAIGN, late) == (False, "ended")
    campaigns.set_status(store, CAMPAIGN, "paused")
    assert campaigns.is_open(example_config, store, CAMPAIGN, helsinki) == (False, "paused")
    campaigns.set_status(store, CAMPAIGN, "finished")
    assert campaigns.is_open(example_config, store, CAMPAIGN, helsinki) == (False, "finished")
