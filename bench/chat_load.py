"""Many chat visitors on the page's websocket at once, each answering every few seconds.

Run by ``bench.chat`` as its own process (``python -m bench.chat_load SPEC.json``). Each
visitor connects as a browser does (same Origin), says ``hello``, presses start, then
answers whatever the bot asks (a quick-reply button, a number, or a sentence) after a
think time, and starts over when done. Visitors are spread over loopback addresses
(127.0.0.x), twenty to an address, as a county's residents come from many addresses: the
chat's per-address limits are for one school's shared address, not for this.
Measured: from sending a frame to the ``bot`` frame that answers it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import aiohttp

PER_ADDRESS = 20


async def visitor(
    n: int, session: aiohttp.ClientSession, spec: dict, deadline: float, out: dict
) -> None:
    rng = random.Random(n)
    await asyncio.sleep(spec["ramp"] * rng.random())
    try:
        async with session.ws_connect(spec["url"], headers={"Origin": spec["origin"]}) as ws:
            out["connected"] += 1

            async def ask(frame: dict) -> dict:
                started = time.perf_counter()
                await ws.send_str(json.dumps(frame))
                while True:
                    msg = await ws.receive(timeout=30)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise ConnectionError(f"socket {msg.type}")
                    reply = json.loads(msg.data)
                    if reply.get("type") in ("bot", "error") and reply.get("re") == frame.get("id"):
                        out["ms"].append((time.perf_counter() - started) * 1000)
                        return reply
                    if reply.get("type") == "state" and frame["type"] == "hello":
                        return reply

            await ask({"type": "hello", "lang": "fi"})
            seq = 0
            reply = await ask({"type": "start", "id": f"v{n}-{seq}"})
            while time.monotonic() < deadline:
                await asyncio.sleep(rng.uniform(*spec["think"]))
                seq += 1
                fid = f"v{n}-{seq}"
                if reply.get("type") == "error":
                    out["errors"] += 1
                if reply.get("status") != "active":
                    reply = await ask({"type": "restart", "id": fid})
                    continue
                asking = next((m for m in reply["messages"] if m.get("question")), None)
                if asking and asking.get("buttons"):
                    payload = rng.choice(asking["buttons"])["payload"]
                    reply = await ask({"type": "button", "id": fid, "payload": payload})
                elif asking and not asking.get("free_text"):
                    reply = await ask({"type": "text", "id": fid, "text": str(rng.randint(12, 25))})
                else:
                    reply = await ask({"type": "text", "id": fid, "text": "lisää nuorisotiloja"})
    except Exception as exc:  # recorded, not raised: one lost visitor must not end the run
        out["failed"] += 1
        out["reasons"][type(exc).__name__] = out["reasons"].get(type(exc).__name__, 0) + 1


async def main(spec: dict) -> dict:
    out = {"ms": [], "connected": 0, "failed": 0, "errors": 0, "reasons": {}}
    deadline = time.monotonic() + spec["duration"]
    sessions = []
    tasks = []
    for n in range(spec["visitors"]):
        if n % PER_ADDRESS == 0:
            address = f"127.0.{spec['subnet']}.{2 + n // PER_ADDRESS}"
            connector = aiohttp.TCPConnector(limit=0, local_addr=(address, 0))
            sessions.append(aiohttp.ClientSession(connector=connector))
        tasks.append(asyncio.create_task(visitor(n, sessions[-1], spec, deadline, out)))
    await asyncio.gather(*tasks)
    for s in sessions:
        await s.close()
    return out


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(main(spec))))
