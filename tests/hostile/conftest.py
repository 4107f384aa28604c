"""Hostile input: property-based tests (hypothesis) at every place input enters kanavat.

One settings profile keeps them fast: a few dozen examples each, no deadline (the machine is
shared, and timing is not what these tests check). Server tests run hypothesis in a worker
thread against the real server on the test's event loop (``on_loop`` hands coroutines back
to it), so the server, the emulator and the websockets are the production ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "hostile",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples every run: a failure is reproducible
)
HOSTILE = settings.get_profile("hostile")
SERVER = settings(HOSTILE, max_examples=25)


def on_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on the server's loop from hypothesis' worker thread."""
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)


class Failures(logging.Handler):
    """Every log record with a traceback or at ERROR: a hostile input must cause none."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(f"{record.name} {record.getMessage()}")


@pytest.fixture
def failures() -> Iterator[Failures]:
    handler = Failures()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
