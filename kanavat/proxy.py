"""Behind a reverse proxy on the same host: the client's address from ``X-Real-IP``.

The chat limits open sockets and messages per address; behind nginx every request comes from
127.0.0.1, so one busy school would lock everyone out. The header is believed only from a
loopback peer (the proxy, which overwrites it: ``deploy/nginx/kanavat.conf``); from anywhere
else it is ignored, so a client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADER = "X-Real-IP"


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _loopback(peer: str | None) -> bool:
    try:
        return peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


@web.middleware
async def real_ip(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``request.remote`` becomes the proxy's ``X-Real-IP`` when the peer is loopback."""
    client = _address(request.headers.get(HEADER))
    if client is not None and _loopback(request.remote):
        request = request.clone(remote=client)
    return await handler(request)
