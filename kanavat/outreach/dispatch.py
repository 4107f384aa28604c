"""The dispatcher: picks due contacts from the store and starts their conversations.

The store is the queue. A contact is claimed with a lease (``lease_until``) in one
transaction; its attempt row is written, in one transaction with taking the contact off the
queue, before the provider is called. So a restart never contacts anyone twice for the same
step (an attempt left in ``sending`` is reconciled against the provider, see ``reconcile``)
and never loses a due contact (an unused lease simply expires).

Calls and texts go out in separate lanes (``LANES``) that claim and pace on their own, so a
voice campaign's calls never wait behind another campaign's invitations. Within a lane,
contacts start one after another at the provider's rate (per campaign, the county's by
default) and their provider requests are in flight together, so the rate is kept however
long the provider takes to answer. A contact leased in one lane is not claimed by the other:
at most one live attempt per person.

Politeness is decided here, per campaign: call and text windows in the county's time zone
(a contact due outside them waits for the next opening), Finnish holidays, the concurrent
call limit, the provider's rate, opt-outs, residents already reached by the same
questionnaire in another campaign, and at most one live attempt per contact.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kanavat import attempts, durations, locks, optouts
from kanavat.attempts import AttemptStatus as S
from kanavat.config import Config
from kanavat.conversations import Conversations
from kanavat.outreach import outcomes, queue, windows
from kanavat.provider import InvalidNumber, OptedOut, ProviderError
from kanavat.questions.dialog import Part, Prompt
from kanavat.questions.lexicon import texts
from kanavat.sms import render
from kanavat.sms.send import SmsSender
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outreach.dispatch")
LEASE = timedelta(minutes=2)
SMS_RETRY = timedelta(minutes=10)  # a provider hiccup: the same step again, soon
DEFAULT_REMINDER_AFTER = "1d"
DEFAULT_RATE = {"voice": 1.0, "sms": 5.0}
DEFAULT_MAX_CALLS = 10
CATCH_UP = 0.5  # seconds of lateness the pace makes up for (a burst of at most this long)
LANES: dict[str, tuple[str, ...]] = {"voice": ("voice",), "sms": ("sms", "chat")}
"""Dispatch lanes and the channel steps each claims (a chat step is only moved past)."""
LANE_OF = {channel: lane for lane, channels in LANES.items() for channel in channels}


@dataclass
class Due:
    campaign_id: str
    contact_id: int
    phone: str
    language: str
    channel: str
    lease: str = ""


class Dispatcher:
    def __init__(
        self,
        config: Config,
        store: Store,
        conversations: Conversations,
        sms: SmsSender,
        batch: int = 50,
        ring_seconds: int = 30,
    ):
        self.config = config
        self.provider = sms.provider
        self.ring_seconds = ring_seconds
        self._next_slot: dict[str, float] = {}
        self.store = store
        self.conversations = conversations
        self.sms = sms
        self.batch = batch
        self.stopping = False  # set on shutdown: finish the contact in hand, start no other
        self.notices: Any = None  # kanavat.loop.tell.NoticeLane: outcomes and answers to tell

    # -- the queue -------------------------------------------------------------------------

    def claim(self, lane: str | None = None) -> list[Due]:
        """Lease a batch of due contacts of running campaigns that may be contacted now, of
        one lane (``LANES``) or, with None, of any."""
        now = self.store.clock()
        lease = iso(now + LEASE)
        steps = None if lane is None else self._steps(lane)
        with self.store.transaction(locks.CLAIMS):
            rows = queue.due(self.store, iso(now), self.batch * 4, attempts.LIVE, steps)
            free = self._free_lines()
            due: list[Due] = []
            taken: set[int] = set()
            for r in rows:
                cid, contact = r["campaign_id"], r["contact_id"]
                if cid not in self.config.campaigns or contact in taken:
                    continue
                channel = outcomes.channel_of(self.config, cid, r["channel_index"])
                if channel == "chat":
                    outcomes.next_channel_or_final(self.store, self.config, cid, contact, "chat")
                    continue
                opening = windows.next_opening(self.config, cid, channel, now)
                if opening != now:
                    queue.postpone(self.store, cid, contact, iso(opening))
                    continue
                if optouts.is_opted_out(self.store, r["phone"]):
                    outcomes.finish(self.store, self.config, cid, contact, "refusal")
                    continue
                if queue.reached_elsewhere(self.store, cid, contact, r["questionnaire"]):
                    outcomes.finish(self.store, self.config, cid, contact, "not_eligible")
                    continue
                if outcomes.stratum_closed(self.store, self.config, cid, r["stratum"]):
                    queue.finalise(self.store, cid, contact, "quota_filled")
                    continue
                if channel == "voice":
                    if free.get("*", 0) <= 0 or free.get(cid, 1) <= 0:
                        continue  # stays due: claimed when a line is free
                    free["*"] -= 1
                    if cid in free:
                        free[cid] -= 1
                queue.lease(self.store, cid, contact, lease)
                taken.add(contact)
                due.append(Due(cid, contact, r["phone"], r["language"], channel, lease))
                if len(due) >= self.batch:
                    break
        return due

    def _steps(self, lane: str) -> list[tuple[str, int]]:
        """The (campaign, channel index) pairs whose channel is the lane's."""
        return [
            (cid, index)
            for cid, campaign in self.config.campaigns.items()
            for index, channel in enumerate(campaign.channels)
            if channel in LANES[lane]
        ]

    def _free_lines(self) -> dict[str, int]:
        """Free call lines: ``*`` for the county, and per campaign that sets its own limit."""
        live = attempts.live_calls_by_campaign(self.store)
        county = self.config.county.max_concurrent_calls or DEFAULT_MAX_CALLS
        free = {"*": county - sum(live.values())}
        for cid, campaign in self.config.campaigns.items():
            if campaign.max_concurrent_calls is not None:
                free[cid] = campaign.max_concurrent_calls - live.get(cid, 0)
        return free

    async def run_once(self, lane: str | None = None) -> int:
        """Claim one batch (of ``lane``, or of every lane), make its contacts, the lanes side
        by side, and wait for their provider requests; returns how many were claimed."""
        sending: set[asyncio.Task[None]] = set()
        try:
            return await self._batch(lane, sending)
        finally:
            await _settle(sending)

    async def drain(self, lane: str) -> None:
        """Batches of one lane until fewer than a full batch are due (the scheduler's tick
        starts one per lane, so a long run of texts holds up no call). The next batch is
        claimed while the last one's requests are still in flight, so the pace holds across
        batches; those contacts have live attempts, so none is claimed again meanwhile."""
        sending: set[asyncio.Task[None]] = set()
        try:
            while await self._batch(lane, sending) >= self.batch and not self.stopping:
                pass
        except asyncio.CancelledError:
            for task in sending:  # cut off as a crash would: start-up reconciles them
                task.cancel()
            raise
        except Exception:
            log.exception("dispatch.lane.failed lane=%s", lane)
        finally:
            await _settle(sending)

    async def _batch(self, lane: str | None, sending: set[asyncio.Task[None]]) -> int:
        if self.stopping:
            return 0
        due = self.claim(lane)
        lanes: dict[str, list[Due]] = {}
        for item in due:
            lanes.setdefault(LANE_OF[item.channel], []).append(item)
        await asyncio.gather(*(self._work(items, sending) for items in lanes.values()))
        told = 0
        if self.notices is not None:  # then what a lane has to tell, at the same pace
            for name in [lane] if lane else list(LANES):
                told += await self.notices.run(self, name, sending)
        return len(due) + told

    async def _work(self, items: list[Due], sending: set[asyncio.Task[None]]) -> None:
        """One lane's batch: each contact is started when the pace allows and its provider
        request is left in flight (in ``sending``) while the next one starts."""
        for item in items:
            if self.stopping or not self._still_may(item):
                self.release(item)
                continue
            try:
                send = await self.contact(item)
            except Exception:
                log.exception(
                    "dispatch.failed campaign=%s contact=%s", item.campaign_id, item.contact_id
                )
                continue
            if send is not None:
                task = asyncio.create_task(self._guarded(item, send))
                sending.add(task)
                task.add_done_callback(sending.discard)

    @staticmethod
    async def _guarded(item: Due, send: Awaitable[None]) -> None:
        try:
            await send
        except Exception:
            log.exception(
                "dispatch.failed campaign=%s contact=%s", item.campaign_id, item.contact_id
            )

    def _still_may(self, item: Due) -> bool:
        """Pacing can stretch a batch over a minute: a pause, or a window closing, in the
        meantime stops the rest of it (released, so claimed again when allowed)."""
        row = self.store.one("SELECT status FROM campaigns WHERE id = ?", [item.campaign_id])
        if row is None or row["status"] != "running":
            return False
        now = self.store.clock()
        return windows.next_opening(self.config, item.campaign_id, item.channel, now) == now

    async def contact(self, item: Due) -> Awaitable[None] | None:
        """Start a claimed contact, waiting for its turn at the provider's rate; returns its
        provider request to await (None: nothing to send)."""
        if item.channel == "voice":
            return await self.call(item)
        if item.channel == "sms":
            return await self.text(item)
        return None

    def take(self, item: Due, next_due: str | None) -> int | None:
        """Take the claimed contact off the queue and write its attempt, atomically; None if
        the lease is no longer ours (it expired and someone else took the contact)."""
        with self.store.transaction(locks.contact(item.contact_id)):
            if not queue.take(self.store, item.campaign_id, item.contact_id, item.lease, next_due):
                return None
            return attempts.open_attempt(
                self.store, item.campaign_id, item.contact_id, item.channel
            )

    # -- SMS: an invitation, at most one reminder, then the next channel -------------------

    async def text(self, item: Due) -> Awaitable[None] | None:
        """The next SMS step of a claimed contact, at its turn; returns the sending."""
        cid, contact = item.campaign_id, item.contact_id
        steps = attempts.sms_steps(self.store, cid, contact)
        replied = self._sms_replied(cid, contact)
        if steps >= 2 or (
            steps == 1 and (replied or attempts.all_failed(self.store, cid, contact, "invitation"))
        ):
            self.release(item)
            self._after_sms(item)
            return None
        purpose = "invitation" if steps == 0 else "reminder"
        wait = reminder_after(self.config, cid) if steps == 0 else self._fallback_after(cid)
        attempt_id = self.take(item, iso(self.store.clock() + wait))
        if attempt_id is None:
            return None
        turn = self.conversations.begin(cid, "sms", item.language, contact_id=contact)
        footer = texts(turn.language)["sms"]["stop_hint"]
        prompts = turn.prompts
        reminder = texts(turn.language)["sms"].get("reminder")
        if purpose == "reminder" and reminder and turn.event == "resumed":
            # "A reminder: ..." in place of "let's continue where we left off".
            note = Prompt("sms.reminder", reminder, (Part("sms.reminder", reminder),))
            prompts = (note, *turn.prompts[1:])
        bodies = render.messages(prompts, footer)
        await self.pace("sms", cid, len(bodies))  # the provider's rate counts messages
        return self._send_texts(item, attempt_id, turn.session_id, bodies, purpose)

    async def _send_texts(
        self, item: Due, attempt_id: int, session_id: int, bodies: list[str], purpose: str
    ) -> None:
        cid, contact = item.campaign_id, item.contact_id
        try:
            sids = await self.sms.send_texts(
                item.phone,
                bodies,
                campaign_id=cid,
                contact_id=contact,
                session_id=session_id,
                purpose=purpose,
                attempt_id=attempt_id,
            )
        except OptedOut:
            attempts.set_attempt(self.store, attempt_id, S.FAILED, error_code=21610)
            self.conversations.stop(session_id)
            outcomes.finish(self.store, self.config, cid, contact, "refusal")
            return
        except InvalidNumber:
            attempts.set_attempt(self.store, attempt_id, S.FAILED, error_code=21211)
            outcomes.finish(self.store, self.config, cid, contact, "not_eligible")
            return
        except ProviderError as exc:
            attempts.set_attempt(self.store, attempt_id, S.FAILED, error_code=exc.code)
            queue.postpone(self.store, cid, contact, iso(self.store.clock() + SMS_RETRY))
            return
        attempts.set_attempt(self.store, attempt_id, S.SENT, provider_sid=sids[0] if sids else None)
        event = "invited" if purpose == "invitation" else "reminded"
        log.info(
            "dispatch.sms.%s campaign=%s session=%s messages=%s",
            event,
            cid,
            session_id,
            len(sids),
        )

    def _after_sms(self, item: Due) -> None:
        """The SMS step is over. Someone still answering (replied within the reminder delay)
        is given that long again; otherwise the next channel (resuming any partial answers)
        or a final disposition."""
        cid, contact = item.campaign_id, item.contact_id
        last = self.store.one(
            "SELECT max(updated_at) AS at FROM sessions WHERE campaign_id = ? AND contact_id = ? "
            "AND status = 'active' AND EXISTS (SELECT 1 FROM answers a WHERE a.session_id = "
            "sessions.id)",
            [cid, contact],
        )
        now = self.store.clock()
        if last and last["at"]:
            idle_until = datetime.fromisoformat(last["at"]) + reminder_after(self.config, cid)
            if idle_until > now:
                queue.postpone(self.store, cid, contact, iso(idle_until))
                return
        outcomes.next_channel_or_final(self.store, self.config, cid, contact, "sms_unanswered")

    def _sms_replied(self, campaign_id: str, contact_id: int) -> bool:
        row = self.store.one(
            "SELECT count(*) AS n FROM answers a JOIN sessions s ON s.id = a.session_id "
            "WHERE s.campaign_id = ? AND s.contact_id = ?",
            [campaign_id, contact_id],
        )
        return bool(row and row["n"])

    def _fallback_after(self, campaign_id: str) -> timedelta:
        return durations.parse_one(self.config.campaigns[campaign_id].fallback_after)

    # -- voice -----------------------------------------------------------------------------

    async def call(self, item: Due) -> Awaitable[None] | None:
        """A claimed contact's call, at its turn; returns the placing of it."""
        await self.pace("voice", item.campaign_id)
        attempt_id = self.take(item, None)
        if attempt_id is None:
            return None
        return self._place_call(item, attempt_id)

    async def _place_call(self, item: Due, attempt_id: int) -> None:
        """Place one outbound call; the TwiML request finds its attempt by the URL's id."""
        public = self.config.server.public_url
        try:
            result = await self.provider.place_call(
                item.phone,
                f"{public}/twilio/voice?attempt={attempt_id}",
                f"{public}/twilio/voice/status",
                machine_detection="DetectMessageEnd",
                timeout=self.ring_seconds,
            )
        except InvalidNumber:
            attempts.set_attempt(self.store, attempt_id, S.FAILED, error_code=21211)
            outcomes.finish(
                self.store, self.config, item.campaign_id, item.contact_id, "not_eligible"
            )
            return
        except ProviderError as exc:
            attempts.set_attempt(self.store, attempt_id, S.FAILED, error_code=exc.code)
            outcomes.retry_or_give_up(
                self.store, self.config, item.campaign_id, item.contact_id, "provider"
            )
            return
        attempts.call_placed(self.store, attempt_id, result.sid, result.status)
        log.info("dispatch.voice.dialled campaign=%s attempt=%s", item.campaign_id, attempt_id)

    # -- helpers ---------------------------------------------------------------------------

    async def pace(self, channel: str, campaign_id: str, weight: int = 1) -> None:
        """Wait for the next slot of the provider's rate (calls or messages per second), in
        real time; ``weight`` is how many the contact counts for (a text's segments). Every
        contact of a lane starts through here: invitations and the notice lane alike."""
        name = "calls_per_second" if channel == "voice" else "messages_per_second"
        rate = windows.setting(self.config, campaign_id, name) or DEFAULT_RATE[channel]
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Reserved before any await; a slot missed by a moment is made up (CATCH_UP), so
        # the time spent preparing each contact does not lower the rate.
        slot = max(now - CATCH_UP, self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + max(weight, 1) / rate
        await asyncio.sleep(max(slot - now, 0))  # at least a yield: earlier sends start now

    def release(self, item: Due) -> None:
        """Give a claimed contact back unused: due as before."""
        queue.release(self.store, item.campaign_id, item.contact_id, item.lease)

    async def run_forever(self, interval: float = 1.0) -> None:
        """Without the scheduler (scripts, benchmarks): every lane, each on its own, drained
        every ``interval`` seconds."""

        async def lane_loop(lane: str) -> None:
            while True:
                await self.drain(lane)
                await asyncio.sleep(interval)

        await asyncio.gather(*(lane_loop(lane) for lane in LANES))


async def _settle(sending: set[asyncio.Task[None]]) -> None:
    """Wait for requests in flight (each logs its own failure)."""
    if sending:
        await asyncio.gather(*list(sending), return_exceptions=True)


def reminder_after(config: Config, campaign_id: str) -> timedelta:
    """How long an SMS invitation waits for a first reply before its one reminder."""
    campaign = config.campaigns[campaign_id]
    return durations.parse_one(getattr(campaign, "reminder_after", None) or DEFAULT_REMINDER_AFTER)
