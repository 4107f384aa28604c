"""One phone call over a bidirectional Media Streams websocket.

Twilio's frames become typed inputs at the edge (audio, keypad digit, mark, stop); prompts go
out as 8 kHz mu-law media followed by a mark, and Twilio echoes the mark when the audio has
played. Time is counted in received audio frames (20 ms each), not on the wall clock: Twilio
streams the caller's line continuously, so "6 s of silence" is 300 frames whatever the load.

The dialog itself is the engine's, through ``Conversations``; this module only knows the wire,
the audio and the keypad conventions (``*`` repeats, ``0`` helps, digits end with ``#``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from kanavat import attempts
from kanavat.appkeys import AUTH_TOKEN, CONFIG, CONVERSATIONS, STORE, TURNS, WEBSOCKETS
from kanavat.conversation import recordings as statement_recordings
from kanavat.conversation.questionnaire import OWN as OWN_STATEMENT
from kanavat.conversations import Conversations, Turn
from kanavat.loop.voicecall import MODES as LOOP_MODES
from kanavat.loop.voicecall import LoopCall
from kanavat.questions.dialog import Part, Prompt, system_parts
from kanavat.questions.normalise import Input
from kanavat.turn.message import Message
from kanavat.voice.audio import ulaw_decode, ulaw_silence
from kanavat.voice.recognise import (
    Recogniser,
    SpeechStarted,
    Transcript,
    confirm_threshold,
    spoken,
)
from kanavat.voice.routes import stream_token

log = logging.getLogger("kanavat.voice")
routes = web.RouteTableDef()

FRAME_S = 0.02
FEED_FRAMES = 5  # decode 100 ms at a time: barge-in stays quick, thread hops stay few
DIGIT_GAP_FRAMES = 200  # 4 s after the last digit of a number ends it, as if '#' was pressed
MAX_ANSWER_FRAMES = {"closed": 15 * 50, "free": 60 * 50}
MAX_WS_MESSAGE = 64 * 1024
CHUNK_BYTES = 8000  # one second of audio per media message
VOICE_KEYS = web.AppKey("voice_services", object)


class StreamError(Exception):
    """The stream broke the protocol; it is closed and the reason logged."""


def _object(frame: dict[str, Any], name: str) -> dict[str, Any]:
    """A frame's sub-object; anything else where one belongs breaks the protocol."""
    value = frame.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StreamError(f"'{name}' is not an object")
    return value


@dataclass
class VoiceServices:
    engines: Any  # kanavat.voice.engines.SpeechEngines | None
    prompts: Any  # kanavat.voice.prompts.PromptLibrary


@dataclass
class Listening:
    prompt: Prompt | None = None
    recogniser: Recogniser | None = None
    frames: int = 0
    speaking: bool = False  # the caller is speaking (speech started, no transcript yet)
    speech_frames: int = 0
    digits: str = ""
    digit_frames: int = 0
    pcm: list[np.ndarray] = field(default_factory=list)
    own_audio: bytearray | None = None  # a conversation statement's audio, if it is to be kept


