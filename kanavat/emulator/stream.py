"""One bidirectional Media Stream (``<Connect><Stream>``), as Twilio runs it.

Twilio dials the server's websocket, sends ``connected`` and ``start``, then 20 ms μ-law
``media`` frames in real time (divided by ``speed``), ``dtmf`` as keys are pressed, and
``stop`` when the call ends. Audio the server sends is "played" at 8000 bytes/s; a
``mark`` is echoed once everything queued before it has played (at once when idle) and
``clear`` drops queued audio and returns every pending mark (twilio-protocol.md §6).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ..signing import SIGNATURE_HEADER, sign
from .mulaw import SILENCE
from .wire import new_sid

if TYPE_CHECKING:
    from .core import Emulator
    from .line import Line

log = logging.getLogger("kanavat.emulator.stream")

FRAME_BYTES = 160  # 20 ms of 8 kHz μ-law
FRAME_SECONDS = 0.02
BYTES_PER_SECOND = 8000


def dial_url(url: str, rewrite: dict[str, str] | Any) -> str:
    """Where to connect for a public stream URL (the signature still uses ``url``)."""
    for public, real in dict(rewrite).items():
        if url.startswith(public):
            return real + url[len(public) :]
    parts = urlsplit(url)
    if parts.scheme == "wss":
        try:
            loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if loopback:
            return urlunsplit(parts._replace(scheme="ws"))
    return url


class MediaStream:
    def __init__(
        self,
        emu: Emulator,
        line: Line,
        call_sid: str,
        url: str,
        parameters: dict[str, str],
    ) -> None:
        self.emu = emu
        self.line = line
        self.call_sid = call_sid
        self.url = url
        self.parameters = parameters
        self.stream_sid = new_sid("MZ")
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._seq = 0
        self._chunk = 0
        self._send_lock = asyncio.Lock()
        self._inbound = bytearray()  # resident audio waiting to be framed
        self._drained = asyncio.Event()
        self._queue: deque[tuple[str, Any]] = deque()  # ("audio", bytes) | ("mark", name)
        self._queued = asyncio.Event()
        self._segment = bytearray()  # played audio since the last mark
        self._player: asyncio.Task[None] | None = None
        self._playing: tuple[bytes, float] | None = None  # chunk and loop time it started

    async def run(self) -> None:
        """Run until the server closes the socket; cancelled when the call ends."""
        settings = self.emu.settings
        headers = {SIGNATURE_HEADER: sign(settings.auth_token, self.url)}
        target = dial_url(self.url, settings.ws_rewrite)
        assert self.emu.session is not None
        self._ws = await self.emu.session.ws_connect(target, headers=headers, autoping=True)
        log.info("stream.connected call=%s stream=%s", self.call_sid, self.stream_sid)
        self.line.log.streams.append(
            {"stream_sid": self.stream_sid, "url": self.url, "parameters": self.parameters}
        )
        sender = asyncio.create_task(self._send_media())
        self._player = asyncio.create_task(self._play())
        try:
            await self._ws.send_str(
                json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            )
            await self._send(
                "start",
                {
                    "start": {
                        "accountSid": settings.account_sid,
                        "streamSid": self.stream_sid,
                        "callSid": self.call_sid,
                        "tracks": ["inbound"],
                        "customParameters": self.parameters,
                        "mediaFormat": {
                            "encoding": "audio/x-mulaw",
                            "sampleRate": 8000,
                            "channels": 1,
                        },
                    }
                },
            )
            self.line.stream = self
            self.line.notify()
            await self._receive()
            log.info("stream.closed-by-server call=%s", self.call_sid)
        except asyncio.CancelledError:
            await self._stop()
            raise
        finally:
            self.line.stream = None
            self.line.notify()
            self._drained.set()
            for task in (sender, self._player):
                task.cancel()
            await asyncio.gather(sender, self._player, return_exceptions=True)
            if not self._ws.closed:
                await self._ws.close()

    async def _stop(self) -> None:
        """Call ended: Twilio says ``stop`` and closes."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                stop = {"accountSid": self.emu.settings.account_sid, "callSid": self.call_sid}
                await self._send("stop", {"stop": stop})
                assert self._ws is not None
                await self._ws.close()

    async def _send(self, event: str, body: dict[str, Any]) -> None:
        assert self._ws is not None
        async with self._send_lock:
            self._seq += 1
            frame = {"event": event, "sequenceNumber": str(self._seq), **body}
            frame["streamSid"] = self.stream_sid
            await self._ws.send_str(json.dumps(frame))

    async def _send_media(self) -> None:
        """Paced 20 ms frames; an absolute schedule so pacing does not drift."""
        loop = asyncio.get_running_loop()
        interval = FRAME_SECONDS / self.emu.settings.speed
        started = loop.time()
        while True:
            self._chunk += 1
            await asyncio.sleep(max(0.0, started + self._chunk * interval - loop.time()))
            payload = bytes(self._inbound[:FRAME_BYTES])
            del self._inbound[:FRAME_BYTES]
            if len(payload) < FRAME_BYTES:
                payload += bytes([SILENCE]) * (FRAME_BYTES - len(payload))
            if not self._inbound:
                self._drained.set()
            media = {
                "track": "inbound",
                "chunk": str(self._chunk),
                "timestamp": str(self._chunk * 20),
                "payload": base64.b64encode(payload).decode("ascii"),
            }
            await self._send("media", {"media": media})

    async def speak(self, audio: bytes) -> None:
        """Queue resident audio and return once it has all been framed and sent."""
        self._inbound.extend(audio)
        self._drained.clear()
        await self._drained.wait()

    async def send_dtmf(self, digit: str) -> None:
        await self._send("dtmf", {"dtmf": {"track": "inbound_track", "digit": digit}})

    async def _receive(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    log.warning("stream.binary-frame-ignored call=%s", self.call_sid)
                continue
            try:
                frame = json.loads(msg.data)
                event = frame.get("event")
            except (ValueError, AttributeError):
                log.warning("stream.bad-frame call=%s", self.call_sid)
                continue
            if frame.get("streamSid") != self.stream_sid:
                log.warning("stream.wrong-stream-sid call=%s", self.call_sid)
            if event == "media":
                self._enqueue_audio(frame.get("media", {}).get("payload", ""))
            elif event == "mark":
                name = str(frame.get("mark", {}).get("name", ""))
                self._queue.append(("mark", name))
                self._queued.set()
            elif event == "clear":
                await self._clear()
            else:
                log.warning("stream.unknown-event call=%s event=%s", self.call_sid, event)

    def _enqueue_audio(self, payload: str) -> None:
        try:
            audio = base64.b64decode(payload, validate=True)
        except ValueError:
            log.warning("stream.bad-payload call=%s", self.call_sid)
            return
        if audio[:4] == b"RIFF":
            # Twilio plays file headers as noise rather than rejecting them (§9).
            log.warning("stream.wav-header-in-media call=%s", self.call_sid)
        self.line.log.sent_audio += len(audio)
        self._queue.append(("audio", audio))
        self._queued.set()

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        speed = self.emu.settings.speed
        while True:
            while not self._queue:
                self._queued.clear()
                await self._queued.wait()
            kind, value = self._queue.popleft()
            if kind == "audio":
                self._playing = (value, loop.time())
                await asyncio.sleep(len(value) / BYTES_PER_SECOND / speed)
                self._playing = None
                self._segment.extend(value)
            else:
                await self._echo_mark(value, cleared=False)

    async def _echo_mark(self, name: str, cleared: bool) -> None:
        log_ = self.line.log
        log_.audio[name] = bytes(self._segment)
        self._segment.clear()
        log_.marks.append(name)
        if cleared:
            log_.cleared_marks.append(name)
        log_.event("mark", {"name": name, "cleared": cleared})
        await self._send("mark", {"mark": {"name": name}})
        self.line.notify()

    async def _clear(self) -> None:
        """Drop queued audio; keep what already played; return pending marks in order."""
        assert self._player is not None
        self._player.cancel()
        await asyncio.gather(self._player, return_exceptions=True)
        if self._playing is not None:
            chunk, started = self._playing
            elapsed = asyncio.get_running_loop().time() - started
            played = int(elapsed * self.emu.settings.speed * BYTES_PER_SECOND)
            self._segment.extend(chunk[: max(0, min(len(chunk), played))])
            self._playing = None
        pending = [value for kind, value in self._queue if kind == "mark"]
        self._queue.clear()
        self.line.log.clears += 1
        self.line.log.event("clear", pending)
        for name in pending:
            await self._echo_mark(name, cleared=True)
        self._segment.clear()  # cut audio with no mark after it is attributed to none
        self._player = asyncio.create_task(self._play())
