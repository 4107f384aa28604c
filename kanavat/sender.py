"""The outbox sender: delivers SMS rows after the transaction that wrote them.

A turn's replies are rows before they are requests. The turn writes them ``sending``: claimed
by the request whose transaction wrote them, which delivers them at once after its commit
(``kick``, without making the webhook wait). The sender makes the REST call and records what
the provider answered: a sid and status, a refusal (``failed``, with Twilio's code; 21610 is
also an opt-out), a hiccup (``pending`` again after a pause), or an answer it does not
understand (``error`` on that row, never an exception to the webhook that queued it).
``pending`` rows (a retry's, a notice's) are claimed and delivered by a sweep every few
seconds and at start-up.

A row left ``sending`` without a sid died during its REST call (found at start-up, or by
the scheduler's leader once no request could still be under way): if the provider
has a message to that number with that text which the store does not know, it left and is
adopted; otherwise it is sent again. Either way the resident gets it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from kanavat import attempts, contacts, inbound, optouts
from kanavat.attempts import OutboundStatus
from kanavat.config import Config
from kanavat.group_commit import GroupCommit
from kanavat.provider import OPTED_OUT, OptedOut, ProviderError, TwilioProvider
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.sender")
SWEEP_EVERY = 2.0  # seconds
SETTLE = timedelta(seconds=2)  # a sweep leaves rows this young to the request that queued them
PARALLEL = 16  # numbers sent to at once by a sweep (one number's messages stay in order)
STRANDED_AFTER = timedelta(seconds=60)  # twice the provider's request timeout (provider.py)
RECLAIM_AFTER = timedelta(seconds=20)  # a claimed row this old is claimed again before sending
# A delivery status callback can reach the store before its message's sid: another worker's
# REST answer not yet committed, or the sending worker killed between the two. It waits,
# unhandled, and each sweep applies it once the sid is known; after this long nobody will
# know it (a message sent from outside kanavat), and it is set aside as ignored.
WAIT_FOR_SID = timedelta(minutes=10)
WAITING = "waiting:unknown_sid"
IGNORED = "ignored:unknown_sid"


class Sender:
    """Delivers outbox rows through the provider; owns its background tasks."""

    def __init__(self, config: Config, store: Store, provider: TwilioProvider):
        self.config = config
        self.store = store
        self.provider = provider
        self.statuses = StatusCallbacks(store)
        self._tasks: set[asyncio.Task[list[ProviderError | None]]] = set()
        self._kicked: list[list[int]] = []  # turns' rows kicked this pass of the loop

    @property
    def status_callback(self) -> str:
        return f"{self.config.server.public_url}/twilio/sms/status"

    # -- delivering ----------------------------------------------------------------------

    def kick(self, row_ids: Sequence[int], *, claimed: bool = False) -> None:
        """Deliver a turn's replies (written as ``attempts.to_send`` says, or ``sending``
        whatever the backend if ``claimed``), soon, without waiting (the request that queued
        them returns). Claimed as written, the rows of the turns kicked in one pass of the
        loop are read in one query, and each turn's are sent in order by a task of its own."""
        if not row_ids:
            return
        if not claimed and attempts.to_send(self.store) != OutboundStatus.SENDING:
            self._track(self.deliver(row_ids))
            return
        if not self._kicked:
            asyncio.get_running_loop().call_soon(self._deliver_kicked)
        self._kicked.append(list(row_ids))

    def _deliver_kicked(self) -> None:
        kicked, self._kicked = self._kicked, []
        try:
            found = attempts.claimed(self.store, [i for ids in kicked for i in ids])
        except Exception:  # left ``sending``: recovered at the next start, or by the leader
            log.exception("sender.kick_failed rows=%s", sum(len(ids) for ids in kicked))
            return
        rows = {row["id"]: row for row in found}
        for ids in kicked:  # a turn's ids come in the order it wrote them: sent in that order
            self._track(self._send_claimed([rows[i] for i in ids if i in rows]))

    def _track(self, sending: Coroutine[Any, Any, list[ProviderError | None]]) -> None:
        task = asyncio.get_running_loop().create_task(sending)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_claimed(self, rows: list[dict[str, Any]]) -> list[ProviderError | None]:
        """Send rows claimed as they were written, in order. No second claim: no other
        sender takes a ``sending`` row, and one a crash leaves is recovered (``recover``).
        But a row that has waited behind slow requests (a provider timing out) for
        :data:`RECLAIM_AFTER` is claimed again before its own: by then the leader's
        ``recover_stranded`` may have taken it for a dead process's and sent it."""
        results: list[ProviderError | None] = []
        for row in rows:
            waited = iso(self.store.clock() - RECLAIM_AFTER)
            if row["updated_at"] < waited and not attempts.reclaim(self.store, row["id"]):
                results.append(None)  # recovered by the leader meanwhile: it is theirs
                continue
            results.append(await self._send(row))
        return results

    async def deliver(self, row_ids: Iterable[int]) -> list[ProviderError | None]:
        """Send each row this sender can claim, in order; per row, the provider's refusal
        or None (sent, or another sender has it)."""
        results: list[ProviderError | None] = []
        for row_id in row_ids:
            row = attempts.claim(self.store, row_id)
            results.append(None if row is None else await self._send(row))
        return results

    async def send_now(self, row_ids: Sequence[int]) -> list[str]:
        """For a caller that must know at once (the dispatcher's invitations): deliver rows it
        wrote ``sending``; their sids, or the first refusal raised (later rows not sent)."""
        sids: list[str] = []
        for row_id in row_ids:
            row = self.store.one("SELECT * FROM outbound WHERE id = ?", [row_id])
            assert row is not None
            refused = await self._send(row)
            if refused is not None:
                for rest in row_ids[row_ids.index(row_id) + 1 :]:
                    attempts.failed(self.store, rest, refused.code)
                raise refused
            sent = self.store.one("SELECT sid FROM outbound WHERE id = ?", [row_id])
            if sent and sent["sid"]:
                sids.append(sent["sid"])
        return sids

    async def _send(self, row: dict[str, Any]) -> ProviderError | None:
        row_id, to, body = row["id"], row["to_number"], row["body"]
        if not to or not body:
            attempts.failed(self.store, row_id, None, status=OutboundStatus.ERROR)
            log.warning("sender.error outbound=%s reason=nothing_to_send", row_id)
            return None
        try:
            result = await self.provider.send_sms(to, body, self.status_callback)
        except OptedOut as exc:
            with self.store.transaction():
                attempts.failed(self.store, row_id, exc.code)
                optouts.opt_out(self.store, to, optouts.PROVIDER)
            log.info("sender.opted_out outbound=%s purpose=%s", row_id, row["purpose"])
            return exc
        except ProviderError as exc:
            if exc.retryable and row["attempt_id"] is None:
                again = attempts.retry_later(self.store, row_id, exc.code, row["tries"] + 1)
                log.warning("sender.retry outbound=%s code=%s again=%s", row_id, exc.code, again)
                return None if again else exc
            attempts.failed(self.store, row_id, exc.code)
            log.warning("sender.failed outbound=%s code=%s", row_id, exc.code)
            return exc
        except Exception as exc:  # the provider answered something the library cannot read
            attempts.failed(self.store, row_id, None, status=OutboundStatus.ERROR)
            log.warning("sender.error outbound=%s reason=%s", row_id, type(exc).__name__)
            return ProviderError(None, 0, f"unreadable provider answer: {type(exc).__name__}")
        if not result.sid or result.status not in attempts.MESSAGE_RANK:
            # A proxy or an odd api_base: keep what we can (a sid lets callbacks find the
            # row), and say plainly that this row's fate is unknown.
            attempts.failed(
                self.store, row_id, None, status=OutboundStatus.ERROR, sid=result.sid or None
            )
            log.warning("sender.error outbound=%s reason=unknown_answer", row_id)
            return None
        # With the status callbacks' group commit: a sid recorded before any callback about it.
        await self.statuses.sent(Sent(row_id, result.sid, result.status, result.num_segments))
        # Routine, and kept on the row (its sid and status): a refusal or error is a warning.
        log.debug("sender.sent outbound=%s sid=%s purpose=%s", row_id, result.sid, row["purpose"])
        return None

    # -- sweeping ------------------------------------------------------------------------

    async def recover(self, older_than: timedelta | None = None) -> None:
        """Rows a dead process left in its REST call. At start-up, before any sweep, all of
        them, when no other server shares the store (the first of SQLite's servers to
        start, ``backup.serving``); with several, the scheduler's leader takes those
        ``older_than`` a provider request can last."""
        before = None if older_than is None else iso(self.store.clock() - older_than)
        for row in attempts.stranded(self.store, "sms", before):
            try:
                left = await self._already_left(row)
            except ProviderError:
                continue  # the provider is unreachable: left for the next start
            if left is not None:
                attempts.sent(self.store, row["id"], left.sid, left.status or "queued")
                log.info("sender.adopted outbound=%s sid=%s", row["id"], left.sid)
            else:
                attempts.requeue(self.store, row["id"], row["updated_at"])

    async def _already_left(self, row: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not row["to_number"]:
            return None
        for message in await self.provider.messages_to(row["to_number"]):
            if message.body == row["body"] and not attempts.known_sid(self.store, message.sid):
                return message
        return None

    async def sweep(self, *, settle: timedelta = SETTLE) -> int:
        """Deliver pending rows older than ``settle``; one number's rows in order."""
        before = iso(self.store.clock() - settle)
        rows = attempts.due(self.store, "sms", before)
        by_number: dict[str, list[int]] = {}
        for r in rows:
            by_number.setdefault(r["to_number"] or "", []).append(r["id"])
        gate = asyncio.Semaphore(PARALLEL)

        async def one(ids: list[int]) -> None:
            async with gate:
                await self.deliver(ids)

        await asyncio.gather(*(one(ids) for ids in by_number.values()))
        self.statuses.apply_waiting()
        return len(rows)

    async def recover_stranded(self) -> None:
        """The scheduler leader's periodic job: rows stranded longer than any request."""
        await self.recover(older_than=STRANDED_AFTER)

    @property
    def busy(self) -> bool:
        return bool(self._kicked) or any(not t.done() for t in self._tasks)

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing kicked is still being delivered (tests, a clean shutdown)."""
        async with asyncio.timeout(timeout):
            while self.busy:
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Let in-flight deliveries finish (a row left ``sending`` by a hard stop is
        recovered at the next start, or by the leader of the servers still running)."""
        if self._kicked:
            await asyncio.sleep(0)  # the kicks of this pass become their tasks
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)


