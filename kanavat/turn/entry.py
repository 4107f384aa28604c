"""The one entry for a turn, used by every channel.

``take(message)`` stores the inbound event (its own commit: stored before it is acted on),
then in one transaction applies the channel's policy (opt-out, data requests, finding or
opening the session, the engine's turn), renders the replies in the channel's medium and
writes them as outbox rows, and marks the event handled. The provider is called only after
the commit, by the sender. So a crash at any point leaves either an unhandled event (handled
on the provider's retry or by the sweep: nothing was done) or a handled one whose replies
are in the outbox (the sender will deliver them). A key seen again is answered with what it
was answered before, never handled twice.

Each event is held by this worker from the moment it is stored (``kanavat/workers.py``). The
sweep, at start-up and every few seconds, handles the unhandled events nobody holds, this
worker's own (a turn runs on the event loop, so none of its own is mid-way when the sweep
runs) and those of workers gone (killed, hung, stopped), each claimed first so that two
sweeping workers never both take one; it never touches what a live worker is handling.

Channels register a :class:`Channel`: their policy (``kanavat/turn/text.py``, ``chat.py``,
``voice.py``) and their renderer (prompts into SMS bodies, chat frames, ...).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kanavat import attempts, inbound, locks, workers
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.conversations import Turn
from kanavat.dialect import StoreUnavailable
from kanavat.store import Store
from kanavat.turn.context import Context
from kanavat.turn.message import Message, Result

log = logging.getLogger("kanavat.turn")
Policy = Callable[[Context, Message, int], Result]
Render = Callable[[Message, Result], list[Outgoing]]


@dataclass(frozen=True)
class Channel:
    """A channel as the turn sees it: the event kinds it stores, its policy, its renderer.

    ``outbox`` says where its replies go: ``sending`` for the sender to deliver after the
    commit (SMS; written as ``attempts.to_send`` says: on SQLite claimed as they are
    written, so no second transaction claims them), ``shown`` for replies the request's own
    response carries (chat). ``in_answer``: the sender's replies go out in the webhook's
    answer (SMS as TwiML, ``[server] sms_replies``): written ``sending`` on every backend,
    claimed by the request that answers with them, so no sweep sends them too."""

    name: str
    kinds: tuple[str, ...]
    policy: Policy
    render: Render
    outbox: str = OutboundStatus.SENDING
    in_answer: bool = False

    @property
    def sends(self) -> bool:
        """Its replies go out through the sender (SMS), not in the request's response."""
        return self.outbox in (OutboundStatus.SENDING, OutboundStatus.PENDING)


@dataclass(frozen=True)
class Reply:
    """What a turn did: its event and outcome, the rows the sender is to deliver, the
    bodies written (a retried event gets the same), and where the conversation stands."""

    event_id: int
    outcome: str
    outbox: tuple[int, ...]
    bodies: tuple[str | None, ...]
    result: Result | None
    again: bool = False  # a retry of an event handled before
    claimed: bool = False  # ``outbox`` written ``sending`` on every backend (``in_answer``)

    @property
    def turn(self) -> Turn | None:
        return self.result.turn if self.result else None


# What a turn's transaction did: a repeat's Reply, or its result, replies and their rows.
Done = Reply | tuple[Result, list[Outgoing], list[int]]


