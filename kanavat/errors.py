"""The one place exceptions become responses (as datasette's ``handle_exception``): an
``HTTPException`` is the caller's answer as raised; anything else is ours, logged with its
traceback and answered 500 with nothing personal in it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("kanavat.errors")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request.failed path=%s", request.path)
        raise web.HTTPInternalServerError(text="internal error; it has been logged") from None
