"""A virtual resident's phone: its inbox, its calls, and what it can do from Python.

``emu.handset("+358401234567")`` returns the same object every time. Tests send texts
(``await h.send_sms("3")``), redeliver the last webhook byte for byte (``resend_last``,
Twilio's at-least-once delivery), wait for texts and calls, and place inbound calls.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .messages import (
    InboundResult,
    MessageRecord,
    inbound_params,
    receive_inbound,
    replies_from_twiml,
)
from .wire import now

if TYPE_CHECKING:
    from .core import Emulator
    from .line import CallLog
    from .resident import Script
    from .settings import HandsetBehaviour

log = logging.getLogger("kanavat.emulator.handset")


@dataclass(frozen=True)
class ReceivedMessage:
    sid: str
    body: str
    from_: str
    direction: str
    received_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "body": self.body,
            "from": self.from_,
            "direction": self.direction,
            "received_at": self.received_at.isoformat(),
        }


class Handset:
    def __init__(self, emu: Emulator, number: str) -> None:
        self.emu = emu
        self.number = number
        self.inbox: list[ReceivedMessage] = []
        self.calls: list[CallLog] = []
        self._read = 0
        self._calls_seen = 0
        self._changed = asyncio.Event()
        self._last: tuple[str, list[tuple[str, str]], dict[str, str], MessageRecord] | None = None

    @property
    def behaviour(self) -> HandsetBehaviour:
        return self.emu.behaviour(self.number)

    def set_behaviour(self, **changes: Any) -> HandsetBehaviour:
        return self.emu.set_behaviour(self.number, **changes)

    @property
    def opted_out(self) -> bool:
        return any(resident == self.number for resident, _ in self.emu.blocked)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def receive(self, msg: MessageRecord) -> None:
        self.inbox.append(ReceivedMessage(msg.sid, msg.body, msg.from_, msg.direction, now()))
        self._notify()

    def ring(self, log_: CallLog) -> None:
        self.calls.append(log_)
        self._notify()

    async def wait_for_message(self, timeout: float = 5.0) -> ReceivedMessage:
        """The next message not yet returned by this method (real seconds)."""
        async with asyncio.timeout(timeout):
            while self._read >= len(self.inbox):
                await self._changed.wait()
        self._read += 1
        return self.inbox[self._read - 1]

    async def wait_for_call(self, timeout: float = 5.0) -> CallLog:
        """The next call that rang this handset, not yet returned by this method."""
        async with asyncio.timeout(timeout):
            while self._calls_seen >= len(self.calls):
                await self._changed.wait()
        self._calls_seen += 1
        return self.calls[self._calls_seen - 1]

    async def send_sms(self, body: str, to: str | None = None) -> InboundResult:
        """Text the county's number; the server's TwiML reply lands in this inbox."""
        settings = self.emu.settings
        if not settings.sms_url:
            raise RuntimeError("EmulatorSettings.sms_url is not set")
        msg, kind = receive_inbound(self.emu, self.number, body, to or settings.phone_number)
        url, form, headers = self.emu.signed_request(
            settings.sms_url, inbound_params(self.emu, msg, kind)
        )
        self._last = (url, form, headers, msg)
        return await self._deliver()

    async def resend_last(self) -> InboundResult:
        """Post the previous inbound webhook again, identical (same sid and signature)."""
        if self._last is None:
            raise RuntimeError("this handset has sent nothing yet")
        return await self._deliver()

    async def _deliver(self) -> InboundResult:
        assert self._last is not None
        url, form, headers, msg = self._last
        reply = await self.emu.send_signed(url, form, headers)
        log.info("sms.inbound sid=%s http=%s", msg.sid, reply.status)
        replies: list[MessageRecord] = []
        if 200 <= reply.status < 300:
            replies = replies_from_twiml(self.emu, msg, reply.text)
        return InboundResult(msg.sid, reply.status, tuple(replies))

    async def call(self, to: str | None = None, script: Script | None = None) -> CallLog:
        """Call the county's number (inbound call); returns at once with the call's log.

        ``script`` overrides this handset's behaviour script for this call only.
        """
        from .calls import start_inbound

        return start_inbound(self.emu, self.number, to or self.emu.settings.phone_number, script)

    def to_json(self, full: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "messages": len(self.inbox),
            "calls": len(self.calls),
            "opted_out": self.opted_out,
        }
        if full:
            data["inbox"] = [m.to_json() for m in self.inbox]
            data["call_logs"] = [c.summary() for c in self.calls]
        return data
