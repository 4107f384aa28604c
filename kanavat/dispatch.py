"""The dispatcher: picks due contacts from the store and starts their conversations.

The store is the queue. A contact is claimed with a lease (``lease_until``) in one
transaction before anything is sent, and its attempt row is written before the provider is
called, so a restart never contacts anyone twice for the same step and never loses a due
contact: an unexpired lease or an attempt in state ``sending`` is never retried blindly.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from kanavat.config import Config
from kanavat.conversations import Conversations
from kanavat.outcomes import retry_or_give_up
from kanavat.provider import InvalidNumber, OptedOut, ProviderError
from kanavat.sms.send import SmsSender
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.dispatch")
LEASE = timedelta(minutes=2)


@dataclass
class Due:
    campaign_id: str
    contact_id: int
    phone: str
    language: str
    channel: str


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

    def claim(self) -> list[Due]:
        """Lease a batch of due contacts of running campaigns."""
        now = self.store.clock()
        with self.store.transaction():
            rows = self.store.query(
                "SELECT cc.campaign_id, cc.contact_id, cc.channel_index, c.phone, c.language "
                "FROM campaign_contacts cc JOIN campaigns k ON k.id = cc.campaign_id "
                "JOIN contacts c ON c.id = cc.contact_id "
                "WHERE k.status = 'running' AND cc.disposition = 'pending' "
                "AND cc.next_due_at IS NOT NULL AND cc.next_due_at <= ? "
                "AND (cc.lease_until IS NULL OR cc.lease_until < ?) AND c.phone IS NOT NULL "
                "ORDER BY cc.next_due_at LIMIT ?",
                [iso(now), iso(now), self.batch],
            )
            due = []
            for r in rows:
                campaign = self.config.campaigns.get(r["campaign_id"])
                if campaign is None:
                    continue
                channel = campaign.channels[min(r["channel_index"], len(campaign.channels) - 1)]
                self.store.execute(
                    "UPDATE campaign_contacts SET lease_until = ?, updated_at = ? "
                    "WHERE campaign_id = ? AND contact_id = ?",
                    [iso(now + LEASE), iso(now), r["campaign_id"], r["contact_id"]],
                )
                due.append(
                    Due(r["campaign_id"], r["contact_id"], r["phone"], r["language"], channel)
                )
        return due

    async def run_once(self) -> int:
        due = self.claim()
        for item in due:
            try:
                await self.contact(item)
            except Exception:
                log.exception(
                    "dispatch.failed campaign=%s contact=%s", item.campaign_id, item.contact_id
                )
        return len(due)

    async def contact(self, item: Due) -> None:
        if self.store.is_opted_out(item.phone):
            self._finish(item, "refusal")
            return
        if item.channel == "voice":
            await self.call(item)
            return
        if item.channel != "sms":
            return
        await self._pace("sms")
        now = self.store.now()
        cur = self.store.execute(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, updated_at) "
            "VALUES (?, ?, 'sms', 'sending', ?, ?)",
            [item.campaign_id, item.contact_id, now, now],
        )
        attempt_id = cur.lastrowid
        self.store.execute(
            "UPDATE campaign_contacts SET attempts = attempts + 1, next_due_at = NULL, updated_at = ? "
            "WHERE campaign_id = ? AND contact_id = ?",
            [now, item.campaign_id, item.contact_id],
        )
        turn = self.conversations.begin(
            item.campaign_id, "sms", item.language, contact_id=item.contact_id
        )
        try:
            sids = await self.sms.send_prompts(
                item.phone,
                turn.prompts,
                turn.language,
                campaign_id=item.campaign_id,
                contact_id=item.contact_id,
                session_id=turn.session_id,
                purpose="invitation",
                attempt_id=attempt_id,
            )
        except OptedOut:
            self._attempt(attempt_id, "failed", 21610)
            self.conversations.stop(turn.session_id)
            self._finish(item, "refusal")
            return
        except InvalidNumber:
            self._attempt(attempt_id, "failed", 21211)
            self._finish(item, "not_eligible")
            return
        except ProviderError as exc:
            self._attempt(attempt_id, "failed", exc.code)
            return
        self.store.execute(
            "UPDATE attempts SET status = 'sent', provider_sid = ?, updated_at = ? WHERE id = ?",
            [sids[0] if sids else None, self.store.now(), attempt_id],
        )
        log.info(
            "dispatch.sms.invited campaign=%s session=%s messages=%s",
            item.campaign_id,
            turn.session_id,
            len(sids),
        )

    async def call(self, item: Due) -> None:
        """Place one outbound call; the TwiML request finds its attempt by the URL's id."""
        limit = self._setting(item.campaign_id, "max_concurrent_calls") or 10
        live = self.store.one(
            "SELECT count(*) AS n FROM attempts WHERE channel = 'voice' AND status IN "
            "('sending', 'queued', 'initiated', 'ringing', 'in-progress')"
        )["n"]  # type: ignore[index]
        if live >= limit:
            return  # the lease expires and the contact is claimed again when a line is free
        await self._pace("voice")
        now = self.store.now()
        cur = self.store.execute(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, updated_at) "
            "VALUES (?, ?, 'voice', 'sending', ?, ?)",
            [item.campaign_id, item.contact_id, now, now],
        )
        attempt_id = cur.lastrowid
        self.store.execute(
            "UPDATE campaign_contacts SET attempts = attempts + 1, next_due_at = NULL, updated_at = ? "
            "WHERE campaign_id = ? AND contact_id = ?",
            [now, item.campaign_id, item.contact_id],
        )
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
            self._finish(item, "not_eligible")
            return
        except ProviderError as exc:
            self._attempt(attempt_id, "failed", exc.code)
            retry_or_give_up(self.store, self.config, item.campaign_id, item.contact_id, "provider")
            return
        self.store.execute(
            "UPDATE attempts SET provider_sid = coalesce(provider_sid, ?), status = CASE WHEN status = "
            "'sending' THEN ? ELSE status END, updated_at = ? WHERE id = ?",
            [result.sid, result.status, self.store.now(), attempt_id],
        )
        log.info("dispatch.voice.dialled campaign=%s attempt=%s", item.campaign_id, attempt_id)

    def _setting(self, campaign_id: str, name: str) -> float | int | None:
        campaign = self.config.campaigns.get(campaign_id)
        value = getattr(campaign, name, None) if campaign else None
        return value if value is not None else getattr(self.config.county, name, None)

    async def _pace(self, channel: str) -> None:
        """Keep to the provider's rate (calls or messages per second)."""
        name = "calls_per_second" if channel == "voice" else "messages_per_second"
        rate = getattr(self.config.county, name, None) or (1.0 if channel == "voice" else 5.0)
        loop = asyncio.get_running_loop()
        wait = self._next_slot.get(channel, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_slot[channel] = max(loop.time(), self._next_slot.get(channel, 0.0)) + 1.0 / rate

    def _attempt(self, attempt_id: int | None, status: str, code: int | None) -> None:
        self.store.execute(
            "UPDATE attempts SET status = ?, error_code = ?, updated_at = ? WHERE id = ?",
            [status, code, self.store.now(), attempt_id],
        )

    def _finish(self, item: Due, disposition: str) -> None:
        self.store.execute(
            "UPDATE campaign_contacts SET disposition = ?, next_due_at = NULL, lease_until = NULL, "
            "updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
            [disposition, self.store.now(), item.campaign_id, item.contact_id],
        )

    async def run_forever(self, interval: float = 1.0) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("dispatch.loop.failed")
                handled = 0
            await asyncio.sleep(0.05 if handled >= self.batch else interval)
