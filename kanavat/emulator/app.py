"""The emulator as its own aiohttp application, and a helper that serves it on a port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from . import control, rest
from .core import Emulator
from .rest import EMULATOR
from .settings import EmulatorSettings


def create_emulator_app(settings: EmulatorSettings) -> web.Application:
    """Pure factory: state lives in ``app[EMULATOR]``; the HTTP session opens at startup."""
    app = web.Application(middlewares=[rest.rest_middleware], client_max_size=1024**2)
    app[EMULATOR] = Emulator(settings)
    app.cleanup_ctx.append(_session)
    app.add_routes(rest.routes)
    app.add_routes(control.routes)
    return app


async def _session(app: web.Application) -> AsyncIterator[None]:
    emu = app[EMULATOR]
    await emu.start()
    yield
    await emu.stop()  # cancels running calls and message lifecycles first


@asynccontextmanager
async def running_emulator(
    settings: EmulatorSettings, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Emulator]:
    """Serve the emulator on a real port (0 = any free one); yields it with ``base_url`` set."""
    app = create_emulator_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        emu = app[EMULATOR]
        emu.base_url = f"http://{host}:{bound}"
        yield emu
    finally:
        await runner.cleanup()
