"""The real kanavat server on a free port, for chat tests over real HTTP and websockets.

Built with the production factory from a copy of the example ``config.toml`` whose
``server.public_url`` points at the chosen port and whose database lives in ``tmp_path``.
The chat campaign is started as an official would (``running``), since its configured window
may lie in the future.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from harness import write_config

from kanavat import config as configuration
from kanavat.appkeys import STORE
from kanavat.outreach import campaigns
from kanavat.server import Options, create_app
from kanavat.store import Store

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "nuoret-2027"


def free_port_pair() -> int:
    """A port p with p + 1 also free (the emulator takes the next one)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports")


@dataclass
class ChatServer:
    config_path: Path
    port: int
    app: web.Application

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def store(self) -> Store:
        return self.app[STORE]

    def set_status(self, status: campaigns.Status) -> None:
        campaigns.set_status(self.store, CAMPAIGN, status)


async def start_server(
    tmp_path: Path, *, running: bool = True, public_url: str | None = None
) -> AsyncIterator[ChatServer]:
    port = free_port_pair()
    path = write_config(tmp_path, port, public_url=public_url)
    config = configuration.load(path, env={})
    app = create_app(config, Options(emulator_port=port + 1, dispatch_interval=5.0))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server = ChatServer(path, port, app)
    if running:
        server.set_status("running")
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def chat_server(tmp_path: Path) -> AsyncIterator[ChatServer]:
    async for server in start_server(tmp_path):
        yield server


@pytest.fixture
def nlu_dir(tmp_path: Path) -> Path:
    """Where a county puts Rasa NLU files: ``nlu/`` beside config.toml."""
    target = tmp_path / "nlu"
    shutil.copytree(Path(__file__).parent / "nlu", target)
    return target
