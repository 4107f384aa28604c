"""Signed inbound SMS webhooks at the server as fast as it takes them, from several workers.

Run by ``bench.sms`` as its own process (``python -m bench.sms_load SPEC.json``). Each worker
takes a resident from the shared list and sends that resident's messages in order, each
after the previous one was answered (Twilio does not pipeline one number's messages either),
signed exactly as Twilio signs them. Prints the latencies and the count on its last line.

Every request is built and signed before the clock starts: Twilio's own machines do that
work, and on two shared cores the generator's HMACs would be taken from the server.
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


async def main(spec: dict) -> dict:
    url = spec["url"]
    residents = [[signed(spec, phone, body) for body in spec["bodies"]] for phone in spec["phones"]]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + spec["duration"]

    async def worker(session: aiohttp.ClientSession) -> None:
        while residents and time.monotonic() < deadline:
            for data, headers in residents.pop():
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                async with session.post(url, data=data, headers=headers) as resp:
                    await resp.read()
                    key = str(resp.status)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[key] = statuses.get(key, 0) + 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(spec["workers"])))
        wall = time.monotonic() - started
    return {"latencies_ms": latencies, "wall": wall, "statuses": statuses}


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = uvloop.run(main(spec))
    # Written with os.write until all is out: after uvloop, print() to a pipe whose reader
    # is slow lost everything past the pipe's 64 KiB (seen on Python 3.11, uvloop 0.21).
    line = memoryview((json.dumps(result) + "\n").encode())
    while line:
        line = line[os.write(sys.stdout.fileno(), line) :]
