"""The notice lane: telling residents an outcome or an answer, through the dispatch lanes.

The dispatcher's lanes (``outreach/dispatch.py``) run this after their invitations: due
notices of the lane's channels are claimed with a lease, kept to the campaign's call or text
hours, and started at the provider's rate with the same pacing slots as invitations. A text
becomes an outbox row in one transaction with its notice (the sender delivers it once); a
call is marked ``calling`` before the provider is asked, and its stream plays the message
(``voicecall.py``). Chat notices are not sent: the chat page shows them at the next visit.
Before its calls, the voice lane starts the held calls of outcomes whose recording has been
built in since (``holds.sweep``, every :data:`SWEEP_SECONDS`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kanavat import attempts, optouts
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.config import Config
from kanavat.loop import holds, notices, outcomes, suggestions
from kanavat.loop.texts import answer_message, outcome_message
from kanavat.outreach import windows
from kanavat.provider import InvalidNumber, ProviderError
from kanavat.questions.lexicon import texts as system_texts
from kanavat.sender import Sender
from kanavat.sms import render
from kanavat.store import Store, iso

if TYPE_CHECKING:
    from kanavat.outreach.dispatch import Dispatcher

log = logging.getLogger("kanavat.loop.tell")
LEASE = timedelta(minutes=2)
PROVIDER_PAUSE = timedelta(minutes=10)
CHANNELS = {"voice": ("voice",), "sms": ("sms",)}
DEFAULT_MAX_CALLS = 10
WAIT: Any = object()  # a notice left due (no free line): not progress for the lane's loop
SWEEP_SECONDS = 2.0  # how often the voice lane looks for outcome recordings built in


def message_for(config: Config, store: Store, notice: dict[str, Any], channel: str) -> str | None:
    """What a notice says, in its language and channel; None if what it tells is gone."""
    language = notice["language"]
    if notice["kind"] == "outcome":
        outcome = outcomes.get(store, notice["ref_id"])
        return None if outcome is None else outcome_message(config, outcome, language, channel)
    answer = suggestions.answer_text(store, notice["ref_id"])
    return None if not answer else answer_message(config, answer, language, channel)


class NoticeLane:
    def __init__(self, config: Config, store: Store, sender: Sender, ring_seconds: int = 30):
        self.config = config
        self.store = store
        self.sender = sender
        self.provider = sender.provider
        self.ring_seconds = ring_seconds
        self.prompts = holds.library(config)
        self._swept_at: float | None = None

    def start_recorded(self) -> int:
        """Held outcome calls whose recording is now built in become due (at most every
        :data:`SWEEP_SECONDS`); how many."""
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < SWEEP_SECONDS:
            return 0
        self._swept_at = now
        try:
            return holds.sweep(self.config, self.store, self.prompts)
        except Exception:  # a bad manifest or store hiccup: the calls wait, the lane goes on
            log.exception("tell.sweep_failed")
            return 0

    async def run(self, dispatcher: Dispatcher, lane: str, sending: set[asyncio.Task]) -> int:
        """One batch of a lane's due notices, paced by ``dispatcher``; how many were dealt
        with (not those left for a free line). Provider requests stay in flight in ``sending``."""
        channels = CHANNELS.get(lane, ())
        if not channels:
            return 0
        if lane == "voice":
            self.start_recorded()
        rows = notices.claim(self.store, channels, LEASE, dispatcher.batch)
        dealt = 0
        for row in rows:
            if dispatcher.stopping:
                notices.release(self.store, row["id"])
                continue
            try:
                send = await self._start(dispatcher, row)
            except Exception:
                log.exception("tell.failed notice=%s", row["id"])
                continue
            if send is WAIT:
                continue
            dealt += 1
            if send is not None:
                task = asyncio.create_task(self._guarded(row["id"], send))
                sending.add(task)
                task.add_done_callback(sending.discard)
        return dealt

    @staticmethod
    async def _guarded(notice_id: int, send: Awaitable[Any]) -> None:
        try:
            await send
        except Exception:
            log.exception("tell.failed notice=%s", notice_id)

    async def _start(self, dispatcher: Dispatcher, row: dict[str, Any]) -> Awaitable[Any] | None:
        store, channel = self.store, row["channel"]
        phone = row["to_number"]
        if not phone:
            notices.skip(store, row["id"], "erased")
            return None
        if optouts.is_opted_out(store, phone):
            notices.skip(store, row["id"], "opted_out")
            return None
        campaign = row["campaign_id"] or ""
        now = store.clock()
        opening = windows.next_opening(self.config, campaign, channel, now)
        if opening != now:
            notices.postpone(store, row["id"], iso(opening))
            return None
        text = message_for(self.config, store, row, channel)
        if text is None:
            notices.fail(store, row["id"], "nothing_to_tell")
            return None
        if channel == "sms":
            return await self._text(dispatcher, row, phone, text)
        busy = row["contact_id"] is not None and attempts.has_live(store, row["contact_id"])
        if busy or not self._line_free():
            notices.release(store, row["id"])  # stays due: one live call per person, free lines
            return WAIT
        await dispatcher.pace("voice", campaign)
        if not notices.calling(store, row["id"]):
            return None
        return self._call(row, phone)

    async def _text(
        self, dispatcher: Dispatcher, row: dict[str, Any], phone: str, text: str
    ) -> Awaitable[Any]:
        if row["kind"] == "outcome":
            text = f"{text}\n{system_texts(row['language'])['sms']['stop_hint']}"
        await dispatcher.pace("sms", row["campaign_id"] or "", render.segments(text))
        message = Outgoing(
            "sms",
            text,
            row["kind"],
            to=phone,
            campaign_id=row["campaign_id"],
            contact_id=row["contact_id"],
            segments=render.segments(text),
        )
        with self.store.transaction():
            ids = attempts.enqueue(self.store, [message], status=OutboundStatus.PENDING)
            notices.queued(self.store, row["id"], ids[0])
        log.info("tell.sms notice=%s kind=%s outbound=%s", row["id"], row["kind"], ids[0])
        return self.sender.deliver(ids)

    def _line_free(self) -> bool:
        live = sum(attempts.live_calls_by_campaign(self.store).values())
        county = self.config.county.max_concurrent_calls or DEFAULT_MAX_CALLS
        return live + notices.live_calls(self.store) < county

    async def _call(self, row: dict[str, Any], phone: str) -> None:
        public = self.config.server.public_url
        try:
            result = await self.provider.place_call(
                phone,
                f"{public}/twilio/voice?notice={row['id']}",
                f"{public}/twilio/voice/status",
                machine_detection="DetectMessageEnd",
                timeout=self.ring_seconds,
            )
        except InvalidNumber as exc:
            notices.fail(self.store, row["id"], f"invalid_number:{exc.code}")
            return
        except ProviderError as exc:
            notices.again_soon(self.store, row["id"], f"provider:{exc.code}", PROVIDER_PAUSE)
            return
        notices.call_placed(self.store, row["id"], result.sid)
        log.info("tell.call notice=%s kind=%s", row["id"], row["kind"])

    async def recover(self) -> None:
        """When this process takes the lead (at start-up, or after a leader died): notices the
        last leader left ``calling``. A call the provider has (and
        nothing here knows) is adopted, its status asked; one it never got is due again."""
        notices.release_all(self.store)
        for row in notices.stranded_calls(self.store):
            try:
                if row["call_sid"]:
                    call = await self.provider.fetch_call(row["call_sid"])
                    if call.status in attempts.FINAL_CALL:
                        notices.call_not_told(self.store, row["id"], call.status)
                    continue
                if not row["to_number"]:
                    notices.skip(self.store, row["id"], "erased")
                    continue
                for sid in await self.provider.calls_to(row["to_number"]):
                    known = attempts.attempt_by_sid(self.store, sid) or notices.by_call(
                        self.store, sid
                    )
                    if known is None:
                        notices.call_placed(self.store, row["id"], sid)
                        break
                else:
                    notices.again_soon(self.store, row["id"], "never_placed", timedelta(0))
            except ProviderError:
                continue  # the provider is unreachable: left for the next start
