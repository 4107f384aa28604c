"""Helpers for tests that run ``kanavat`` as real processes (and kill them): a command run
to completion, a row count read through a fresh store, a server's health awaited, a condition
polled."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from kanavat.store import Store

KANAVAT = (sys.executable, "-m", "kanavat")


def kanavat(config: Path, *args: str, env: dict[str, str], timeout: float = 120) -> None:
    """Run one ``kanavat`` command with the config to its end; a failure fails the test."""
    subprocess.run(
        [*KANAVAT, *args, "--config", str(config)],
        check=True,
        capture_output=True,
        timeout=timeout,
        env=env,
    )


def count(database: str | Path, sql: str) -> int:
    """Rows of a query, through a store of its own (SQLite path or PostgreSQL URL)."""
    store = Store(database)
    try:
        return int(store.one(f"SELECT count(*) AS n FROM ({sql}) AS q")["n"])  # type: ignore[index]
    finally:
        store.close()


async def healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Wait until the server answers 200 at ``url``; its log if it dies or never does."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