@dataclass(frozen=True)
class Sent:
    """The provider took an outbox row's message: its sid, status and segments."""

    row_id: int
    sid: str
    status: str
    segments: int | None

    def apply(self, store: Store) -> None:
        attempts.sent(store, self.row_id, self.sid, self.status, self.segments)


@dataclass(frozen=True)
class StatusCallback:
    """A delivery status callback as the webhook gave it (``key``: its idempotency key)."""

    key: str
    fields: dict[str, str]
    sid: str
    status: str
    code: int | None
    row_id: int | None = None  # a reply sent in a webhook's answer: its row (``sms/answer.py``)

    @classmethod
    def of(cls, fields: dict[str, str], row: str | None = None) -> StatusCallback | None:
        """From Twilio's form (or the event that stored it) and the ``row`` its URL names;
        None without a sid or status."""
        sid = fields.get("MessageSid") or fields.get("SmsSid")
        state = fields.get("MessageStatus") or fields.get("SmsStatus")
        if not sid or not state:
            return None
        code = int(fields["ErrorCode"]) if fields.get("ErrorCode", "").isdigit() else None
        row_id = int(row) if row and row.isdigit() else None
        return cls(f"{sid}:{state}", fields, sid, state, code, row_id)


def status_callback(store: Store, callback: StatusCallback, *, last: bool = False) -> str | None:
    """A delivery status callback, stored and applied to its row in one transaction; the
    outcome, or None for a callback already applied. A 21610 (the resident replied STOP to
    Twilio) opts the contact's number out. One whose sid no row has yet is stored and left
    unhandled (:data:`WAITING`) for the sweep (:func:`apply_waiting`), unless ``last``.

    One transaction, not the event's own commit first as a turn's: applying a status is one
    row's update with nothing after it to lose, so the event is never applied without being
    stored, nor stored without being applied or left waiting; a crash or failure before the
    commit stores neither and answers Twilio no 200, so its retry brings the callback again.
    (Two commits per callback, two callbacks per reply, were a fifth of an SMS answer's
    cost.)"""
    with store.transaction(f"message:{callback.sid}"):
        return _apply(store, callback, last=last)


