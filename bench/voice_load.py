"""A Media Streams load generator: many phone calls spoken straight to the server's websocket.

Run by ``bench.voice`` as its own process (``python -m bench.voice_load SPEC.json``), so its
CPU is not the server's. Each virtual caller does what Twilio and a resident do together:
opens the stream with the signed parameters the TwiML would carry, streams the line without a
break in 20 ms mu-law frames (silence, or the answer's words), echoes each mark once the
prompt has "played", answers each question by voice and each confirmation with key 1, and
when the call ends dials the next attempt it was given, until the run's time is up.

Measured per turn: from the last 20 ms frame of the resident's words (or the key press) to
the first media frame of the server's next prompt. One ticker sends every call's frame each
20 ms on a fixed schedule; how late it runs is reported, since a late generator would flatter
the server. Prints one JSON object on its last line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FRAME_BYTES = 160
TICK = 0.02
SILENCE = base64.b64encode(b"\xff" * FRAME_BYTES).decode()
MAX_CATCH_UP = 5  # frames sent at once by a late ticker before it gives up on real time


@dataclass
class Spec:
    url: str
    signature: str  # X-Twilio-Signature of the upgrade, over the public stream URL
    token_by_attempt: dict[str, str]  # attempt id -> stream token (the TwiML's HMAC)
    sid_by_attempt: dict[str, str]
    callers: list[list[str]]  # each caller's attempts, dialled in turn
    answers: dict[str, str]  # question id -> path of mu-law answer audio
    duration: float
    play_cap: float = 2.0  # a prompt "plays" this long at most before its mark is echoed
    think: float = 0.3  # silence between the prompt's end and the answer


@dataclass
class Caller:
    spec: Spec
    attempts: list[str]
    payloads: dict[str, list[str]]
    ws: aiohttp.ClientWebSocketResponse | None = None
    stream_sid: str = ""
    queue: list[str] = field(default_factory=list)  # speech frames still to send
    ended_speech: float | None = None  # when the last frame of the words went out
    pressed: float | None = None
    received_bytes: int = 0
    speech_ms: list[float] = field(default_factory=list)
    answering: str = ""  # the question whose answer is being spoken
    by_question: dict[str, list[float]] = field(default_factory=dict)  # speech turns' ms
    keypad_ms: list[float] = field(default_factory=list)
    marks: dict[str, int] = field(default_factory=dict)
    calls_done: int = 0
    errors: list[str] = field(default_factory=list)
    pending: list[asyncio.Task] = field(default_factory=list)

    async def run(self, session: aiohttp.ClientSession, deadline: float) -> None:
        for attempt in self.attempts:
            if time.monotonic() >= deadline:
                return
            try:
                await self.call(session, attempt, deadline)
                if time.monotonic() < deadline:
                    self.calls_done += 1  # ended by the server, not cut off by the deadline
            except Exception as exc:  # a benchmark records failures, it does not stop
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                await asyncio.sleep(0.5)

    async def call(self, session: aiohttp.ClientSession, attempt: str, deadline: float) -> None:
        spec = self.spec
        call_sid = spec.sid_by_attempt[attempt]
        self.stream_sid = "MZ" + call_sid[2:]
        async with session.ws_connect(
            spec.url, max_msg_size=0, headers={"X-Twilio-Signature": spec.signature}
        ) as ws:
            self.ws = ws
            await ws.send_str(json.dumps({"event": "connected", "protocol": "Call"}))
            start = {
                "streamSid": self.stream_sid,
                "callSid": call_sid,
                "accountSid": "AC" + "0" * 32,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {
                    "mode": "survey",
                    "attempt": attempt,
                    "token": spec.token_by_attempt[attempt],
                },
            }
            await ws.send_str(json.dumps({"event": "start", "start": start}))
            try:
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    self.on_frame(json.loads(msg.data))
            finally:
                self.ws = None
                self.queue = []
                self.ended_speech = self.pressed = None
                for task in self.pending:
                    task.cancel()
                self.pending = []

    async def hang_up(self) -> None:
        ws = self.ws
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(json.dumps({"event": "stop", "streamSid": self.stream_sid}))
                await ws.close()
            except (ConnectionError, RuntimeError):
                pass

    def on_frame(self, frame: dict[str, Any]) -> None:
        event = frame.get("event")
        now = time.monotonic()
        if event == "media":
            if self.ended_speech is not None:
                ms = (now - self.ended_speech) * 1000
                self.speech_ms.append(ms)
                self.by_question.setdefault(self.answering, []).append(ms)
                self.ended_speech = None
            if self.pressed is not None:
                self.keypad_ms.append((now - self.pressed) * 1000)
                self.pressed = None
            self.received_bytes += len(frame["media"]["payload"]) * 3 // 4
        elif event == "mark":
            name = frame["mark"]["name"]
            played = min(self.spec.play_cap, self.received_bytes / 8000)
            self.received_bytes = 0
            self.pending.append(asyncio.create_task(self.after_prompt(name, played)))
        elif event == "clear":
            self.received_bytes = 0

    async def after_prompt(self, name: str, played: float) -> None:
        await asyncio.sleep(played)
        ws = self.ws
        if ws is None or ws.closed:
            return
        base = name.split("~")[0]
        kind = base.split(".")[0]
        self.marks[kind] = self.marks.get(kind, 0) + 1
        await ws.send_str(
            json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
        )
        await asyncio.sleep(self.spec.think)
        if kind in ("question", "reprompt"):
            question = base.split(".", 1)[1] if "." in base else ""
            frames = self.payloads.get(question)
            if frames:
                self.queue = list(frames)
                self.answering = question
        elif kind == "confirm":
            self.pressed = time.monotonic()
            dtmf = {"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": "1"}}
            await ws.send_str(json.dumps(dtmf))

    def frame(self) -> str | None:
        """This caller's next 20 ms of line audio as a media message (None: not connected)."""
        if self.ws is None or self.ws.closed:
            return None
        if self.queue:
            payload = self.queue.pop(0)
            if not self.queue:
                self.ended_speech = time.monotonic()
        else:
            payload = SILENCE
        return (
            '{"event":"media","streamSid":"' + self.stream_sid + '","media":{"track":"inbound",'
            '"payload":"' + payload + '"}}'
        )


