"""``GET /reports/{campaign}``: the council report for officials, behind a login.

Officials log in with the token from ``server.officials_token`` (written ``"env:NAME"`` in the
config) or the ``KANAVAT_OFFICIALS_TOKEN`` environment variable: either as
``Authorization: Bearer <token>`` or as HTTP Basic with the token as the password (any user
name), so a browser's own login prompt works. Without a configured token nobody gets in.
Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from kanavat.config import Config, UnknownName
from kanavat.report.render import render
from kanavat.store import Store

log = logging.getLogger("kanavat.report")
TOKEN_ENV = "KANAVAT_OFFICIALS_TOKEN"
REALM = "kanavat reports"
FORMATS = ("html", "json", "csv")
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is self-contained: no scripts, no fetches; inline CSS and SVG only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def officials_token(config: Config, env: dict[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    return config.server.officials_token or env.get(TOKEN_ENV) or None


def authorised(header: str | None, token: str | None) -> bool:
    """True for ``Bearer <token>`` or Basic with ``<token>`` as the password."""
    if not header or not token:
        return False
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    given: str | None = None
    if scheme.lower() == "bearer":
        given = credentials
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given = decoded.partition(":")[2]
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _unauthorised() -> web.Response:
    response = web.Response(status=401, text="401: log in as an official to see reports\n")
    response.headers.add("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
    response.headers.add("WWW-Authenticate", f'Bearer realm="{REALM}"')
    response.headers.update({"Cache-Control": "no-store"})
    return response


def routes(
    config: Config,
    store: Callable[[], Store] | None = None,
    env: dict[str, str] | None = None,
) -> web.RouteTableDef:
    """The report routes. ``store`` returns the app's shared store; without it each request
    opens (and closes) its own connection, which WAL mode allows beside the server's."""
    table = web.RouteTableDef()
    token = officials_token(config, env)

    @table.get("/reports/{campaign}")
    async def report(request: web.Request) -> web.Response:
        if not authorised(request.headers.get("Authorization"), token):
            log.info("report.denied path=%s", request.path)
            return _unauthorised()
        campaign = request.match_info["campaign"]
        fmt = request.query.get("format", "html")
        if fmt not in FORMATS:
            raise web.HTTPBadRequest(text=f"format must be one of {', '.join(FORMATS)}\n")
        if campaign not in config.campaigns:
            raise web.HTTPNotFound(text=f"no campaign '{campaign}'\n")
        compare = request.query.get("compare") or None
        if compare and compare not in config.campaigns:
            raise web.HTTPNotFound(text=f"no campaign '{compare}'\n")
        options: dict[str, Any] = {
            "language": request.query.get("lang") or None,
            "by": request.query.getall("by", []) or None,
            "compare": compare,
        }
        started = time.monotonic()
        try:
            body = await asyncio.to_thread(_render, config, store, campaign, fmt, options)
        except UnknownName as exc:
            raise web.HTTPNotFound(text=f"{exc}\n") from None
        log.info(
            "report.served campaign=%s format=%s ms=%d",
            campaign,
            fmt,
            (time.monotonic() - started) * 1000,
        )
        content_type = {"html": "text/html", "json": "application/json", "csv": "text/csv"}[fmt]
        return web.Response(text=body, content_type=content_type, charset="utf-8", headers=HEADERS)

    return table


def add_routes(
    app: web.Application, config: Config, store: Callable[[], Store] | None = None
) -> None:
    app.add_routes(routes(config, store))


def _render(
    config: Config, store: Callable[[], Store] | None, campaign: str, fmt: str, options: dict
) -> str:
    if store is not None:  # the server's store: its free text read at once, not while written
        return render(store(), config, campaign, fmt, stream=False, **options)
    own = Store(config.database, secret=config.server.secret)
    try:
        return render(own, config, campaign, fmt, **options)
    finally:
        own.close()
