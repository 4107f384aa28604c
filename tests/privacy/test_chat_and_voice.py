"""Data requests in the web chat, and no call audio kept anywhere after a phone call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from harness import Server, running_server

from kanavat.emulator import Press, Say, Wait

from .conftest import always_open

pytestmark = pytest.mark.both_backends

CHAT = "nuoret-2027"
VOICE = "vanhukset-2027"
PHONE = "+358401110301"


class Browser:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0

    async def send(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        await self.ws.send_json({"type": type_, "id": f"t-{self.seq}", **fields})
        while True:
            frame = await self.ws.receive_json(timeout=5)
            if frame["type"] != "typing":
                return frame


def texts(frame: dict[str, Any]) -> str:
    return "\n".join(m["text"] for m in frame["messages"])


async def test_chat_my_data_and_delete(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database, config_text=always_open()) as srv:
        srv.start_campaign(CHAT)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{srv.base_url}/chat/{CHAT}?lang=en") as page:
                assert page.status == 200
            url = f"{srv.base_url}/chat/{CHAT}/ws"
            async with http.ws_connect(url, origin=srv.base_url) as ws:
                b = Browser(ws)
                await ws.send_json({"type": "hello", "lang": "en"})
                await ws.receive_json(timeout=5)
                await b.send("start")
                await b.send("text", text="15")
                shown = await b.send("text", text="My data!")
                assert "this browser" in texts(shown) and "Your answer: 15" in texts(shown)
                assert shown["status"] == "active" and shown["question"] == "vointi"
                asked = await b.send("text", text="DELETE")
                assert "YES" in texts(asked)
                done = await b.send("text", text="yes")
                assert "deleted" in texts(done) and done["status"] == "welcome"
        assert srv.count("SELECT id FROM sessions WHERE visitor_id IS NOT NULL") == 0
        assert srv.count("SELECT id FROM answers WHERE raw IS NOT NULL") == 0
        assert (
            srv.count("SELECT id FROM events WHERE channel = 'chat' AND external_id IS NOT NULL")
            == 0
        )


def no_audio(srv: Server, tmp_path: Path) -> None:
    """Nothing in the data folder but the config, the store, its lock files and the
    imported list; no store cell is a blob or longer than a free-text answer could be."""
    names = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    locks = {"kanavat.db.leader", "kanavat.db.serving", "kanavat.db.starting"}
    assert names <= {
        "config.toml",
        "kanavat.db",
        "kanavat.db-wal",
        "kanavat.db-shm",
        "ikaihmiset.csv",
        *locks,
    }
    for lock in locks & names:  # empty, or the single server's pid
        assert (tmp_path / lock).read_text().strip().isdigit() or not (tmp_path / lock).read_text()
    for table in [name for name in srv.store.tables()]:
        for column in [r["name"] for r in srv.store.query(f"PRAGMA table_info({table})")]:
            row = srv.store.one(
                f"SELECT count(*) FILTER (WHERE typeof(\"{column}\") = 'blob') AS blobs, "
                f'max(length("{column}")) AS longest FROM "{table}"'
            )
            assert row["blobs"] == 0, f"{table}.{column} holds binary data"
            assert (row["longest"] or 0) < 4000, f"{table}.{column} holds something long"
    for db in tmp_path.glob("kanavat.db*"):
        assert b"RIFF" not in db.read_bytes()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # reads SQLite's files and types
async def test_no_call_audio_is_stored(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database, config_text=always_open()) as srv:
        srv.import_contacts({PHONE: "fi"}, group="ikaihmiset")
        handset = srv.emulator.handset(PHONE)
        handset.set_behaviour(
            script=[
                Wait("question.arki"),
                Say.tone(1.5, text="neljä"),
                Press("4"),
                Wait(),
                Press("2"),
                Wait(),
                Press("3#"),
                Wait(),
                Say.tone(2.0, text="kerrottavaa"),
                Wait(),
                Wait(),
            ]
        )
        srv.start_campaign(VOICE)
        call = await handset.wait_for_call(15)
        await call.wait_ended(60)
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM attempts WHERE status = 'completed'"), what="end"
        )
        assert srv.count("SELECT id FROM answers WHERE channel = 'voice'") >= 3
        no_audio(srv, tmp_path)