def apply_waiting(store: Store, limit: int = 500) -> int:
    """Apply the callbacks waiting for their sid (see :data:`WAIT_FOR_SID`) whose sid is
    known now, and set aside those waiting longer than that; how many were applied. One
    that fails is counted on its event and tried again (set aside after a few tries)."""
    given_up = iso(store.clock() - WAIT_FOR_SID)
    applied = ignored = 0
    for event in inbound.unhandled(store, "sms", ("status",), limit=limit):
        callback = StatusCallback.of(event.payload)
        if callback is None:  # the webhook stores only callbacks it can read
            with store.transaction(f"event:{event.id}"):
                inbound.finish(store, event.id, "error:unreadable")
            continue
        last = event.received_at < given_up
        if not last and not attempts.known_sid(store, callback.sid):
            continue
        try:
            outcome = status_callback(store, callback, last=last)
        except Exception as exc:
            inbound.failed_once(store, event.id)
            log.warning("sender.statuses.failed event=%s reason=%s", event.id, type(exc).__name__)
            continue
        if outcome == IGNORED:
            ignored += 1
        elif outcome not in (None, WAITING):
            applied += 1
    if applied:
        log.info("sender.statuses.applied_late count=%s", applied)
    if ignored:  # no row ever had these sids: sent from outside kanavat, or lost
        log.warning("sender.statuses.unknown_sid count=%s", ignored)
    return applied


