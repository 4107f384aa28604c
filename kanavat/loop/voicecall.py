"""The two calls of closing the loop, on the same Media Streams socket as a survey call.

- ``notice``: an outbound call that plays an outcome (or the answer to a suggestion) from its
  recording, ``voices/<lang>/outcome.<id>.wav`` (an espeak-ng placeholder until recorded, as
  questionnaire prompts are). Keypad 1 plays it again; silence or another key says goodbye.
  The notice is told once the message has played to its end.
- ``suggestion``: a resident with no survey open calls the county's number and says a
  suggestion; it is transcribed locally with the configured recogniser, recorded through the
  turn entry, and acknowledged at once. Its audio is kept only with ``[privacy]
  store_recordings`` on (``recordings.py``); otherwise it is never even buffered.

``Call`` (``kanavat/voice/stream.py``) hands these modes to :class:`LoopCall`; the wire, the
audio and barge-in stay the stream's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kanavat import contacts, inbound
from kanavat.appkeys import TURNS
from kanavat.loop import notices, recordings, suggestions
from kanavat.loop.tell import message_for
from kanavat.loop.texts import call_part
from kanavat.questions.dialog import Part, Prompt
from kanavat.questions.normalise import Input
from kanavat.turn.message import Message

if TYPE_CHECKING:
    from kanavat.voice.stream import Call

log = logging.getLogger("kanavat.loop.voice")
MODES = ("notice", "suggestion")
SUGGESTION_LISTEN_S = 10.0  # seconds of silence before a caller who says nothing is let go
REPEAT_KEY = "1"


def twiml_params(store: Any, notice: str, call_sid: str, answered_by: str) -> dict[str, str]:
    """The stream parameters of a notice call's TwiML request (a machine hears nothing)."""
    row = notices.get(store, int(notice)) if notice.isdigit() else None
    if row is None or row["call_sid"] not in (None, call_sid):
        return {"mode": "unknown"}
    notices.call_placed(store, row["id"], call_sid)
    if answered_by.startswith("machine") or answered_by == "fax":
        return {"mode": "fax" if answered_by == "fax" else "machine"}
    return {"mode": "notice", "attempt": str(row["id"])}


def call_status(store: Any, call_sid: str, status: str, machine: bool) -> bool:
    """A notice call's status callback; False if the call is no notice's. A call that ended
    without the message played to its end is tried again later."""
    row = notices.by_call(store, call_sid)
    if row is None:
        return False
    final = status in ("completed", "busy", "no-answer", "failed", "canceled")
    if final and row["status"] == notices.CALLING:
        notices.call_not_told(store, row["id"], "machine" if machine else status)
    return True


