"""Signed inbound SMS webhooks at the server as fast as it takes them, from several workers.

Run by ``bench.sms`` as its own process (``python -m bench.sms_load SPEC.json``). Each worker
takes a resident from the shared list and sends that resident's messages in order, each
after the previous one was answered (Twilio does not pipeline one number's messages either),
signed exactly as Twilio signs them. Prints the latencies and the count on its last line.

Every request is built and signed before the clock starts: Twilio's own machines do that
work, and on two shared cores the generator's HMACs would be taken from the server.

With ``twiml`` in the spec (the server's ``sms_replies = "twiml"``) the server's answer
carries its replies as ``<Message>`` verbs. Twilio would send them and post their delivery
callbacks to each verb's ``action``: the generator hands the answers to the emulator
(``Handing``), after each answer's latency is taken and without holding the worker's next
message.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import uvloop

from kanavat import signing


def signed(spec: dict, phone: str, body: str) -> tuple[bytes, dict[str, str]]:
    """One inbound message as Twilio posts it: the form and its headers."""
    form = [
        ("MessageSid", "SM" + secrets.token_hex(16)),
        ("AccountSid", spec["account"]),
        ("MessagingServiceSid", ""),
        ("From", phone),
        ("To", spec["to"]),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        signing.SIGNATURE_HEADER: signing.sign(spec["token"], spec["url"], form),
    }
    return urlencode(form).encode(), headers


class Handing:
    """The TwiML answers the server gave, handed to the emulator (Twilio's side, which sends
    their ``<Message>`` verbs) in batches every few milliseconds: inside Twilio an answer
    becomes messages with no request of its own, so none is made per answer here."""

    def __init__(self, spec: dict, session: aiohttp.ClientSession) -> None:
        self.url = f"{spec['emulator']}/_emulator/answers"
        self.to, self.session = spec["to"], session
        self.waiting: list[dict[str, str]] = []
        self.messages, self.failed = 0, 0
        self._task: asyncio.Task[None] | None = None

    def add(self, resident: str, answer: str) -> None:
        self.waiting.append({"from": resident, "to": self.to, "twiml": answer})
        if self._task is None:
            self._task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0.005)
        while self.waiting:  # what comes while a batch is posted goes in the next one
            await self.flush()
        self._task = None

    async def flush(self) -> None:
        batch, self.waiting = self.waiting, []
        if not batch:
            return
        async with self.session.post(self.url, json={"answers": batch}) as resp:
            if resp.status == 200:
                self.messages += (await resp.json())["messages"]
            else:
                self.failed += len(batch)

    async def finish(self) -> None:
        if self._task is not None:
            await self._task
        await self.flush()


async def main(spec: dict) -> dict:
    url = spec["url"]
    residents = [
        (phone, [signed(spec, phone, body) for body in spec["bodies"]]) for phone in spec["phones"]
    ]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + spec["duration"]

    async def worker(session: aiohttp.ClientSession, handing: Handing) -> None:
        while residents and time.monotonic() < deadline:
            phone, messages = residents.pop()
            for data, headers in messages:
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                async with session.post(url, data=data, headers=headers) as resp:
                    answer = await resp.text()
                    key = str(resp.status)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[key] = statuses.get(key, 0) + 1
                if spec.get("twiml") and "<Message" in answer:
                    handing.add(phone, answer)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        handing = Handing(spec, session)
        started = time.monotonic()
        await asyncio.gather(*(worker(session, handing) for _ in range(spec["workers"])))
        wall = time.monotonic() - started
        await handing.finish()
    handed = {"messages": handing.messages, "answers not taken": handing.failed}
    return {"latencies_ms": latencies, "wall": wall, "statuses": statuses, "handed": handed}


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = uvloop.run(main(spec))
    # Written with os.write until all is out: after uvloop, print() to a pipe whose reader
    # is slow lost everything past the pipe's 64 KiB (seen on Python 3.11, uvloop 0.21).
    line = memoryview((json.dumps(result) + "\n").encode())
    while line:
        line = line[os.write(sys.stdout.fileno(), line) :]
