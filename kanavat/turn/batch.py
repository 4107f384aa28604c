"""Turns that arrive together, committed together (a group commit).

At load, webhooks arrive faster than one event loop turn handles them, and a commit per
event and per turn was a fifth of an SMS answer's cost on the store (each commit writes
every page it touched: the events, answers, sessions and outbox tables and their indexes).
Messages whose webhooks reach the turn in one pass of the event loop are taken together
(``Turns.take_all``): their events stored in one commit, then their turns in one; each
webhook is answered after its turn's commit, as if alone. If any turn of the group fails,
its transaction is rolled back whole and every message is taken again on its own, so one
message's failure stays its own (counted on its event, answered 500 as before).

Guarantees are ``Turns.take``'s: every event is stored before it is acted on, and a turn's
answer, state, replies and outcome are one commit.
"""

from __future__ import annotations

import asyncio
import logging

from kanavat.turn.entry import Reply, Turns
from kanavat.turn.message import Message

log = logging.getLogger("kanavat.turn")


class TurnBatches:
    """``await take(message)``: the message's turn, committed with those arriving with it."""

    def __init__(self, turns: Turns):
        self.turns = turns
        self._waiting: list[tuple[Message, asyncio.Future[Reply]]] = []

    async def take(self, message: Message) -> Reply:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._commit)
        future: asyncio.Future[Reply] = loop.create_future()
        self._waiting.append((message, future))
        return await future

    def _commit(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            replies = self.turns.take_all([m for m, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                log.info("turn.batch.split size=%s reason=%s", len(batch), type(exc).__name__)
            for message, future in batch:
                if future.done():
                    continue
                try:
                    future.set_result(self.turns.take(message))
                except Exception as alone:
                    future.set_exception(alone)
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if not future.done():
                future.set_result(reply)
