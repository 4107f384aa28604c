"""Turns that arrive together, committed together (a group commit).

At load, webhooks arrive faster than one event loop turn handles them, and a commit per
event and per turn was a fifth of an SMS answer's cost on the store (each commit writes
every page it touched: the events, answers, sessions and outbox tables and their indexes).
Messages whose webhooks reach the turn together (in one pass of the event loop, or under
load within a few milliseconds: ``kanavat/group_commit.py``) are taken together
(``Turns.take_all``): their events stored in one commit, then their turns in one; each
webhook is answered after its turn's commit, as if alone. If any turn of the group fails,
its transaction is rolled back whole and every message is taken again on its own, so one
message's failure stays its own (counted on its event, answered 500 as before).

Guarantees are ``Turns.take``'s: every event is stored before it is acted on, and a turn's
answer, state, replies and outcome are one commit.
"""

from __future__ import annotations

import logging

from kanavat.group_commit import UNDER_LOAD_DELAY, GroupCommit
from kanavat.turn.entry import Reply, Turns
from kanavat.turn.message import Message

log = logging.getLogger("kanavat.turn")


class TurnBatches(GroupCommit[Message, Reply]):
    """``await take(message)``: the message's turn, committed with those arriving with it."""

    def __init__(self, turns: Turns):
        super().__init__(turns.take_all, turns.take, split=_split, delay=UNDER_LOAD_DELAY)
        self.turns = turns


def _split(size: int, exc: Exception) -> None:
    log.info("turn.batch.split size=%s reason=%s", size, type(exc).__name__)
