"""Stopping the scheduler just as APScheduler hands a tick to the event loop: the run
ends, nothing is cancelled, and no failed job (with its traceback) reaches the log."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from kanavat.outreach.scheduler import shut_down


@pytest.mark.parametrize("passes", [0, 1])
async def test_a_due_run_at_shutdown_is_no_failed_job(
    caplog: pytest.LogCaptureFixture, passes: int
) -> None:
    """0: stopped in the pass that starts it (the due run is handed over in the next, as the
    shutdown would be); 1: the run handed over already, not yet begun."""
    ran: list[int] = []

    async def tick() -> None:
        ran.append(1)

    aps = AsyncIOScheduler(timezone=UTC)
    aps.add_job(tick, "interval", seconds=100, next_run_time=datetime.now(UTC))
    with caplog.at_level(logging.INFO, logger="apscheduler"):
        aps.start()
        for _ in range(passes):
            await asyncio.sleep(0)
        await shut_down(aps)
        await asyncio.sleep(0.05)
    assert ran == [1] * passes  # a run handed over ends; none is handed over once paused
    assert "Error running job" not in caplog.text and "Traceback" not in caplog.text


async def test_without_the_pause_the_run_would_be_cancelled_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What ``shut_down`` guards against, as APScheduler does it (the nginx deployment
    test once found its traceback in the server's log)."""

    async def tick() -> None:
        pass

    aps = AsyncIOScheduler(timezone=UTC)
    aps.add_job(tick, "interval", seconds=100, next_run_time=datetime.now(UTC))
    with caplog.at_level(logging.INFO, logger="apscheduler"):
        aps.start()
        aps.shutdown(wait=False)
        await asyncio.sleep(0.05)
    assert "Error running job" in caplog.text
