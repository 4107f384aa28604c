"""Signed inbound SMS webhooks at the server as fast as it takes them, from several workers.

Run by ``bench.sms`` as its own process (``python -m bench.sms_load SPEC.json``). Each worker
takes a resident from the shared list and sends that resident's messages in order, each
after the previous one was answered (Twilio does not pipeline one number's messages either),
signed exactly as Twilio signs them. Prints the latencies and the count on its last line.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from kanavat import signing


async def main(spec: dict) -> dict:
    url = spec["url"]
    token = spec["token"]
    residents: list[str] = list(spec["phones"])
    bodies: list[str] = spec["bodies"]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + spec["duration"]

    async def worker(session: aiohttp.ClientSession) -> None:
        while residents and time.monotonic() < deadline:
            phone = residents.pop()
            for body in bodies:
                if time.monotonic() >= deadline:
                    return
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
                    signing.SIGNATURE_HEADER: signing.sign(token, url, form),
                }
                started = time.perf_counter()
                async with session.post(url, data=urlencode(form), headers=headers) as resp:
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
    print(json.dumps(asyncio.run(main(spec))))
