"""The resident's end of one call: what they heard, and how their actions reach Twilio.

While a ``<Connect><Stream>`` runs, speech and key presses become ``media`` and ``dtmf``
frames; otherwise they wait in ``inputs`` for a ``<Gather>``. ``CallLog`` is what tests
assert on (prompts heard, marks, barge-in clears); it holds no reference to the server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stream import MediaStream


@dataclass
class CallLog:
    """Everything the resident heard and did on one call, in order.

    ``audio`` maps a mark name to the outbound stream audio (μ-law) that played before the
    mark was reached, so a prompt cut by ``clear`` is visibly shorter than it was sent;
    ``sent_audio`` counts the bytes the server queued in total.
    """

    call_sid: str
    direction: str
    resident: str
    twilio_number: str
    status: str = "queued"
    answered_by: str | None = None
    said: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    audio: dict[str, bytes] = field(default_factory=dict)
    marks: list[str] = field(default_factory=list)
    cleared_marks: list[str] = field(default_factory=list)
    clears: int = 0
    sent_audio: int = 0
    pressed: list[str] = field(default_factory=list)
    streams: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def event(self, kind: str, value: Any = None) -> None:
        self.events.append((kind, value))

    async def wait_ended(self, timeout: float = 30.0) -> CallLog:
        async with asyncio.timeout(timeout):
            await self.ended.wait()
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid,
            "direction": self.direction,
            "status": self.status,
            "answered_by": self.answered_by,
            "said": self.said,
            "played": self.played,
            "marks": self.marks,
            "cleared_marks": self.cleared_marks,
            "clears": self.clears,
            "audio_bytes": {name: len(data) for name, data in self.audio.items()},
            "sent_audio": self.sent_audio,
            "pressed": self.pressed,
            "streams": self.streams,
            "ended": self.ended.is_set(),
        }


class Line:
    """API a resident script acts through; all durations are emulated seconds."""

    def __init__(self, log: CallLog, speed: float) -> None:
        self.log = log
        self.speed = speed
        self.stream: MediaStream | None = None
        self.inputs: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.hung_up = asyncio.Event()
        self._changed = asyncio.Event()
        self._mark_cursor = 0

    @property
    def heard(self) -> CallLog:
        return self.log

    def notify(self) -> None:
        """Wake every waiter; called when marks arrive or the stream changes."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def wait_mark(self, name: str | None = None, timeout: float = 60.0) -> str:
        """Wait for mark ``name`` (already echoed counts), or the next unconsumed mark."""
        async with asyncio.timeout(timeout / self.speed):
            while True:
                if name is not None and name in self.log.marks:
                    return name
                if name is None and self._mark_cursor < len(self.log.marks):
                    self._mark_cursor += 1
                    return self.log.marks[self._mark_cursor - 1]
                await self._changed.wait()

    async def wait_stream(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout / self.speed):
            while self.stream is None:
                await self._changed.wait()

    async def say(self, audio: bytes, text: str | None = None) -> None:
        """Speak: μ-law audio into the stream, or ``text`` to a waiting ``<Gather>``."""
        self.log.event("resident-say", len(audio))
        if self.stream is not None:
            await self.stream.speak(audio)
            return
        if text:
            self.inputs.put_nowait(("speech", text))
        await self.sleep(len(audio) / 8000)

    async def press(self, digits: str, gap: float = 0.15) -> None:
        for digit in digits:
            self.log.pressed.append(digit)
            if self.stream is not None:
                await self.stream.send_dtmf(digit)
            else:
                self.inputs.put_nowait(("digit", digit))
            await self.sleep(gap)

    async def hangup(self) -> None:
        self.log.event("resident-hangup")
        self.hung_up.set()
