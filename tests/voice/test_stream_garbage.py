"""Garbage on the Media Streams websocket closes that stream cleanly and says why in the log;
other calls go on unaffected. Also call-backs: a known resident continues, a stranger is
greeted politely."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path

import aiohttp
import pytest
from harness import EXAMPLE_CONFIG, running_server

from kanavat import signing
from kanavat.emulator import HangUp, Press, Wait
from kanavat.voice.routes import stream_token

CAMPAIGN = "vanhukset-2027"
GROUP = "ikaihmiset"


def ws_url(srv) -> str:
    return f"ws://127.0.0.1:{srv.port}/twilio/voice/stream"


async def open_stream(srv, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    signature = signing.sign(srv.auth_token, ws_url(srv))
    return await session.ws_connect(ws_url(srv), headers={"X-Twilio-Signature": signature})


def start_frame(
    srv, attempt: int, call_sid: str = "CA" + "1" * 32, token: str | None = None
) -> str:
    token = token or stream_token(srv.auth_token, call_sid, "survey", str(attempt))
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": "MZ" + "2" * 32,
            "start": {
                "streamSid": "MZ" + "2" * 32,
                "callSid": call_sid,
                "accountSid": "AC" + "0" * 32,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"mode": "survey", "attempt": str(attempt), "token": token},
            },
        }
    )


def make_attempt(srv, status: str = "in-progress", call_sid: str = "CA" + "1" * 32) -> int:
    srv.import_contacts({"+358401119999": "fi"}, group=GROUP)
    srv.start_campaign(CAMPAIGN)
    contact = srv.store.one("SELECT id FROM contacts WHERE phone = '+358401119999'")["id"]
    cur = srv.store.execute(
        "INSERT INTO attempts(campaign_id, contact_id, channel, provider_sid, status, created_at, updated_at) "
        "VALUES (?, ?, 'voice', ?, ?, ?, ?)",
        [CAMPAIGN, contact, call_sid, status, srv.store.now(), srv.store.now()],
    )
    return int(cur.lastrowid)


async def closes_with_reason(srv, frames: list[str], reason: str, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="kanavat.voice")
    async with aiohttp.ClientSession() as session:
        ws = await open_stream(srv, session)
        for frame in frames:
            await ws.send_str(frame)
        # The server hangs up on us: drain until closed (a prompt may have been sent first).
        async with asyncio.timeout(10):
            async for _ in ws:
                pass
        assert ws.closed
    assert any(f"reason={reason}" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        (["{not json"], "bad JSON"),
        (['["a", "list"]'], "frame is not an object"),
        ([json.dumps({"event": "media", "media": {"payload": "/w=="}})], "'media' before start"),
        ([json.dumps({"event": "teleport"})], "'teleport' before start"),
    ],
)
async def test_garbage_before_start_closes_the_stream(
    tmp_path: Path, frames, reason, caplog
) -> None:
    async with running_server(tmp_path) as srv:
        await closes_with_reason(srv, frames, reason, caplog)


async def test_forged_stream_token_is_refused(tmp_path: Path, caplog) -> None:
    async with running_server(tmp_path) as srv:
        attempt = make_attempt(srv)
        await closes_with_reason(
            srv, [start_frame(srv, attempt, token="0" * 32)], "bad stream token", caplog
        )
        assert srv.count("SELECT * FROM sessions") == 0


async def test_stream_for_unknown_or_finished_attempt_is_refused(tmp_path: Path, caplog) -> None:
    async with running_server(tmp_path) as srv:
        await closes_with_reason(srv, [start_frame(srv, 999)], "unknown attempt", caplog)
        attempt = make_attempt(srv, status="completed")
        await closes_with_reason(srv, [start_frame(srv, attempt)], "finished attempt", caplog)


async def test_bad_base64_and_bad_dtmf_close_only_that_call(tmp_path: Path, caplog) -> None:
    async with running_server(tmp_path) as srv:
        attempt = make_attempt(srv)
        bad_media = json.dumps({"event": "media", "media": {"payload": "***not base64***"}})
        await closes_with_reason(srv, [start_frame(srv, attempt), bad_media], "bad base64", caplog)
        second = make_attempt(srv, call_sid="CA" + "3" * 32)
        bad_dtmf = json.dumps({"event": "dtmf", "dtmf": {"digit": "A"}})
        await closes_with_reason(
            srv,
            [start_frame(srv, second, call_sid="CA" + "3" * 32), bad_dtmf],
            "bad dtmf digit",
            caplog,
        )
        # A real call at the same time goes on as if nothing happened.
        srv.import_contacts({"+358401110001": "fi"}, group=GROUP)
        handset = srv.emulator.handset("+358401110001")
        handset.set_behaviour(script=[Wait("question.arki"), Press("5"), Wait(), HangUp()])
        srv.start_campaign(CAMPAIGN)
        async with aiohttp.ClientSession() as session:
            ws = await open_stream(srv, session)
            await ws.send_str(
                json.dumps(
                    {"event": "media", "media": {"payload": base64.b64encode(b"x").decode()}}
                )
            )
            log = await handset.wait_for_call(15)
            await log.wait_ended(60)
        exported = {(r["question"], str(r["value"])) for r in srv.export(CAMPAIGN)}
        assert ("arki", "5") in exported


async def test_known_caller_calling_back_continues_the_questionnaire(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({"+358401110002": "fi"}, group=GROUP)
        srv.start_campaign(CAMPAIGN)
        handset = srv.emulator.handset("+358401110002")
        handset.set_behaviour(call_outcome="no-answer")
        await handset.wait_for_call(15)
        log = await handset.call(script=[Wait("question.arki"), Press("2"), Wait(), HangUp()])
        await log.wait_ended(60)
        assert {(r["question"], str(r["value"])) for r in srv.export(CAMPAIGN)} == {("arki", "2")}


async def test_unknown_caller_hears_a_polite_message_and_the_call_ends(tmp_path: Path) -> None:
    """With the suggestion line off (``[suggestions] voice = false``; on, see tests/loop)."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("voice = true", "voice = false")
    async with running_server(tmp_path, config_text=text) as srv:
        log = await srv.emulator.handset("+358401110003").call(script=[Wait(), Wait()])
        await log.wait_ended(60)
        assert log.marks == ["voice.unknown_caller"]
        assert srv.count("SELECT * FROM sessions") == 0
