"""Media Streams over a real websocket: frame sequence, pacing, marks, clear, dtmf, stop."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from aiohttp import web

from kanavat.emulator import HangUp, Press, Say, Wait, mulaw

from .conftest import ACCOUNT, RESIDENT, frames

SPEED = 20.0  # conftest's settings: 20 ms frames every 1 ms


def connect_twiml(server, action: str = ' action="/after"') -> str:
    return (
        f'<Response><Connect{action}><Stream url="{server.ws_url}">'
        '<Parameter name="campaign" value="c1"/><Parameter name="lang" value="fi"/>'
        "</Stream></Connect><Say>Seuraava</Say></Response>"
    )


def media(sid: str, audio: bytes) -> dict[str, Any]:
    return {
        "event": "media",
        "streamSid": sid,
        "media": {"payload": base64.b64encode(audio).decode()},
    }


def mark(sid: str, name: str) -> dict[str, Any]:
    return {"event": "mark", "streamSid": sid, "mark": {"name": name}}


async def test_stream_marks_clear_dtmf(emu, provider, server) -> None:
    got: list[dict[str, Any]] = []
    timings: dict[str, float] = {}

    async def handler(ws: web.WebSocketResponse, request: web.Request) -> None:
        sid = ""
        async for frame in frames(ws):
            got.append(frame)
            if frame["event"] == "start":
                sid = frame["streamSid"]
                timings["sent"] = time.monotonic()
                await ws.send_json(media(sid, mulaw.tone(500, 0.5)))  # 4000 bytes
                await ws.send_json(mark(sid, "q1"))
                await ws.send_json(media(sid, mulaw.silence(2.0)))  # 16000 bytes
                await ws.send_json(mark(sid, "q2"))
            elif frame["event"] == "mark" and frame["mark"]["name"] == "q1":
                timings["q1"] = time.monotonic()
            elif frame["event"] == "dtmf":
                await ws.send_json({"event": "clear", "streamSid": sid})
            elif frame["event"] == "mark" and frame["mark"]["name"] == "q2":
                await ws.send_json(mark(sid, "idle"))  # nothing queued: echoed at once
            elif frame["event"] == "mark" and frame["mark"]["name"] == "idle":
                return  # server closes: Twilio goes on to <Connect action>

    server.ws_handler = handler
    server.twiml["/voice"] = connect_twiml(server)
    server.twiml["/after"] = "<Response><Say>Kiitos</Say><Hangup/></Response>"
    emu.handset(RESIDENT).set_behaviour(
        script=[Wait("q1"), Say.tone(0.2), Wait(seconds=0.5), Press("5"), Wait(seconds=30)]
    )
    call = await provider.place_call(RESIDENT, server.base_url + "/voice")
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(10)

    assert server.ws_signed == [True]
    connected, start, *rest = got
    assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    info = start["start"]
    assert start["sequenceNumber"] == "1" and info["callSid"] == call.sid
    assert info["accountSid"] == ACCOUNT and info["tracks"] == ["inbound"]
    assert info["customParameters"] == {"campaign": "c1", "lang": "fi"}
    assert info["mediaFormat"] == {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    assert start["streamSid"].startswith("MZ") and len(start["streamSid"]) == 34
    seqs = [int(f["sequenceNumber"]) for f in got[1:]]
    assert seqs == list(range(1, len(seqs) + 1))
    media_frames = [f["media"] for f in rest if f["event"] == "media"]
    assert [int(m["chunk"]) for m in media_frames] == list(range(1, len(media_frames) + 1))
    assert all(int(m["timestamp"]) == 20 * int(m["chunk"]) for m in media_frames)
    payloads = [base64.b64decode(m["payload"]) for m in media_frames]
    assert all(len(p) == 160 for p in payloads) and all(
        m["track"] == "inbound" for m in media_frames
    )
    assert any(set(p) != {0xFF} for p in payloads), "the resident's speech was sent"
    (dtmf,) = [f for f in rest if f["event"] == "dtmf"]
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"}
    # 4000 bytes play in 0.5 s emulated time.
    assert timings["q1"] - timings["sent"] >= 0.5 / SPEED * 0.9

    assert log.marks == ["q1", "q2", "idle"] and log.cleared_marks == ["q2"] and log.clears == 1
    assert len(log.audio["q1"]) == 4000
    assert 0 < len(log.audio["q2"]) < 16000, "the prompt was cut by clear (barge-in)"
    assert log.said == ["Kiitos"], "the <Connect action> ran instead of the next verb"
    assert server.at("/after")[0].signed


async def test_stop_when_resident_hangs_up(emu, provider, server) -> None:
    got: list[str] = []

    async def handler(ws: web.WebSocketResponse, request: web.Request) -> None:
        async for frame in frames(ws):
            if frame["event"] != "media":
                got.append(frame["event"])
            if frame["event"] == "start":
                await ws.send_json(mark(frame["streamSid"], "hello"))

    server.ws_handler = handler
    server.twiml["/voice"] = connect_twiml(server, action="")
    emu.handset(RESIDENT).set_behaviour(script=[Wait("hello"), Wait(seconds=0.2), HangUp()])
    call = await provider.place_call(RESIDENT, server.base_url + "/voice")
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(10)
    for _ in range(100):
        if got[-1:] == ["stop"]:
            break
        await asyncio.sleep(0.01)
    assert got == ["connected", "start", "mark", "stop"]
    assert log.said == [] and (await provider.fetch_call(call.sid)).status == "completed"


async def test_socket_close_runs_next_verb(emu, provider, server) -> None:
    async def handler(ws: web.WebSocketResponse, request: web.Request) -> None:
        async for frame in frames(ws):
            if frame["event"] == "start":
                return

    server.ws_handler = handler
    server.twiml["/voice"] = connect_twiml(server, action="")
    await provider.place_call(RESIDENT, server.base_url + "/voice")
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(10)
    assert log.said == ["Seuraava"] and len(log.streams) == 1


async def test_update_call_leaves_stream(emu, provider, server) -> None:
    events: list[str] = []

    async def handler(ws: web.WebSocketResponse, request: web.Request) -> None:
        async for frame in frames(ws):
            if frame["event"] != "media":
                events.append(frame["event"])

    server.ws_handler = handler
    server.twiml["/voice"] = connect_twiml(server, action="")
    call = await provider.place_call(RESIDENT, server.base_url + "/voice")
    handset = emu.handset(RESIDENT)
    log = await handset.wait_for_call(2)
    for _ in range(200):
        if "start" in events:
            break
        await asyncio.sleep(0.01)
    await provider.update_call(call.sid, twiml="<Response><Say>Hei hei</Say></Response>")
    await log.wait_ended(10)
    assert events == ["connected", "start", "stop"] and log.said == ["Hei hei"]


def test_mulaw_roundtrip() -> None:
    import numpy as np

    pcm = (np.sin(np.arange(800) / 5) * 12000).astype(np.int16)
    back = mulaw.decode(mulaw.encode(pcm))
    assert np.max(np.abs(back.astype(int) - pcm)) < 12000 * 0.04
    assert mulaw.encode(np.zeros(3)) == b"\xff\xff\xff"
