"""Helpers for the scheduler tests: a clock the test turns by hand, configs with chosen hours,
and the harness server with that clock injected through ``kanavat.server.Options``."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fake_clock import Clock
from harness import EXAMPLE_CONFIG, Server, free_port, write_config

HELSINKI = ZoneInfo("Europe/Helsinki")
OPEN = '["mon-sun 00:00-24:00"]'


def local(*args: int) -> datetime:
    """A moment in Helsinki, as an aware UTC datetime."""
    return datetime(*args, tzinfo=HELSINKI).astimezone(UTC)  # type: ignore[misc]


def config_text(
    *,
    call_hours: str | None = None,
    sms_hours: str | None = None,
    holidays: bool | None = None,
    extra: str = "",
) -> str:
    """The example config with the county's hours replaced (``OPEN``: a rehearsal)."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if call_hours is not None:
        text = re.sub(r"^call_hours = .*$", f"call_hours = {call_hours}", text, count=1, flags=re.M)
    if sms_hours is not None:
        text = re.sub(r"^sms_hours = .*$", f"sms_hours = {sms_hours}", text, count=1, flags=re.M)
    if holidays is not None:
        value = "true" if holidays else "false"
        text = re.sub(r"^holidays = .*$", f"holidays = {value}", text, count=1, flags=re.M)
    return text + extra


@contextlib.asynccontextmanager
async def clock_server(
    tmp_path: Path,
    clock: Clock,
    text: str,
    *,
    dispatch_interval: float = 0.05,
    messages_per_second: int = 200,
) -> AsyncIterator[Server]:
    port, emulator_port = free_port(), free_port()
    server = Server(
        # The hours are those under test, not the harness's rehearsal hours.
        write_config(
            tmp_path, port, text=text, open_hours=False, messages_per_second=messages_per_second
        ),
        port,
        emulator_port,
        dispatch_interval,
        20.0,
        clock=clock,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
