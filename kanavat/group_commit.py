"""A group commit: work that arrives together done in one transaction.

At load, webhooks arrive faster than one event loop turn handles them, and a commit per
webhook is most of what storing them costs (each commit writes every page it touched). The
items queued together are handed to ``together`` at once (one commit); each caller is
answered after it, as if alone. If the group fails, ``together``'s transaction is undone
whole and every item is done again by ``alone``, so one item's failure stays its own.

"Together" is one pass of the event loop, or, under load, a little longer: the commit delay
of PostgreSQL (``commit_delay``, taken only with ``commit_siblings`` busy) or MySQL's group
commit. Under load the items of one pass were a dozen SMS answers at 32 in flight, and each
group paid its commit and its share of the pages written. So a group waits for as many items
as the last one had (the webhooks in flight come round again), up to ``delay``: at a steady
load the groups grow to what is in flight and are committed as soon as it is there, never
waiting for what is blocked on the commit itself (a fixed wait had capped 8 messages in
flight at 1,000/s). A quiet server's item (the last group was one, or was committed a
``PAUSE`` ago) is committed at the next pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

# The longest a group waits for its expected items, which under a steady load come sooner;
# a wait this long happens when the load drops (ten milliseconds are nothing to a webhook:
# Twilio waits 15 s). On the SMS bench (answers, 32 in flight, two cores) 8-12 ms gave
# 1,010-1,070 answers/s, 5 ms 990-1,000, 2 ms 940 (one pass, no wait: 880).
UNDER_LOAD_DELAY = 0.010
# No commit for this long (seconds) is a pause: the load has gone, the next item does not
# wait. Far longer than the delay: under load the REST calls and callbacks that follow a
# group's commit can hold the next group's first item back for tens of milliseconds.
PAUSE = 0.25

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """``await take(item)``: ``item``'s result, committed with the items arriving with it.

    ``together`` returns one result per item, in the order given; ``order`` (a sort key)
    arranges a group before that; ``split`` hears of a group of several that failed;
    ``delay`` (seconds) is how long a group waits for more items under load (0: one pass);
    ``most`` caps the count a group waits for (the items of the pass that reaches it still
    join: a bound on waiting, not on the group)."""

    def __init__(
        self,
        together: Callable[[list[Item]], list[Result]],
        alone: Callable[[Item], Result],
        *,
        order: Callable[[Item], Any] | None = None,
        split: Callable[[int, Exception], None] | None = None,
        delay: float = 0.0,
        most: int = 256,
    ):
        self.together = together
        self.alone = alone
        self.order = order
        self.split = split
        self.delay = delay
        self.most = most
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._last_size = 0
        self._last_at = float("-inf")  # the loop's time at the last commit

    async def take(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            if self._under_load(loop.time()):
                self._timer = loop.call_later(self.delay, self._commit)
            else:
                loop.call_soon(self._commit)
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        # Under load, committed once as many as the last group have come (or ``most``).
        if self._timer is not None and len(self._waiting) >= min(self._last_size, self.most):
            self._timer.cancel()
            self._timer = None
            loop.call_soon(self._commit)
        return await future

    def _under_load(self, now: float) -> bool:
        """The last group was several items, committed within ``PAUSE``: their webhooks are
        coming round again. After a pause the load has gone."""
        return self.delay > 0 and self._last_size > 1 and now - self._last_at <= PAUSE

    def _commit(self) -> None:
        self._timer = None
        batch, self._waiting = self._waiting, []
        if not batch:
            return
        try:
            self._commit_group(batch)
        except BaseException as exc:  # never leave a caller waiting: a bug, a cancellation
            for _, future in batch:
                if future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)  # the webhook fails with it, logged there
                else:
                    future.cancel()
            if not isinstance(exc, Exception):
                raise
        finally:
            self._last_size = len(batch)
            self._last_at = asyncio.get_running_loop().time()

    def _commit_group(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        if self.order is not None:
            order = self.order
            batch.sort(key=lambda entry: order(entry[0]))
        try:
            results = self.together([item for item, _ in batch])
        except Exception as exc:
            if self.split is not None and len(batch) > 1:
                self.split(len(batch), exc)
            for item, future in batch:
                if future.done():
                    continue
                try:
                    future.set_result(self.alone(item))
                except Exception as alone:
                    future.set_exception(alone)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
