"""A small HTTP and websocket load balancer for tests with several kanavat workers.

Round robin over the workers; a worker that refuses the connection (killed) is skipped and
the next one tried, as nginx's ``proxy_next_upstream error`` does (docs/deploy.md). A
websocket (a Media Stream, a chat socket) is pumped both ways to the worker it was opened
on; when that worker dies the socket closes, as it would behind a real balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import WSMsgType, web

HOP = {"host", "connection", "upgrade", "transfer-encoding", "keep-alive", "content-length"}


class Balancer:
    def __init__(self, upstreams: list[str]):
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self.http: aiohttp.ClientSession | None = None

    def _order(self) -> list[str]:
        first = next(self._next)
        return self.upstreams[first:] + self.upstreams[:first]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        assert self.http is not None
        for upstream in self._order():
            try:
                async with self.http.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as resp:
                    data = await resp.read()
                    kept = {k: v for k, v in resp.headers.items() if k.lower() not in HOP}
                    return web.Response(body=data, status=resp.status, headers=kept)
            except aiohttp.ClientConnectorError:
                continue  # that worker is gone: the next one
        return web.Response(status=502, text="no worker")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        assert self.http is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP and not k.lower().startswith("sec-websocket")
        }
        for upstream in self._order():
            try:
                theirs = await self.http.ws_connect(
                    upstream.replace("http", "ws", 1) + request.path_qs, headers=headers
                )
            except aiohttp.ClientConnectorError:
                continue
            ours = web.WebSocketResponse()
            await ours.prepare(request)
            await asyncio.gather(_pump(ours, theirs), _pump(theirs, ours))
            return ours
        return web.Response(status=502, text="no worker")


async def _pump(source, sink) -> None:  # type: ignore[no-untyped-def]
    try:
        async for msg in source:
            if msg.type == WSMsgType.TEXT:
                await sink.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await sink.send_bytes(msg.data)
            else:
                break
    except Exception:
        pass
    finally:
        with contextlib.suppress(Exception):
            await sink.close()


@contextlib.asynccontextmanager
async def balancing(port: int, upstreams: list[str]) -> AsyncIterator[Balancer]:
    balancer = Balancer(upstreams)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", balancer.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        balancer.http = http
        try:
            yield balancer
        finally:
            await runner.cleanup()
