"""A virtual young person in the web chat: the page's websocket protocol, without a browser.

It loads the page (for the anonymous visitor cookie), connects the websocket from the page's
origin and speaks ``kanavat/chat/PROTOCOL.md``: ``hello``, ``start``, then a ``button`` or
``text`` per question. Each visitor connects from its own loopback address (127.0.x.y), as
visitors come from their own homes; from one address the chat's per-address limits (a
school class behind a NAT) would throttle a whole rehearsal population.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import socket
from collections.abc import Callable
from typing import Any

import aiohttp

from kanavat.questions.model import Question
from kanavat.simulate import answers
from kanavat.simulate.population import Resident, phrases

MAX_FRAMES = 40  # a questionnaire is a dozen frames; more means the visitor is stuck


def visitor_address(index: int) -> str | None:
    """A loopback address of its own for visitor ``index``, if this system routes 127/8."""
    address = f"127.0.{1 + index // 250}.{2 + index % 250}"
    try:
        with socket.socket() as s:
            s.bind((address, 0))
    except OSError:
        return None
    return address


class Visit:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.prefix = secrets.token_hex(4)
        self.seq = 0

    async def reply(self) -> dict[str, Any]:
        while True:
            frame = await self.ws.receive_json(timeout=60)
            if frame.get("type") != "typing":
                return frame

    async def send(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a frame; if rate-limited, wait and send the same id again (it is idempotent)."""
        self.seq += 1
        frame = {"type": type_, "id": f"{self.prefix}-{self.seq}", **fields}
        for _ in range(30):
            await self.ws.send_json(frame)
            got = await self.reply()
            if got.get("type") != "error" or got.get("code") != "rate_limited":
                return got
            await asyncio.sleep(2.0)
        return got


async def visit(
    base_url: str,
    campaign_id: str,
    resident: Resident,
    questions: dict[str, Question],
    rng: random.Random,
    index: int,
    on_event: Callable[[str], None] = lambda _: None,
) -> str:
    """One visitor's whole chat; returns how it ended (``done``, ``stopped``, ``left``...)."""
    persona = resident.persona
    address = visitor_address(index)
    connector = aiohttp.TCPConnector(local_addr=(address, 0) if address else None)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:
        async with http.get(f"{base_url}/chat/{campaign_id}?lang={resident.language}") as page:
            if page.status != 200:
                return f"page {page.status}"
        async with http.ws_connect(f"{base_url}/chat/{campaign_id}/ws", origin=base_url) as ws:
            chat = Visit(ws)
            await ws.send_json({"type": "hello", "lang": resident.language})
            state = await chat.reply()
            if state.get("status") == "closed":
                return "closed"
            frame = await chat.send("start")
            quirk_left = persona.quirk != "none"
            answered = 0
            for _ in range(MAX_FRAMES):
                if frame.get("status") == "done":
                    on_event("chat.done")
                    return "done"
                qid = frame.get("question")
                if frame.get("type") != "bot" or qid not in questions:
                    return f"unexpected {frame.get('type')}"
                question = questions[qid]
                await asyncio.sleep(rng.uniform(0.05, 0.3))  # reading, thumbs
                if quirk_left:
                    quirk = persona.quirk
                    if quirk == "refuses" or (quirk == "stops" and answered >= 2):
                        await chat.send("stop")
                        on_event(f"chat.{quirk}")
                        return "stopped"
                    if quirk == "hesitates" and answered >= 1:
                        on_event("chat.left")
                        return "left"  # closes the tab: the session stays open, answers kept
                    if quirk == "repeats":
                        quirk_left = False
                        frame = await chat.send("button", payload="/repeat")
                        continue
                    if quirk == "wrong_first" and question.type != "text":
                        quirk_left = False
                        words = phrases()[resident.language]["confused"]
                        frame = await chat.send("text", text=rng.choice(words))
                        continue
                kind, value = answers.chat(
                    question, resident.answers.get(qid), resident.language, persona.types
                )
                frame = (
                    await chat.send("button", payload=value)
                    if kind == "button"
                    else await chat.send("text", text=value)
                )
                on_event(f"chat.{kind}")
                answered += 1
            with contextlib.suppress(Exception):
                await chat.send("stop")
            return "stuck"
