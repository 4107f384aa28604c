"""Twilio-facing request checks: every ``/twilio/*`` request must carry a valid signature.

The signature is computed over the public URL Twilio used (``server.public_url`` + path and
query), never the internal address, so it still holds behind a proxy. A JSON webhook carries
``bodySHA256`` in its query instead of form parameters: then the raw body must hash to it and
the URL alone is signed, exactly as Twilio's ``RequestValidator`` checks it. A failure is
answered 403 and logged without the body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from kanavat import signing
from kanavat.appkeys import AUTH_TOKEN, CONFIG

log = logging.getLogger("kanavat.webhooks")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_FORM_BYTES = 64 * 1024  # a Twilio form is a few kB; anything larger is not Twilio


def websocket_base(public_url: str) -> str:
    """The public URL as Twilio dials a websocket on it: https -> wss, http -> ws."""
    scheme, rest = public_url.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest


def public_url(request: web.Request) -> str:
    base = request.app[CONFIG].server.public_url
    if request.headers.get("Upgrade", "").lower() == "websocket":
        base = websocket_base(base)
    return base + request.rel_url.path_qs


@web.middleware
async def twilio_signature(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/twilio/"):
        return await handler(request)
    signature = request.headers.get("X-Twilio-Signature")
    token = request.app[AUTH_TOKEN]
    url = public_url(request)
    if request.method == "POST":
        if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
            log.warning(
                "webhook.rejected path=%s reason=too_large bytes=%s",
                request.path,
                request.content_length,
            )
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_FORM_BYTES, actual_size=request.content_length
            )
        if "bodySHA256" in request.query:
            valid = signing.is_valid_json(token, url, await _body_text(request), signature)
            return await _checked(request, handler, valid, signature)
        try:
            form = await request.post()
        except ValueError:
            log.warning("webhook.rejected path=%s reason=unreadable_form", request.path)
            raise web.HTTPBadRequest(text="unreadable form body") from None
        params = [(k, v) for k, v in form.items() if isinstance(v, str)]
    else:
        params = []
    valid = signing.is_valid(token, url, params, signature)
    if not valid and request.method == "GET" and not url.endswith("/"):
        valid = signing.is_valid(token, url + "/", params, signature)  # Twilio's advice for streams
    return await _checked(request, handler, valid, signature)


async def _body_text(request: web.Request) -> str:
    """The raw body as the validator hashes it (UTF-8); undecodable bytes cannot match."""
    raw = await request.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("webhook.rejected path=%s reason=undecodable_body", request.path)
        raise web.HTTPBadRequest(text="request body is not UTF-8") from None


async def _checked(
    request: web.Request, handler: Handler, valid: bool, signature: str | None
) -> web.StreamResponse:
    if not valid:
        log.warning(
            "webhook.forbidden path=%s reason=%s",
            request.path,
            "missing_signature" if not signature else "bad_signature",
        )
        raise web.HTTPForbidden(text="invalid or missing X-Twilio-Signature")
    return await handler(request)
