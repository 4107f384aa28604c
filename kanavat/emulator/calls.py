"""Phone calls: the call resource, its progress and callbacks, AMD, and live updates.

Outbound: ``queued`` → ``initiated`` → ``ringing`` → ``in-progress`` → ``completed``, or
``busy`` / ``no-answer`` / ``failed`` / ``canceled`` per the handset's behaviour. Status
callbacks go only to subscribed ``StatusCallbackEvent``s (default ``completed``), each with
its ``SequenceNumber`` (twilio-protocol.md §4). Once answered, the TwiML interpreter and
the resident's script run side by side until one of them ends the call.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .line import CallLog, Line
from .resident import Script, run_script
from .twiml import Interpreter, Source
from .wire import API_VERSION, new_sid, now, rfc2822

if TYPE_CHECKING:
    from .core import Emulator

log = logging.getLogger("kanavat.emulator.calls")

TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}
EVENT_OF = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}
MACHINE = {"Enable": "machine_start", "DetectMessageEnd": "machine_end_beep"}


@dataclass
class CallRecord:
    sid: str
    from_: str
    to: str
    direction: str
    log: CallLog
    source: Source | None = None
    status: str = "queued"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})
    timeout: float = 60.0
    machine_detection: str | None = None
    machine_detection_timeout: float = 30.0
    async_amd: bool = False
    async_amd_callback: str | None = None
    async_amd_method: str = "POST"
    answered_by: str | None = None
    script: Script | None = None
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    sequence: int = 0
    runner: asyncio.Task[None] | None = None
    interpreter: asyncio.Task[None] | None = None
    replacement: Source | None = None
    cancel_as: str | None = None
    log_account: str = ""

    @property
    def resident(self) -> str:
        return self.to if self.direction.startswith("outbound") else self.from_

    def voice_params(self, status: str | None = None) -> list[tuple[str, str]]:
        """Fields of every voice webhook (§4), including the legacy Caller/Called."""
        params = [
            ("AccountSid", self.log_account),
            ("ApiVersion", API_VERSION),
            ("CallSid", self.sid),
            ("CallStatus", status or self.status),
            ("Called", self.to),
            ("CalledCountry", "FI"),
            ("Caller", self.from_),
            ("CallerCountry", "FI"),
            ("Direction", self.direction),
            ("From", self.from_),
            ("FromCountry", "FI"),
            ("To", self.to),
            ("ToCountry", "FI"),
        ]
        if self.answered_by and not self.async_amd:
            params.append(("AnsweredBy", self.answered_by))
        return params

    def to_json(self, account_sid: str) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "parent_call_sid": None,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": None,
            "status": self.status,
            "direction": self.direction,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": None if self.duration is None else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "caller_name": None,
            "group_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Calls/{self.sid}.json",
            "subresource_uris": {},
        }


def new_call(emu: Emulator, from_: str, to: str, direction: str, **kw: Any) -> CallRecord:
    sid = new_sid("CA")
    resident = to if direction.startswith("outbound") else from_
    call_log = CallLog(sid, direction, resident, from_ if resident == to else to)
    call = CallRecord(sid, from_, to, direction, call_log, **kw)
    call.log_account = emu.settings.account_sid
    emu.calls[sid] = call
    return call


def start_outbound(emu: Emulator, call: CallRecord) -> None:
    call.runner = emu.spawn(_run_outbound(emu, call), name=f"call-{call.sid}")


def start_inbound(emu: Emulator, resident: str, to: str, script: Script | None) -> CallLog:
    if not emu.settings.voice_url:
        raise RuntimeError("EmulatorSettings.voice_url is not set")
    call = new_call(emu, resident, to, "inbound", script=script, status="ringing")
    call.source = ("url", emu.settings.voice_url, emu.settings.voice_method, ())
    emu.handset(resident).ring(call.log)
    call.runner = emu.spawn(_run_inbound(emu, call), name=f"call-{call.sid}")
    return call.log


async def _run_inbound(emu: Emulator, call: CallRecord) -> None:
    call.start_time = now()
    try:
        # The first request of an inbound call says ringing (§4); the interpreter marks
        # the call in-progress once that request is answered.
        await _converse(emu, call)
        await _finish(emu, call, "completed")
    except asyncio.CancelledError:
        await _on_cancel(emu, call)


async def _run_outbound(emu: Emulator, call: CallRecord) -> None:
    behaviour = emu.behaviour(call.to)
    try:
        await emu.sleep(0.05)  # account queue
        await _progress(emu, call, "initiated")
        await emu.sleep(0.1)
        await _progress(emu, call, "ringing")
        emu.handset(call.to).ring(call.log)
        outcome = behaviour.call_outcome
        if outcome == "busy":
            await emu.sleep(min(behaviour.ring_seconds, 1.0))
            await _finish(emu, call, "busy")
            return
        if outcome == "failed":
            await _finish(emu, call, "failed")
            return
        if outcome == "no-answer" or behaviour.ring_seconds > call.timeout:
            await emu.sleep(call.timeout)
            await _finish(emu, call, "no-answer")
            return
        await emu.sleep(behaviour.ring_seconds)
        call.start_time = now()
        await _progress(emu, call, "in-progress")
        if call.machine_detection:
            await _detect(emu, call)
        await _converse(emu, call)
        await _finish(emu, call, "completed")
    except asyncio.CancelledError:
        await _on_cancel(emu, call)


async def _on_cancel(emu: Emulator, call: CallRecord) -> None:
    """API cancel of an unanswered call ends it; anything else (shutdown) propagates."""
    if call.cancel_as is None:
        raise asyncio.CancelledError
    await _finish(emu, call, call.cancel_as, callback=call.status != "queued")


async def _detect(emu: Emulator, call: CallRecord) -> None:
    behaviour = emu.behaviour(call.to)
    kind = behaviour.answered_by
    answer = MACHINE[call.machine_detection or "Enable"] if kind == "machine" else kind
    seconds = behaviour.amd_seconds
    if seconds > call.machine_detection_timeout:
        answer, seconds = "unknown", call.machine_detection_timeout
    if not call.async_amd:
        await emu.sleep(seconds)  # sync AMD holds the TwiML request until it decides
        call.answered_by = answer
        call.log.answered_by = answer
        return

    async def report() -> None:
        await emu.sleep(seconds)
        call.answered_by = answer
        call.log.answered_by = answer
        if call.async_amd_callback and call.status == "in-progress":
            params = [
                ("AccountSid", emu.settings.account_sid),
                ("AnsweredBy", answer),
                ("CallSid", call.sid),
                ("MachineDetectionDuration", str(int(seconds * 1000))),
            ]
            await emu.post_form(call.async_amd_callback, params, call.async_amd_method)

    emu.spawn(report(), name=f"amd-{call.sid}")


async def _converse(emu: Emulator, call: CallRecord) -> None:
    """TwiML and resident side by side; live updates swap the document (§4 update)."""
    line = Line(call.log, emu.settings.speed)
    behaviour = emu.behaviour(call.resident)
    script = call.script if call.script is not None else behaviour.script
    if call.answered_by not in (None, "human", "unknown"):
        script = None  # an answering machine just records silence
    call.log.status = call.status
    resident = asyncio.create_task(run_script(script, line, behaviour.hangup_after))
    hung_up = asyncio.create_task(line.hung_up.wait())
    source = call.source
    try:
        while source is not None:
            call.replacement = None
            interp = Interpreter(emu, call, line)
            call.interpreter = asyncio.create_task(interp.run(source))
            done, _ = await asyncio.wait(
                {call.interpreter, hung_up}, return_when=asyncio.FIRST_COMPLETED
            )
            if call.interpreter in done:
                if call.interpreter.cancelled():
                    source = call.replacement  # None: hung up through the API
                    continue
                if call.interpreter.exception() is not None:
                    log.error(
                        "voice.interpreter-failed call=%s",
                        call.sid,
                        exc_info=call.interpreter.exception(),
                    )
                return
            call.interpreter.cancel()  # the resident hung up
            await asyncio.gather(call.interpreter, return_exceptions=True)
            return
    finally:
        for task in (resident, hung_up):
            task.cancel()
        await asyncio.gather(resident, hung_up, return_exceptions=True)


async def _progress(emu: Emulator, call: CallRecord, status: str) -> None:
    call.status = status
    call.log.status = status
    call.date_updated = now()
    log.info("call.status sid=%s status=%s", call.sid, status)
    if EVENT_OF.get(status) in call.events:
        await _callback(emu, call, status)


async def _finish(emu: Emulator, call: CallRecord, status: str, callback: bool = True) -> None:
    if call.status in TERMINAL:
        return
    call.end_time = now()
    if call.start_time is not None and status == "completed":
        elapsed = (call.end_time - call.start_time).total_seconds() * emu.settings.speed
        call.duration = round(elapsed)
    else:
        call.duration = 0
    call.status = status
    call.log.status = status
    call.date_updated = now()
    log.info("call.ended sid=%s status=%s duration=%s", call.sid, status, call.duration)
    try:
        if callback and "completed" in call.events:
            await _callback(emu, call, status)
    finally:
        call.log.ended.set()


async def _callback(emu: Emulator, call: CallRecord, status: str) -> None:
    if not call.status_callback:
        return
    params = call.voice_params(status)
    params += [
        ("CallbackSource", "call-progress-events"),
        ("SequenceNumber", str(call.sequence)),
        ("Timestamp", rfc2822(now()) or ""),
    ]
    call.sequence += 1
    if status in TERMINAL:
        params.append(("CallDuration", str(call.duration or 0)))
        params.append(("Duration", str(math.ceil((call.duration or 0) / 60))))
    if call.answered_by and call.async_amd:
        params.append(("AnsweredBy", call.answered_by))
    reply = await emu.post_form(call.status_callback, params, call.status_callback_method)
    log.info("call.callback sid=%s status=%s http=%s", call.sid, status, reply.status)


def update(emu: Emulator, call: CallRecord, status: str | None, source: Source | None) -> None:
    """Live update from the REST API: hang up, cancel, or replace the running TwiML."""
    if call.status in TERMINAL:
        return
    live = call.status == "in-progress"
    if status in ("completed", "canceled"):
        if live and status == "completed":
            call.replacement = None
            if call.interpreter is not None:
                call.interpreter.cancel()
        elif not live and call.runner is not None:
            call.cancel_as = "canceled"
            call.runner.cancel()
        return
    if source is not None:
        if live and call.interpreter is not None:
            call.replacement = source
            call.interpreter.cancel()
        else:
            call.source = source  # not answered yet: the new TwiML runs on answer