class Call:
    def __init__(self, ws: web.WebSocketResponse, app: web.Application):
        self.ws = ws
        self.app = app
        self.config = app[CONFIG]
        self.store = app[STORE]
        self.conversations: Conversations = app[CONVERSATIONS]
        self.services: VoiceServices = app[VOICE_KEYS]  # type: ignore[assignment]
        self.stream_sid = ""
        self.call_sid = ""
        self.mode = "unknown"
        self.attempt_id: int | None = None
        self.session_id: int | None = None
        self.campaign_id: str | None = None
        self.language = self.config.default_language
        self.engine: Any = None
        self.listen_frames = 300
        self.playing: str | None = None  # the mark that ends what is playing
        self.marks_sent = 0
        self.hang_up_after_playing = False
        self.listening = Listening()
        self.finished = False
        self.answers = 0  # this call's turns, for their idempotency keys
        self.loop: LoopCall | None = None  # an outcome told, or a suggestion said (issue 23)

    # -- wire in ---------------------------------------------------------------------------

    async def run(self) -> None:
        started = False
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                raise StreamError("binary frame")
            try:
                frame = json.loads(msg.data)
            except ValueError:
                raise StreamError("bad JSON") from None
            if not isinstance(frame, dict):
                raise StreamError("frame is not an object")
            event = frame.get("event")
            if event == "connected":
                continue
            if event == "start":
                if started:
                    raise StreamError("second start")
                started = True
                await self.start(_object(frame, "start"))
            elif not started:
                raise StreamError(f"'{event}' before start")
            elif event == "media":
                await self.media(_object(frame, "media"))
            elif event == "dtmf":
                await self.dtmf(str(_object(frame, "dtmf").get("digit", "")))
            elif event == "mark":
                await self.mark(str(_object(frame, "mark").get("name", "")))
            elif event == "stop":
                break
            else:
                raise StreamError(f"unknown event '{event}'")
            if self.finished:
                break

    async def start(self, start: dict[str, Any]) -> None:
        params = _object(start, "customParameters")
        self.stream_sid = str(start.get("streamSid") or "")
        self.call_sid = str(start.get("callSid") or "")
        mode = str(params.get("mode", ""))
        attempt = str(params.get("attempt", ""))
        expected = stream_token(self.app[AUTH_TOKEN], self.call_sid, mode, attempt)
        if not hmac.compare_digest(expected, str(params.get("token", ""))):
            raise StreamError("bad stream token")
        self.mode = mode
        log.info("voice.stream.start call=%s mode=%s", self.call_sid, mode)
        if mode in LOOP_MODES:
            self.loop = LoopCall(self)
            await self.loop.start(mode, attempt)
            return
        if mode in ("machine", "unknown", "fax"):
            if mode == "fax":
                self.finished = True
                return
            key = "voice.machine" if mode == "machine" else "voice.unknown_caller"
            if mode == "machine":
                self._set_attempt_language(attempt)
            await self.play([self._system_prompt(key)], hang_up=True)
            return
        row = attempts.with_contact(self.store, attempt)
        if row is None:
            raise StreamError("unknown attempt")
        if row["status"] in attempts.FINAL_CALL:
            raise StreamError("finished attempt")
        self.attempt_id, self.campaign_id = row["id"], row["campaign_id"]
        campaign = self.config.campaign(row["campaign_id"])
        self.listen_frames = int(campaign.listen_timeout / FRAME_S)
        turn = self.conversations.begin(
            row["campaign_id"], "voice", row["language"], contact_id=row["contact_id"]
        )
        self.session_id = turn.session_id
        self.language = turn.language
        engines = self.services.engines
        self.engine = engines.engine_for(self.language) if engines else None
        if self.engine is None:
            log.info("voice.keypad_only call=%s lang=%s", self.call_sid, self.language)
        await self.deliver(turn)

    async def media(self, media: dict[str, Any]) -> None:
        payload = media.get("payload")
        if not isinstance(payload, str):
            raise StreamError("media without payload")
        try:
            ulaw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise StreamError("bad base64") from None
        if self.loop is not None:
            self.loop.caller_audio(ulaw)
        listening = self.listening
        own = listening.own_audio
        if own is not None and (self.playing is None or listening.speaking):
            own += ulaw[: max(0, statement_recordings.MAX_BYTES - len(own))]
        if listening.recogniser is not None:
            listening.pcm.append(ulaw_decode(ulaw))
            if len(listening.pcm) >= FEED_FRAMES:
                pcm = np.concatenate(listening.pcm)
                listening.pcm = []
                events = await self.services.engines.run(listening.recogniser.feed, pcm)
                for event in events:
                    if isinstance(event, SpeechStarted):
                        await self.barge_in()
                        listening.speaking = True
                    elif isinstance(event, Transcript) and event.text.strip():
                        await self.heard(event)
                        return
        if self.playing is not None or listening.prompt is None:
            return
        listening.frames += 1
        if listening.speaking:
            listening.speech_frames += 1
            limit = MAX_ANSWER_FRAMES["free" if listening.prompt.free_text else "closed"]
            if listening.speech_frames >= limit:
                await self.end_of_answer()
            return
        if listening.digits:
            listening.digit_frames += 1
            if listening.digit_frames >= DIGIT_GAP_FRAMES:
                await self.answer(Input("keypad", listening.digits + "#"))
            return
        if listening.frames >= self.listen_frames:
            await self.end_of_answer()

    async def end_of_answer(self) -> None:
        """Silence until the timeout (or an over-long answer): take what was heard, if anything."""
        recogniser = self.listening.recogniser
        final = (
            await self.services.engines.run(recogniser.finish) if recogniser is not None else None
        )
        if final is not None and final.text.strip():
            await self.heard(final)
        else:
            await self.answer(Input("timeout", ""))

    async def dtmf(self, digit: str) -> None:
        if len(digit) != 1 or digit not in "0123456789*#":
            raise StreamError("bad dtmf digit")
        await self.barge_in()
        prompt = self.listening.prompt
        if prompt is None:
            return
        listening = self.listening
        if prompt.keypad == "digits" and (listening.digits or digit not in "*0#"):
            listening.digits += digit
            listening.digit_frames = 0
            if digit == "#":
                await self.answer(Input("keypad", listening.digits))
            return
        await self.answer(Input("keypad", digit))

    async def mark(self, name: str) -> None:
        if name != self.playing:
            return  # an older mark, returned by a clear
        self.playing = None
        self.listening.frames = 0
        if self.loop is not None:
            self.loop.marked(name)
        if self.hang_up_after_playing:
            self.finished = True

    # -- dialog ----------------------------------------------------------------------------

    async def heard(self, transcript: Transcript) -> None:
        await self.answer(spoken(transcript, self._confirm_below()))

    async def answer(self, given: Input) -> None:
        if self.loop is not None:
            await self.loop.answer(given)
            return
        if self.session_id is None:
            return
        self.answers += 1
        own_audio, self.listening.own_audio = self.listening.own_audio, None
        message = Message(
            "voice",
            "turn",
            f"{self.call_sid}:{self.session_id}:{self.answers}",
            action=given.kind,
            text=given.raw,
            session_id=self.session_id,
            confidence=given.confidence,
            alternatives=given.alternatives,
            confirm_below=self._confirm_below(),
        )
        reply = self.app[TURNS].take(message)
        if own_audio and given.kind == "speech" and self.campaign_id is not None:
            await self._keep_statement_audio(given.raw, bytes(own_audio))
        turn = reply.turn or self.conversations.current(self.session_id)
        log.info("voice.turn call=%s event=%s kind=%s", self.call_sid, turn.event, given.kind)
        await self.deliver(turn)

    async def _keep_statement_audio(self, text: str, ulaw: bytes) -> None:
        """With ``store_recordings`` on, a statement said by voice keeps its audio; a disk that
        fails loses the audio, never the statement (stored already)."""
        assert self.campaign_id is not None
        try:
            await asyncio.to_thread(
                statement_recordings.keep, self.config, self.store, self.campaign_id, text, ulaw
            )
        except (OSError, RuntimeError):
            log.exception("voice.statement_recording.failed call=%s", self.call_sid)

    async def deliver(self, turn: Turn) -> None:
        await self.play(list(turn.prompts), hang_up=turn.done)

    async def barge_in(self) -> None:
        """The caller speaks or presses a key during a prompt: stop the prompt and listen."""
        if self.playing is not None:
            await self.send({"event": "clear", "streamSid": self.stream_sid})
            log.info("voice.barge_in call=%s", self.call_sid)

    async def play(self, prompts: list[Prompt], hang_up: bool = False) -> None:
        audio = bytearray()
        for prompt in prompts:
            for part in prompt.parts:
                audio += await self.services.prompts.audio_async(self.language, part)
            audio += ulaw_silence(250)
        for start in range(0, len(audio), CHUNK_BYTES):
            chunk = bytes(audio[start : start + CHUNK_BYTES])
            await self.send(
                {
                    "event": "media",
                    "streamSid": self.stream_sid,
                    "media": {"payload": base64.b64encode(chunk).decode()},
                }
            )
        self.marks_sent += 1
        last = prompts[-1].key if prompts else "silence"
        self.playing = f"{last}" if self.marks_sent == 1 else f"{last}~{self.marks_sent}"
        await self.send(
            {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": self.playing}}
        )
        self.hang_up_after_playing = hang_up
        expecting = next((p for p in reversed(prompts) if p.expects != "none"), None)
        self.stop_listening()
        self.listening = Listening(prompt=None if hang_up else expecting)
        if (
            expecting is not None
            and not hang_up
            and expecting.question_id == OWN_STATEMENT
            and statement_recordings.wanted(self.config)
        ):
            self.listening.own_audio = bytearray()  # never buffered otherwise
        if expecting is not None and not hang_up and self.engine is not None:
            expected = None if expecting.free_text else list(expecting.listen_for)
            self.listening.recogniser = self.engine.recogniser(expected)

    def stop_listening(self) -> None:
        """The current answer's recogniser is done with: let it drop work started early."""
        if self.listening.recogniser is not None:
            self.listening.recogniser.close()
            self.listening.recogniser = None

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a frame; a caller who has hung up meanwhile just ends the call."""
        if self.ws.closed:
            self.finished = True
            return
        try:
            await self.ws.send_str(json.dumps(frame))
        except ConnectionError:
            self.finished = True

    def _confirm_below(self) -> float:
        speech = self.config.speech.get(self.language)
        questionnaire = (
            self.config.questionnaire_of(self.campaign_id).confirm_below
            if self.campaign_id
            else 0.6
        )
        return confirm_threshold(
            speech.confirm_below if speech else None, self.engine, questionnaire
        )

    def _system_prompt(self, key: str) -> Prompt:
        part = next(p for p in system_parts(self.language) if p.key == key)
        return Prompt(key, part.text, (Part(part.key, part.text),))

    def _set_attempt_language(self, attempt: str) -> None:
        row = attempts.with_contact(self.store, attempt)
        if row:
            self.language = row["language"]

    def hung_up(self) -> None:
        """The call ended; what was answered is kept either way. A resident who said "lopeta"
        has already stopped the session (a break-off). A call that ended otherwise with the
        questionnaire unfinished (the line dropped, the phone was put down, the server went
        down) is retried after the campaign's backoff and resumes where it stopped."""
        if self.session_id is None:
            return
        session = self.conversations.session(self.session_id)
        if session["status"] == "active" and session["contact_id"] is not None:
            from kanavat.outreach import outcomes

            outcomes.retry_or_give_up(
                self.store, self.config, session["campaign_id"], session["contact_id"], "dropped"
            )
            log.info("voice.hangup.mid_questionnaire call=%s", self.call_sid)


@routes.get("/twilio/voice/stream")
async def stream(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=30)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    call = Call(ws, request.app)
    try:
        await call.run()
    except StreamError as exc:
        log.warning("voice.stream.closed call=%s reason=%s", call.call_sid or "-", exc)
    except Exception:
        log.exception("voice.stream.failed call=%s", call.call_sid or "-")
    finally:
        request.app[WEBSOCKETS].discard(ws)
        call.stop_listening()
        try:
            call.hung_up()
        except Exception:
            log.exception("voice.stream.cleanup_failed call=%s", call.call_sid or "-")
        if not ws.closed:
            await ws.close()
    return ws
