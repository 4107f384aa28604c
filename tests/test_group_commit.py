"""The group commit's timing rules (``kanavat/group_commit.py``): a quiet server's item is
committed at the next pass of the loop; under load a group waits for as many items as the
last one had, no longer than its delay and not past its size bound. (What the groups
commit, and one item's failure staying its own, are tested through the turns in
``tests/sms/test_batched_turns.py``.)

The delay here is long (seconds) so that "not yet committed" can be checked after passes of
the loop without any timing in the assertions."""

from __future__ import annotations

import asyncio

import pytest

from kanavat.group_commit import PAUSE, GroupCommit

LONG = 30.0  # seconds: a group waiting this long is still waiting when the test looks


class Recorder:
    """``together`` and ``alone`` for the group: the groups it was handed, in order."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []

    def together(self, items: list[int]) -> list[int]:
        self.groups.append(list(items))
        return [i * 10 for i in items]

    def alone(self, item: int) -> int:
        self.groups.append([item])
        return item * 10


async def passes(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_lone_item_is_committed_at_the_next_pass_without_waiting() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.together, recorder.alone, delay=LONG)
    first = asyncio.ensure_future(group.take(1))
    await passes()
    assert first.done() and first.result() == 10
    second = asyncio.ensure_future(group.take(2))  # the last group was one item: no wait
    await passes()
    assert second.done() and recorder.groups == [[1], [2]]


async def test_under_load_a_group_waits_for_as_many_items_as_the_last() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.together, recorder.alone, delay=LONG)
    together = [asyncio.ensure_future(group.take(i)) for i in (1, 2)]
    await passes()
    assert [f.result() for f in together] == [10, 20]  # one pass: no wait yet
    waiting = [asyncio.ensure_future(group.take(3))]
    await passes()
    assert not waiting[0].done(), "a group under load waits for the items in flight"
    waiting.append(asyncio.ensure_future(group.take(4)))  # a later pass: two, as last time
    await passes()
    assert [f.result() for f in waiting] == [30, 40]
    assert recorder.groups == [[1, 2], [3, 4]]


async def test_a_group_waits_no_longer_than_its_delay_nor_past_its_bound() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.together, recorder.alone, delay=0.01, most=2)
    await asyncio.gather(*(group.take(i) for i in (1, 2, 3)))  # one pass: no bound
    bounded = [asyncio.ensure_future(group.take(i)) for i in (4, 5)]
    await passes()
    assert [f.result() for f in bounded] == [40, 50]  # at its bound, not the last's 3
    assert await group.take(6) == 60  # one item, after its wait: the load has dropped
    assert await group.take(7) == 70  # and the next is not made to wait
    assert recorder.groups == [[1, 2, 3], [4, 5], [6], [7]]


async def test_after_a_pause_the_next_item_does_not_wait() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.together, recorder.alone, delay=0.01)
    await asyncio.gather(group.take(1), group.take(2))  # load, then none for a while:
    await asyncio.sleep(PAUSE + 0.05)  # a pause: the load has gone
    after = asyncio.ensure_future(group.take(3))
    await passes()
    assert after.done() and recorder.groups == [[1, 2], [3]]


async def test_a_group_whose_results_do_not_fit_fails_its_callers_not_the_loop() -> None:
    group = GroupCommit(lambda items: [], lambda item: item)  # a bug: no result per item
    with pytest.raises(ValueError):
        await group.take(1)


async def test_a_failing_group_is_done_again_item_by_item() -> None:
    recorder = Recorder()

    def failing(items: list[int]) -> list[int]:
        raise RuntimeError("one item's fault")

    group = GroupCommit(failing, recorder.alone, delay=LONG)
    results = await asyncio.gather(group.take(1), group.take(2))
    assert results == [10, 20] and recorder.groups == [[1], [2]]
