"""Runs the voice TwiML the server returns, as a caller's phone would experience it.

Supported: Say, Play, Pause, Hangup, Reject, Redirect, Gather (dtmf and speech, nested
prompts, barge-in by the first input) and ``<Connect><Stream>``. After a stream's socket
closes the ``<Connect action>`` is requested, else the next verb runs, else the call ends
(twilio-protocol.md §5). A failed or non-TwiML reply ends the call as Twilio's "application
error" does, recorded as an ``application-error`` event in the call log.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import aiohttp

from .stream import MediaStream

if TYPE_CHECKING:
    from .calls import CallRecord
    from .core import Emulator
    from .line import Line

log = logging.getLogger("kanavat.emulator.twiml")

# ("url", url, method, extra params) or ("twiml", document)
Source = tuple[str, str, str, tuple[tuple[str, str], ...]] | tuple[str, str]
SECONDS_PER_CHAR = 0.06  # rough speaking rate for <Say>, emulated seconds
PLAY_SECONDS = 2.0  # nominal length of a <Play> file the emulator does not download


class _End(Exception):
    """The document hung up."""


class Interpreter:
    def __init__(self, emu: Emulator, call: CallRecord, line: Line) -> None:
        self.emu = emu
        self.call = call
        self.line = line

    async def run(self, source: Source) -> None:
        current: Source | None = source
        while current is not None:
            fetched = await self._fetch(current)
            if fetched is None:
                return
            doc_url, text = fetched
            try:
                current = await self._execute(doc_url, text)
            except _End:
                return

    async def _fetch(self, source: Source) -> tuple[str | None, str] | None:
        if source[0] == "twiml":
            return None, source[1]
        _, url, method, extra = source  # type: ignore[misc]
        params = [*self.call.voice_params(), *extra]
        reply = await self.emu.post_form(url, params, method)
        if self.call.status == "ringing":  # inbound: live once the first TwiML is served
            self.call.status = self.line.log.status = "in-progress"
        if not 200 <= reply.status < 300:
            self._app_error(f"http {reply.status}")
            return None
        return url, reply.text

    def _app_error(self, reason: str) -> None:
        log.warning("voice.application-error call=%s reason=%s", self.call.sid, reason)
        self.line.log.event("application-error", reason)

    async def _execute(self, doc_url: str | None, text: str) -> Source | None:
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            self._app_error("invalid twiml")
            raise _End from None
        if root.tag != "Response":
            self._app_error(f"root {root.tag}")
            raise _End
        for verb in root:
            nxt = await self._verb(verb, doc_url)
            if nxt is not None:
                return nxt
        return None

    async def _verb(self, el: ET.Element, doc_url: str | None) -> Source | None:
        tag = el.tag
        if tag in ("Say", "Play", "Pause"):
            await self._prompt(el)
        elif tag in ("Hangup", "Reject"):
            self.line.log.event(tag.lower())
            raise _End
        elif tag == "Redirect":
            target = _resolve(doc_url, (el.text or "").strip())
            if target is None:
                self._app_error("relative redirect without document url")
                raise _End
            return ("url", target, el.get("method", "POST"), ())
        elif tag == "Gather":
            return await self._gather(el, doc_url)
        elif tag == "Connect":
            return await self._connect(el, doc_url)
        else:
            log.warning("voice.verb-unsupported call=%s verb=%s", self.call.sid, tag)
            self.line.log.event("unsupported", tag)
        return None

    async def _prompt(self, el: ET.Element) -> None:
        loops = max(1, int(el.get("loop") or 1))
        log_ = self.line.log
        if el.tag == "Say":
            text = (el.text or "").strip()
            for _ in range(loops):
                log_.said.append(text)
                log_.event("say", {"text": text, "language": el.get("language")})
                await self.line.sleep(max(0.5, len(text) * SECONDS_PER_CHAR))
        elif el.tag == "Play":
            url = (el.text or "").strip()
            for _ in range(loops):
                log_.played.append(url)
                log_.event("play", url)
                await self.line.sleep(PLAY_SECONDS)
        else:
            log_.event("pause", el.get("length", "1"))
            await self.line.sleep(float(el.get("length") or 1))

    async def _gather(self, el: ET.Element, doc_url: str | None) -> Source | None:
        modes = set((el.get("input") or "dtmf").split())
        num_digits = int(el.get("numDigits") or 0)
        timeout = float(el.get("timeout") or 5) / self.line.speed
        finish = el.get("finishOnKey", "#")
        self.line.log.event("gather", {"input": sorted(modes), "numDigits": num_digits})

        async def prompts() -> None:
            for child in el:
                if child.tag in ("Say", "Play", "Pause"):
                    await self._prompt(child)

        playing = asyncio.create_task(prompts())
        first = asyncio.create_task(self.line.inputs.get())
        done, _ = await asyncio.wait({playing, first}, return_when=asyncio.FIRST_COMPLETED)
        item: tuple[str, str] | None = None
        if first in done:
            playing.cancel()  # barge-in: the first key or word stops the prompt
            item = first.result()
        else:
            try:
                item = await asyncio.wait_for(first, timeout)
            except TimeoutError:
                item = None
        await asyncio.gather(playing, return_exceptions=True)

        digits, speech, finished_on = "", None, ""
        while item is not None:
            kind, value = item
            if kind == "speech" and "speech" in modes:
                speech = value
                break
            if kind == "digit" and "dtmf" in modes:
                if finish and value == finish:
                    finished_on = value
                    break
                digits += value
                if num_digits and len(digits) >= num_digits:
                    break
            try:
                item = await asyncio.wait_for(self.line.inputs.get(), timeout)
            except TimeoutError:
                item = None

        extra: tuple[tuple[str, str], ...]
        if speech is not None:
            extra = (("SpeechResult", speech), ("Confidence", "0.9"))
        elif digits or finished_on:
            extra = (("Digits", digits), ("FinishedOnKey", finished_on))
        elif el.get("actionOnEmptyResult") == "true":
            extra = ()
        else:
            return None  # no input: Twilio continues with the next verb
        action = _resolve(doc_url, el.get("action") or "")
        if action is None:
            return None
        return ("url", action, el.get("method", "POST"), extra)

    async def _connect(self, el: ET.Element, doc_url: str | None) -> Source | None:
        stream_el = el.find("Stream")
        if stream_el is None or not stream_el.get("url"):
            log.warning("voice.connect-without-stream call=%s", self.call.sid)
            return None
        params = {p.get("name", ""): p.get("value", "") for p in stream_el.findall("Parameter")}
        stream = MediaStream(self.emu, self.line, self.call.sid, stream_el.get("url", ""), params)
        try:
            await stream.run()
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("voice.stream-failed call=%s error=%s", self.call.sid, type(exc).__name__)
            self.line.log.event("stream-error", type(exc).__name__)
        action = el.get("action")
        if action:
            target = _resolve(doc_url, action)
            if target is not None:
                return ("url", target, el.get("method", "POST"), ())
        return None


def _resolve(doc_url: str | None, target: str) -> str | None:
    """Relative TwiML URLs resolve against the document's URL; inline TwiML has none."""
    if target.startswith(("http://", "https://")):
        return target
    if not doc_url:
        return None
    return urljoin(doc_url, target) if target else doc_url
