"""Behind the proxy: the client's address comes from X-Real-IP, only when the peer is loopback."""

from __future__ import annotations

from aiohttp import web

from kanavat.proxy import real_ip


async def remote(request: web.Request) -> web.Response:
    return web.Response(text=request.remote or "")


async def test_loopback_proxy_gives_the_clients_address(aiohttp_client) -> None:
    app = web.Application(middlewares=[real_ip])
    app.router.add_get("/", remote)
    client = await aiohttp_client(app)
    for header, expected in [
        (None, "127.0.0.1"),
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("not-an-address", "127.0.0.1"),
        ("203.0.113.7, 10.0.0.1", "127.0.0.1"),  # a list is not what the proxy sets
    ]:
        headers = {"X-Real-IP": header} if header else {}
        async with client.get("/", headers=headers) as resp:
            assert await resp.text() == expected, header
