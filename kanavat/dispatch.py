"""The dispatcher: picks due contacts from the store and starts their conversations.

The store is the queue. A contact is claimed with a lease (``lease_until``) in one
transaction; its attempt row is written, in one transaction with taking the contact off the
queue, before the provider is called. So a restart never contacts anyone twice for the same
step (an attempt left in ``sending`` is reconciled against the provider, see ``reconcile``)
and never loses a due contact (an unused lease simply expires).

Politeness is decided here, per campaign: call and text windows in the county's time zone
(a contact due outside them waits for the next opening), Finnish holidays, the concurrent
call limit, the provider's rate, opt-outs, residents already reached by the same
questionnaire in another campaign, and at most one live attempt per contact.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kanavat import durations, outcomes, windows
from kanavat.config import Config
from kanavat.conversations import Conversations
from kanavat.outreach import queue
from kanavat.provider import InvalidNumber, OptedOut, ProviderError
from kanavat.questions.dialog import Part, Prompt
from kanavat.questions.lexicon import texts
from kanavat.sms import render
from kanavat.sms.send import SmsSender
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.dispatch")
LEASE = timedelta(minutes=2)
LIVE = ("sending", "queued", "initiated", "ringing", "in-progress")
SMS_RETRY = timedelta(minutes=10)  # a provider hiccup: the same step again, soon
DEFAULT_REMINDER_AFTER = "1d"
DEFAULT_RATE = {"voice": 1.0, "sms": 5.0}
DEFAULT_MAX_CALLS = 10
_LIVE_SQL = "(" + ",".join(f"'{s}'" for s in LIVE) + ")"


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

    # -- the queue -------------------------------------------------------------------------

    def claim(self) -> list[Due]:
        """Lease a batch of due contacts of running campaigns that may be contacted now."""
        now = self.store.clock()
        lease = iso(now + LEASE)
        with self.store.transaction():
            rows = queue.due(self.store, iso(now), self.batch * 4, LIVE)
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
                if self.store.is_opted_out(r["phone"]):
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

    def _free_lines(self) -> dict[str, int]:
        """Free call lines: ``*`` for the county, and per campaign that sets its own limit."""
        live = {
            r["campaign_id"]: r["n"]
            for r in self.store.query(
                "SELECT campaign_id, count(*) AS n FROM attempts WHERE channel = 'voice' "
                f"AND status IN {_LIVE_SQL} GROUP BY campaign_id"
            )
        }
        county = self.config.county.max_concurrent_calls or DEFAULT_MAX_CALLS
        free = {"*": county - sum(live.values())}
        for cid, campaign in self.config.campaigns.items():
            if campaign.max_concurrent_calls is not None:
                free[cid] = campaign.max_concurrent_calls - live.get(cid, 0)
        return free

    async def run_once(self) -> int:
        if self.stopping:
            return 0
        due = self.claim()
        for item in due:
            if self.stopping or not self._still_may(item):
                self._release(item)
                continue
            try:
                await self.contact(item)
            except Exception:
                log.exception(
                    "dispatch.failed campaign=%s contact=%s", item.campaign_id, item.contact_id
                )
        return len(due)

    def _still_may(self, item: Due) -> bool:
        """Pacing can stretch a batch over a minute: a pause, or a window closing, in the
        meantime stops the rest of it (released, so claimed again when allowed)."""
        row = self.store.one("SELECT status FROM campaigns WHERE id = ?", [item.campaign_id])
        if row is None or row["status"] != "running":
            return False
        now = self.store.clock()
        return windows.next_opening(self.config, item.campaign_id, item.channel, now) == now

    async def contact(self, item: Due) -> None:
        if item.channel == "voice":
            await self.call(item)
        elif item.channel == "sms":
            await self.text(item)

    def _take(self, item: Due, next_due: str | None) -> int | None:
        """Take the claimed contact off the queue and write its attempt, atomically; None if
        the lease is no longer ours (it expired and someone else took the contact)."""
        now = self.store.now()
        with self.store.transaction():
            if not queue.take(self.store, item.campaign_id, item.contact_id, item.lease, next_due):
                return None
            cur = self.store.execute(
                "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
                "updated_at) VALUES (?, ?, ?, 'sending', ?, ?)",
                [item.campaign_id, item.contact_id, item.channel, now, now],
            )
            return int(cur.lastrowid)  # type: ignore[arg-type]

    # -- SMS: an invitation, at most one reminder, then the next channel -------------------

    async def text(self, item: Due) -> None:
        cid, contact = item.campaign_id, item.contact_id
        steps = self.store.one(
            "SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND contact_id = ? "
            "AND channel = 'sms' AND status NOT IN ('failed', 'abandoned')",
            [cid, contact],
        )["n"]  # type: ignore[index]
        replied = self._sms_replied(cid, contact)
        if steps >= 2 or (steps == 1 and (replied or self._undelivered(cid, contact))):
            self._release(item)
            self._after_sms(item)
            return
        purpose = "invitation" if steps == 0 else "reminder"
        wait = reminder_after(self.config, cid) if steps == 0 else self._fallback_after(cid)
        attempt_id = self._take(item, iso(self.store.clock() + wait))
        if attempt_id is None:
            return
        turn = self.conversations.begin(cid, "sms", item.language, contact_id=contact)
        footer = texts(turn.language)["sms"]["stop_hint"]
        prompts = turn.prompts
        reminder = texts(turn.language)["sms"].get("reminder")
        if purpose == "reminder" and reminder and turn.event == "resumed":
            # "A reminder: ..." in place of "let's continue where we left off".
            note = Prompt("sms.reminder", reminder, (Part("sms.reminder", reminder),))
            prompts = (note, *turn.prompts[1:])
        bodies = render.messages(prompts, footer)
        await self._pace("sms", cid, len(bodies))  # the provider's rate counts messages
        try:
            sids = await self.sms.send_texts(
                item.phone,
                bodies,
                campaign_id=cid,
                contact_id=contact,
                session_id=turn.session_id,
                purpose=purpose,
                attempt_id=attempt_id,
            )
        except OptedOut:
            self._attempt(attempt_id, "failed", 21610)
            self.conversations.stop(turn.session_id)
            outcomes.finish(self.store, self.config, cid, contact, "refusal")
            return
        except InvalidNumber:
            self._attempt(attempt_id, "failed", 21211)
            outcomes.finish(self.store, self.config, cid, contact, "not_eligible")
            return
        except ProviderError as exc:
            self._attempt(attempt_id, "failed", exc.code)
            queue.postpone(self.store, cid, contact, iso(self.store.clock() + SMS_RETRY))
            return
        self.store.execute(
            "UPDATE attempts SET status = 'sent', provider_sid = ?, updated_at = ? WHERE id = ?",
            [sids[0] if sids else None, self.store.now(), attempt_id],
        )
        event = "invited" if purpose == "invitation" else "reminded"
        log.info(
            "dispatch.sms.%s campaign=%s session=%s messages=%s",
            event,
            cid,
            turn.session_id,
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

    def _undelivered(self, campaign_id: str, contact_id: int) -> bool:
        """Every invitation message failed on the way: nobody read it, no reminder either."""
        row = self.store.one(
            "SELECT count(*) AS n, sum(status IN ('failed', 'undelivered')) AS bad FROM outbound "
            "WHERE campaign_id = ? AND contact_id = ? AND purpose = 'invitation'",
            [campaign_id, contact_id],
        )
        return bool(row and row["n"] and row["bad"] == row["n"])

    def _fallback_after(self, campaign_id: str) -> timedelta:
        return durations.parse_one(self.config.campaigns[campaign_id].fallback_after)

    # -- voice -----------------------------------------------------------------------------

    async def call(self, item: Due) -> None:
        """Place one outbound call; the TwiML request finds its attempt by the URL's id."""
        await self._pace("voice", item.campaign_id)
        attempt_id = self._take(item, None)
        if attempt_id is None:
            return
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
            self._attempt(attempt_id, "failed", 21211)
            outcomes.finish(
                self.store, self.config, item.campaign_id, item.contact_id, "not_eligible"
            )
            return
        except ProviderError as exc:
            self._attempt(attempt_id, "failed", exc.code)
            outcomes.retry_or_give_up(
                self.store, self.config, item.campaign_id, item.contact_id, "provider"
            )
            return
        self.store.execute(
            "UPDATE attempts SET provider_sid = coalesce(provider_sid, ?), status = CASE WHEN "
            "status = 'sending' THEN ? ELSE status END, updated_at = ? WHERE id = ?",
            [result.sid, result.status, self.store.now(), attempt_id],
        )
        log.info("dispatch.voice.dialled campaign=%s attempt=%s", item.campaign_id, attempt_id)

    # -- helpers ---------------------------------------------------------------------------

    async def _pace(self, channel: str, campaign_id: str, weight: int = 1) -> None:
        """Keep to the provider's rate (calls or messages per second), in real time."""
        name = "calls_per_second" if channel == "voice" else "messages_per_second"
        rate = windows.setting(self.config, campaign_id, name) or DEFAULT_RATE[channel]
        loop = asyncio.get_running_loop()
        wait = self._next_slot.get(channel, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        slot = max(loop.time(), self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + max(weight, 1) / rate

    def _attempt(self, attempt_id: int | None, status: str, code: int | None) -> None:
        self.store.execute(
            "UPDATE attempts SET status = ?, error_code = ?, updated_at = ? WHERE id = ?",
            [status, code, self.store.now(), attempt_id],
        )

    def _release(self, item: Due) -> None:
        queue.release(self.store, item.campaign_id, item.contact_id, item.lease)

    async def run_forever(self, interval: float = 1.0) -> None:
        """Without the scheduler (scripts, benchmarks): tick every ``interval`` seconds."""
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("dispatch.loop.failed")
                handled = 0
            await asyncio.sleep(0.05 if handled >= self.batch else interval)


def reminder_after(config: Config, campaign_id: str) -> timedelta:
    """How long an SMS invitation waits for a first reply before its one reminder."""
    campaign = config.campaigns[campaign_id]
    return durations.parse_one(getattr(campaign, "reminder_after", None) or DEFAULT_REMINDER_AFTER)