async def ticker(callers: list[Caller], deadline: float, lags: list[float]) -> None:
    """Every caller's next frame every 20 ms, on a fixed schedule from the start."""
    t0 = time.monotonic()
    sent = 0
    while time.monotonic() < deadline + 5:
        due = int((time.monotonic() - t0) / TICK) + 1
        lags.append(max(0.0, (due - 1 - sent) * TICK))
        for _ in range(min(MAX_CATCH_UP, due - sent)):
            for caller in callers:
                text = caller.frame()
                if text is not None and caller.ws is not None:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await caller.ws.send_str(text)
        sent = due
        await asyncio.sleep(max(0.0, t0 + sent * TICK - time.monotonic()))


def payloads_of(path: str) -> list[str]:
    data = Path(path).read_bytes()
    data += b"\xff" * (-len(data) % FRAME_BYTES)
    return [
        base64.b64encode(data[i : i + FRAME_BYTES]).decode()
        for i in range(0, len(data), FRAME_BYTES)
    ]


async def main(spec: Spec) -> dict[str, Any]:
    payloads = {q: payloads_of(p) for q, p in spec.answers.items()}
    callers = [Caller(spec, attempts, payloads) for attempts in spec.callers]
    deadline = time.monotonic() + spec.duration
    lags: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tick = asyncio.create_task(ticker(callers, deadline, lags))
        # Callers start spread over the first two seconds, as calls are not all answered at once.
        tasks = []
        for c in callers:
            tasks.append(asyncio.create_task(c.run(session, deadline)))
            await asyncio.sleep(2.0 / max(1, len(callers)))
        # At the deadline every call still open hangs up (a stop frame, then close).
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        for c in callers:
            await c.hang_up()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        tick.cancel()
    lags.sort()
    return {
        "speech_ms": [x for c in callers for x in c.speech_ms],
        "keypad_ms": [x for c in callers for x in c.keypad_ms],
        "speech_ms_by_question": {
            q: [x for c in callers for x in c.by_question.get(q, [])]
            for q in sorted({q for c in callers for q in c.by_question})
        },
        "calls": sum(c.calls_done for c in callers),
        "marks": {
            k: sum(c.marks.get(k, 0) for c in callers)
            for k in {"question", "reprompt", "confirm", "outro", "intro"}
        },
        "errors": [e for c in callers for e in c.errors][:10],
        "error_count": sum(len(c.errors) for c in callers),
        "ticker_lag_p95_ms": lags[int(len(lags) * 0.95)] * 1000 if lags else 0.0,
    }


if __name__ == "__main__":
    raw = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(main(Spec(**raw)))
    print(json.dumps(result))