class Turns:
    def __init__(
        self, ctx: Context, channels: Sequence[Channel], worker: workers.Worker | None = None
    ):
        """``worker``: this process, registered (``workers.register``); one is registered
        here if not given."""
        self.ctx = ctx
        self.channels = {c.name: c for c in channels}
        self.worker = worker or workers.register(ctx.store)
        self.liveness = workers.Liveness(self.worker)

    def take(self, message: Message) -> Reply:
        """Record and handle one inbound message (see the module docstring)."""
        recorded = inbound.record(
            self.ctx.store,
            message.channel,
            message.kind,
            message.key,
            message.payload(),
            holder=self.worker.id,
        )
        if recorded.handled:
            return self._again(recorded.id, recorded.outcome or "")
        return self.handle(recorded.id, message)

    def take_all(self, messages: Sequence[Message]) -> list[Reply]:
        """``take`` for several messages (``kanavat/turn/batch.py``), with two commits between
        them: their events in one, then their turns in one. Nothing is promised before its
        commit, so each is as if taken alone; if any turn fails, the whole second commit is
        rolled back and the caller takes each alone (a failure stays its own)."""
        store = self.ctx.store
        with store.transaction(*sorted({locks.event(m.channel, m.kind, m.key) for m in messages})):
            recorded = [
                inbound.record(store, m.channel, m.kind, m.key, m.payload(), holder=self.worker.id)
                for m in messages
            ]
        todo = [(r.id, m) for r, m in zip(recorded, messages, strict=True) if not r.handled]
        residents = sorted({_resident(store, m) for _, m in todo})
        done = store.atomic(lambda: [self._work(i, m) for i, m in todo], *residents) if todo else []
        replies = iter(self._reply(i, m, d) for (i, m), d in zip(todo, done, strict=True))
        return [
            self._again(r.id, r.outcome or "") if r.handled else next(replies) for r in recorded
        ]

    def handle(self, event_id: int, message: Message) -> Reply:
        """Handle a stored event: policy, replies and outcome in one transaction."""
        store = self.ctx.store
        try:
            # The resident's lock: their turns one at a time in every worker. A connection
            # lost under the turn, or a deadlock PostgreSQL broke, rolled it back: it runs
            # again (its event, still unhandled, says it is not a repeat).
            done = store.atomic(lambda: self._work(event_id, message), _resident(store, message))
        except StoreUnavailable:
            log.warning("turn.store_unavailable channel=%s event=%s", message.channel, event_id)
            raise  # not the event's fault: its tries are not counted, the sweep takes it
        except Exception:
            gave_up = inbound.failed_once(store, event_id)
            log.exception(
                "turn.failed channel=%s kind=%s event=%s gave_up=%s",
                message.channel,
                message.kind,
                event_id,
                gave_up,
            )
            raise
        return self._reply(event_id, message, done)

    def _work(self, event_id: int, message: Message) -> Done:
        """A stored event's turn, inside the caller's transaction."""
        store = self.ctx.store
        channel = self.channels[message.channel]
        outcome = inbound.outcome(store, event_id)
        if outcome is not None:
            return self._again(event_id, outcome)
        result = channel.policy(self.ctx, message, event_id)
        outgoing = channel.render(message, result)
        ids = attempts.enqueue(
            store, _kept(channel, outgoing), event_id=event_id, status=_written(channel, store)
        )
        inbound.finish(store, event_id, result.outcome)
        return result, outgoing, ids

    def _reply(self, event_id: int, message: Message, done: Done) -> Reply:
        """What a committed turn did, logged."""
        if isinstance(done, Reply):
            return done
        result, outgoing, ids = done
        # An answer taken is routine (and, at a county's peak, hundreds a second: journald's
        # default rate limit drops a service's lines past 10,000 in 30 s); the rest is news.
        log.log(
            logging.DEBUG if result.outcome == "answered" else logging.INFO,
            "turn.handled channel=%s kind=%s event=%s outcome=%s replies=%s",
            message.channel,
            message.kind,
            event_id,
            result.outcome,
            len(ids),
        )
        channel = self.channels[message.channel]
        to_send = tuple(ids) if channel.sends else ()
        bodies = tuple(m.body for m in outgoing)
        return Reply(event_id, result.outcome, to_send, bodies, result, claimed=channel.in_answer)

    def _again(self, event_id: int, outcome: str) -> Reply:
        rows = attempts.of_event(self.ctx.store, event_id)
        return Reply(event_id, outcome, (), tuple(r["body"] for r in rows), None, again=True)

    def unhandled(self) -> list[tuple[inbound.Unhandled, Message]]:
        """Stored events never handled that this worker may take: held by nobody, by it, or
        by a worker gone (whose row is then forgotten), oldest first."""
        store = self.ctx.store
        alive, gone = self.liveness.judge(store)
        others = alive - {self.worker.id}
        found = []
        for channel in self.channels.values():
            for event in inbound.unhandled(store, channel.name, channel.kinds, not_held_by=others):
                try:
                    found.append((event, Message.from_payload(event.payload)))
                except TypeError:  # stored before turns had one shape: nothing to redo
                    inbound.finish(store, event.id, "error:unreadable")
        if gone:
            workers.forget(store, gone)
        return sorted(found, key=lambda e: e[0].id)

    def sweep(self) -> list[Reply]:
        """Handle every unhandled event this worker may take (see the module docstring);
        the replies to deliver are in the returned rows."""
        replies = []
        for event, message in self.unhandled():
            if not inbound.claim(self.ctx.store, event.id, event.holder, self.worker.id):
                continue  # handled, or claimed by another worker, meanwhile
            if event.holder not in (None, self.worker.id):
                log.info("turn.taken_over event=%s from=%s", event.id, event.holder)
            try:
                replies.append(self.handle(event.id, message))
            except Exception:
                continue  # counted and logged by handle(); tried again by the next sweep
        if replies:
            log.info("turn.sweep handled=%s", len(replies))
        return replies


def _resident(store: Store, message: Message) -> str:
    """The name a turn locks (``kanavat.locks``): the resident the message is from."""
    if message.session_id is not None:
        return locks.of_session(store, message.session_id)
    if message.phone:  # the policy adds the contact's lock once it has found the contact
        return locks.phone(message.phone)
    if message.visitor:
        return f"visitor:{message.visitor}"
    if message.recipient:
        return f"recipient:{message.recipient}"
    return locks.event(message.channel, message.kind, message.key)


def _written(channel: Channel, store: Store) -> str:
    """The status its replies are written in: a sending channel's as the store's backend
    wants them claimed (``attempts.to_send``), or claimed by the answer that carries them."""
    if channel.in_answer:
        return OutboundStatus.SENDING
    return attempts.to_send(store) if channel.sends else channel.outbox


def _kept(channel: Channel, outgoing: list[Outgoing]) -> list[Outgoing]:
    """A data request's answer shown in the response is not kept: it lists what the store
    holds about the person (a retried request gets where the conversation stands instead).
    One to send keeps its text until the provider has it."""
    if channel.sends:
        return outgoing
    return [dataclasses.replace(m, body=None) if m.purpose == "privacy" else m for m in outgoing]