def _apply(store: Store, c: StatusCallback, *, last: bool = False) -> str | None:
    row = attempts.by_sid(store, c.sid)
    if row is None and c.row_id is not None:
        # A reply sent in a webhook's answer: its first callback gives its row the sid. A
        # row that has one already (sent again by REST after a lost answer) keeps it.
        row = attempts.handed_over(store, c.row_id, c.sid)
    elif row is None and not last:
        recorded = inbound.record(store, "sms", "status", c.key, c.fields)
        return None if recorded.handled else WAITING  # stored, for the sweep
    outcome = IGNORED if row is None else f"status:{c.status}"
    # The common case, a callback seen for the first time: stored handled, one statement.
    if not inbound.record_handled(store, "sms", "status", c.key, c.fields, outcome):
        recorded = inbound.record(store, "sms", "status", c.key, c.fields)
        if recorded.handled:
            return None  # applied before
        inbound.finish(store, recorded.id, outcome)  # it waited for its sid
    if row is None:
        return outcome
    attempts.apply_status(store, row, c.status, c.code)
    if c.code == OPTED_OUT and row["contact_id"]:
        phone = contacts.phone_of(store, row["contact_id"])
        if phone:
            optouts.opt_out(store, phone, optouts.PROVIDER)
    return outcome


class StatusCallbacks:
    """Delivery status callbacks applied together: those that arrive in one turn of the
    event loop are stored and applied in one transaction (a group commit), and each is
    answered after that commit, as if alone. Every reply brings two callbacks back, so at
    load a commit per callback is most of their cost. If the batch fails, each is tried
    again in its own transaction, so one callback's failure is its own.

    The sids the provider gave (``sent``) are recorded in the same group commits, before the
    callbacks of their group: a callback follows its message's REST answer, so in one
    process it finds its row whether the two arrived in one pass of the loop or apart. With
    several, it may reach another process before this one's commit: then it waits for the
    sweep (:func:`apply_waiting`)."""

    def __init__(self, store: Store):
        self.store = store
        self._group: GroupCommit[Sent | StatusCallback, str | None] = GroupCommit(
            self._together,
            partial(_alone, store),
            order=lambda item: isinstance(item, StatusCallback),  # sids first
        )

    async def take(self, callback: StatusCallback) -> str | None:
        """Store and apply ``callback``; its outcome, or None if it was applied before."""
        return await self._group.take(callback)

    async def sent(self, sent: Sent) -> None:
        """Record a sid and status the provider answered with (after that commit)."""
        await self._group.take(sent)

    def apply_waiting(self) -> int:
        """The callbacks that came before their sid (:func:`apply_waiting`)."""
        return apply_waiting(self.store)

    def _together(self, items: list[Sent | StatusCallback]) -> list[str | None]:
        names = sorted({f"message:{item.sid}" for item in items})  # one order in every worker
        with self.store.transaction(*names):
            return [_apply_one(self.store, item) for item in items]


def _apply_one(store: Store, item: Sent | StatusCallback) -> str | None:
    if isinstance(item, Sent):
        item.apply(store)
        return None
    return _apply(store, item)


def _alone(store: Store, item: Sent | StatusCallback) -> str | None:
    if isinstance(item, Sent):
        item.apply(store)  # one statement: its own commit
        return None
    return status_callback(store, item)