class LoopCall:
    def __init__(self, call: Call):
        self.call = call
        self.store = call.store
        self.config = call.config
        self.notice: dict[str, Any] | None = None
        self.message: Prompt | None = None
        self.phone: str | None = None
        self.event_id: int | None = None
        self.audio: bytearray | None = None  # the caller's mu-law, if recordings are kept
        self.done = False

    async def start(self, mode: str, attempt: str) -> None:
        if mode == "notice":
            await self._start_notice(attempt)
        else:
            await self._start_suggestion(attempt)

    # -- an outcome or an answer, played -----------------------------------------------------

    async def _start_notice(self, attempt: str) -> None:
        from kanavat.voice.stream import StreamError

        row = notices.get(self.store, int(attempt)) if attempt.isdigit() else None
        if row is None or row["status"] != notices.CALLING:
            raise StreamError("no notice to tell")
        self.notice = row
        self.call.language = row["language"]
        text = message_for(self.config, self.store, row, "voice")
        if text is None:
            raise StreamError("nothing to tell")
        hint = call_part(self.config, row["language"], "loop.repeat_hint")
        key = f"{row['kind']}.{row['ref_id']}"  # outcome.<id>: its recording's name
        self.message = Prompt(key, text, (Part(key, text), hint), expects="answer", keypad="single")
        await self.call.play([self.message])

    def marked(self, name: str) -> None:
        """A mark came back: the message played to its end (a replay's mark is ``key~n``)."""
        if self.notice is None or self.message is None or self.done:
            return
        if name.split("~")[0] == self.message.key and notices.told(self.store, self.notice["id"]):
            log.info("loop.voice.told notice=%s", self.notice["id"])

    # -- a suggestion, said -----------------------------------------------------------------

    async def _start_suggestion(self, attempt: str) -> None:
        from kanavat.voice.stream import FRAME_S, StreamError

        event = inbound.get(self.store, int(attempt)) if attempt.isdigit() else None
        if event is None:
            raise StreamError("unknown suggestion call")
        self.event_id = event.id
        self.audio = bytearray() if recordings.wanted(self.config) else None
        self.phone = (event.payload or {}).get("From")
        contact = contacts.by_phone(self.store, self.phone) if self.phone else None
        self.call.language = contact["language"] if contact else self.config.default_language
        engines = self.call.services.engines
        self.call.engine = engines.engine_for(self.call.language) if engines else None
        self.call.listen_frames = int(SUGGESTION_LISTEN_S / FRAME_S)
        intro = call_part(self.config, self.call.language, "loop.suggestion_intro")
        prompt = Prompt(
            intro.key, intro.text, (intro,), expects="answer", keypad="single", free_text=True
        )
        await self.call.play([prompt])

    # -- what the caller does ---------------------------------------------------------------

    async def answer(self, given: Input) -> None:
        if self.done:
            return
        if self.notice is not None:
            if given.kind == "keypad" and given.raw.startswith(REPEAT_KEY) and self.message:
                await self.call.play([self.message])
                return
            await self._goodbye("loop.goodbye")
            return
        await self._suggested(given)

    async def _suggested(self, given: Input) -> None:
        text = given.raw.strip() if given.kind == "speech" else ""
        if given.kind == "keypad" and self.call.listening.recogniser is not None:
            final = await self.call.services.engines.run(self.call.listening.recogniser.finish)
            text = final.text.strip() if final is not None else ""
        if not text:
            await self._goodbye("loop.suggestion_nothing")
            return
        message = Message(
            "voice",
            "suggestion",
            f"{self.call.call_sid}:suggestion",
            action="speech",
            text=text,
            phone=self.phone,
            language=self.call.language,
            confidence=given.confidence,
        )
        reply = self.call.app[TURNS].take(message)
        await self._keep_audio(reply.event_id)
        if self.event_id is not None:
            inbound.finish(self.store, self.event_id, "suggestion")
        await self._goodbye("loop.suggestion_thanks")

    def caller_audio(self, ulaw: bytes) -> None:
        """A media frame from the caller (the stream hands every one over)."""
        if self.audio is not None and not self.done and len(self.audio) < recordings.MAX_BYTES:
            self.audio += ulaw

    async def _keep_audio(self, event_id: int) -> None:
        """With ``store_recordings`` on, the suggestion's audio beside it; a disk that fails
        loses the audio, never the suggestion (recorded already)."""
        heard, self.audio = self.audio, None
        suggestion_id = suggestions.by_event(self.store, event_id) if heard else None
        if not heard or suggestion_id is None:
            return
        try:
            await asyncio.to_thread(recordings.keep, self.config, suggestion_id, bytes(heard))
        except (OSError, RuntimeError):
            log.exception("loop.recording.failed suggestion=%s", suggestion_id)

    async def _goodbye(self, key: str) -> None:
        self.done = True
        part = call_part(self.config, self.call.language, key)
        await self.call.play([Prompt(key, part.text, (part,))], hang_up=True)

    def hung_up(self) -> None:
        """The caller put the phone down: a notice not yet heard is tried again later."""
        if self.notice is not None:
            notices.call_not_told(self.store, self.notice["id"], "hung_up")
