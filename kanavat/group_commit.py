"""A group commit: work that arrives in one pass of the event loop done in one transaction.

At load, webhooks arrive faster than one event loop turn handles them, and a commit per
webhook is most of what storing them costs (each commit writes every page it touched). The
items queued in one pass are handed to ``together`` at once (one commit); each caller is
answered after it, as if alone. If the group fails, ``together``'s transaction is undone
whole and every item is done again by ``alone``, so one item's failure stays its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """``await take(item)``: ``item``'s result, committed with the items arriving with it.

    ``together`` returns one result per item, in the order given; ``order`` (a sort key)
    arranges a group before that; ``split`` hears of a group of several that failed."""

    def __init__(
        self,
        together: Callable[[list[Item]], list[Result]],
        alone: Callable[[Item], Result],
        *,
        order: Callable[[Item], Any] | None = None,
        split: Callable[[int, Exception], None] | None = None,
    ):
        self.together = together
        self.alone = alone
        self.order = order
        self.split = split
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []

    async def take(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._commit)
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        return await future

    def _commit(self) -> None:
        batch, self._waiting = self._waiting, []
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
