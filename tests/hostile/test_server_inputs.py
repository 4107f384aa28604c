"""Signed Twilio webhooks with arbitrary field values, and arbitrary frames on the Media
Streams and chat websockets: never a 500, never a traceback in the log, and the store's
integrity check passes afterwards.

Webhooks are signed with the server's real token (the signature check is tested elsewhere:
here the hostile input must get past it to reach the parsers).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from harness import Server, running_server
from hypothesis import given
from hypothesis import strategies as st

from kanavat import signing
from kanavat.voice.routes import stream_token

from .conftest import SERVER, Failures, on_loop

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
HEX = "0123456789abcdef"
SID = {p: st.text(HEX, min_size=32, max_size=32).map(lambda h, p=p: p + h) for p in ("SM", "CA")}
PHONE = st.one_of(
    TEXT, st.from_regex(r"\+358(40|45|50)\d{7}", fullmatch=True), st.just("+358600123456")
)
FIELDS = {
    "/twilio/sms": {"MessageSid": "SM", "From": PHONE, "To": PHONE, "Body": TEXT},
    "/twilio/sms/status": {"MessageSid": "SM", "MessageStatus": TEXT, "ErrorCode": TEXT},
    "/twilio/voice": {"CallSid": "CA", "From": PHONE, "Direction": TEXT, "AnsweredBy": TEXT},
    "/twilio/voice/status": {
        "CallSid": "CA",
        "CallStatus": st.sampled_from(["completed", "busy", "no-answer", "ringing"]) | TEXT,
        "SequenceNumber": TEXT,
        "AnsweredBy": TEXT,
    },
}


def form(path: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Each field absent, arbitrary, or (for sids) well formed; plus stray fields."""
    parts = []
    for name, kind in FIELDS[path].items():
        value = TEXT | SID[kind] if isinstance(kind, str) else kind
        parts.append(st.one_of(st.just([]), value.map(lambda v, n=name: [(n, v)])))
    extra = st.lists(st.tuples(TEXT, TEXT), max_size=3)
    return st.tuples(*parts, extra).map(lambda groups: [kv for g in groups for kv in g])


async def post(srv: Server, path: str, params: list[tuple[str, str]]) -> int:
    signature = signing.sign(srv.auth_token, srv.base_url + path, params)
    headers = {
        signing.SIGNATURE_HEADER: signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(srv.base_url + path, data=urlencode(params), headers=headers) as r,
    ):
        return r.status


def healthy(srv: Server, failures: Failures) -> None:
    assert failures.records == [], failures.records[:5]
    assert srv.store.integrity_ok()


async def test_signed_webhooks_with_any_fields(tmp_path: Path, failures: Failures) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({"+358401110401": "fi"})
        srv.start_campaign()
        loop = asyncio.get_running_loop()

        @SERVER
        @given(path=st.sampled_from(sorted(FIELDS)), data=st.data())
        def hammer(path: str, data: st.DataObject) -> None:
            params = data.draw(form(path))
            status = on_loop(loop, post(srv, path, params))
            assert status in (200, 400), (path, status)

        await asyncio.to_thread(hammer)
        await srv.idle()
        healthy(srv, failures)


FRAME_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def media_frames(token: str) -> st.SearchStrategy[list[Any]]:
    """A Media Streams conversation: maybe a valid start, then arbitrary frames."""
    start = {
        "event": "start",
        "start": {
            "streamSid": "MZ1",
            "callSid": "CA" + "0" * 32,
            "customParameters": {"mode": "unknown", "token": token},
        },
    }
    event = st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "x"])
    frame = st.one_of(
        st.fixed_dictionaries(
            {"event": event},
            optional={
                "media": FRAME_VALUE,
                "dtmf": FRAME_VALUE,
                "mark": FRAME_VALUE,
                "start": FRAME_VALUE,
            },
        ),
        st.builds(
            lambda p: {"event": "media", "media": {"payload": p}},
            st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()) | TEXT,
        ),
        FRAME_VALUE,
        st.binary(max_size=50),
    )
    first = st.one_of(st.just([start]), st.just([]))
    return st.tuples(first, st.lists(frame, max_size=8)).map(lambda t: t[0] + t[1])


async def talk(url: str, frames: list[Any], headers: dict[str, str] | None = None) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers=headers or {}, max_msg_size=0) as ws,
    ):
        for frame in frames:
            if ws.closed:
                break
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(json.dumps(frame))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.3):
                async for _ in ws:
                    pass


async def test_media_streams_frames(tmp_path: Path, failures: Failures) -> None:
    async with running_server(tmp_path) as srv:
        loop = asyncio.get_running_loop()
        path = "/twilio/voice/stream"
        url = srv.base_url.replace("http", "ws") + path
        signature = signing.sign(srv.auth_token, url, [])
        token = stream_token(srv.auth_token, "CA" + "0" * 32, "unknown", "")

        @SERVER
        @given(frames=media_frames(token))
        def hammer(frames: list[Any]) -> None:
            on_loop(loop, talk(url, frames, {signing.SIGNATURE_HEADER: signature}))

        await asyncio.to_thread(hammer)
        healthy(srv, failures)


CHAT_FRAME = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["hello", "start", "text", "button", "restart", "stop", "x"])},
        optional={
            "id": TEXT | st.from_regex(r"[a-z0-9-]{1,10}", fullmatch=True),
            "text": FRAME_VALUE,
            "payload": FRAME_VALUE,
            "lang": FRAME_VALUE,
        },
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("text"),
            "id": st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
            "text": st.sampled_from(
                ["TIETONI", "POISTA", "kyllä", "MY DATA", "DELETE", "yes", "15"]
            ),
        }
    ),
    FRAME_VALUE,
    st.binary(max_size=50),
)


async def test_chat_frames(tmp_path: Path, failures: Failures) -> None:
    async with running_server(tmp_path) as srv:
        srv.start_campaign("nuoret-2027")
        loop = asyncio.get_running_loop()
        url = srv.base_url.replace("http", "ws") + "/chat/nuoret-2027/ws"

        @SERVER
        @given(frames=st.lists(CHAT_FRAME, max_size=10))
        def hammer(frames: list[Any]) -> None:
            on_loop(loop, talk(url, frames))

        await asyncio.to_thread(hammer)
        healthy(srv, failures)
