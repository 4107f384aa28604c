"""The Twilio REST API subset kanavat uses: Messages and Calls under /2010-04-01.

Wire-exact where the official library or the server could notice: Basic auth with 20003,
form bodies with repeated keys, 201/200/204, snake_case JSON, legacy error bodies, list
pages with a single list key and ``next_page_uri`` (twilio-protocol.md §1).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from . import calls as calls_mod
from .core import Emulator
from .messages import create_outbound
from .wire import API_VERSION, RestError, error_response, is_e164

EMULATOR = web.AppKey("emulator", Emulator)
PREFIX = f"/{API_VERSION}/Accounts/{{account}}"
routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth first, then turn ``RestError`` into Twilio's error body."""
    if not request.path.startswith(f"/{API_VERSION}/"):
        return await handler(request)
    settings = request.app[EMULATOR].settings
    creds = _credentials(request)
    ok = (
        creds is not None
        and hmac.compare_digest(creds[0], settings.account_sid)
        and hmac.compare_digest(creds[1], settings.auth_token)
    )
    if not ok:
        resp = error_response(401, 20003, "Authenticate")
        resp.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return resp
    try:
        if request.match_info.get("account") not in (None, settings.account_sid):
            raise _not_found(request)
        return await handler(request)
    except RestError as exc:
        return error_response(exc.status, exc.code, exc.message)


Record = TypeVar("Record")


def _not_found(request: web.Request) -> RestError:
    return RestError(404, 20404, f"The requested resource {request.path} was not found")


def _by_sid(request: web.Request, records: dict[str, Record]) -> Record:
    """The record the path's ``{sid}`` names, or Twilio's 404 for it."""
    found = records.get(request.match_info["sid"])
    if found is None:
        raise _not_found(request)
    return found


def _page(request: web.Request, key: str, items: list[dict[str, Any]]) -> web.Response:
    query = request.query
    try:
        size = min(max(int(query.get("PageSize", 50)), 1), 1000)
        page = max(int(query.get("Page", 0)), 0)
    except ValueError:
        raise RestError(400, 20001, "PageSize and Page must be integers") from None
    filters = [(k, v) for k, v in query.items() if k not in ("PageSize", "Page", "PageToken")]

    def uri(number: int) -> str:
        paging = [("PageSize", str(size)), ("Page", str(number))]
        if number:
            paging.append(("PageToken", f"PA{number}"))
        return f"{request.path}?{urlencode(filters + paging)}"

    start = page * size
    chunk = items[start : start + size]
    body = {
        key: chunk,
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(items) else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + max(len(chunk) - 1, 0),
        "uri": uri(page),
    }
    return web.json_response(body)


def _newest_first(records: list[Any]) -> list[Any]:
    return sorted(records, key=lambda r: r.date_created, reverse=True)


# -- Messages ----------------------------------------------------------------------------


@routes.post(PREFIX + "/Messages.json")
async def create_message(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    form = await request.post()
    if form.get("MessagingServiceSid") and not form.get("From"):
        raise RestError(400, 21603, "Messaging services are not emulated; send with From.")
    msg = create_outbound(
        emu,
        str(form.get("To", "")),
        str(form.get("From", "")),
        str(form.get("Body", "")),
        str(form.get("StatusCallback", "")) or None,
    )
    return web.json_response(msg.to_json(emu.settings.account_sid), status=201)


@routes.get(PREFIX + "/Messages.json")
async def list_messages(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    to, from_ = request.query.get("To"), request.query.get("From")
    records = [
        m
        for m in _newest_first(list(emu.messages.values()))
        if (not to or m.to == to) and (not from_ or m.from_ == from_)
    ]
    return _page(request, "messages", [m.to_json(emu.settings.account_sid) for m in records])


@routes.get(PREFIX + "/Messages/{sid}.json")
async def fetch_message(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    msg = _by_sid(request, emu.messages)
    return web.json_response(msg.to_json(emu.settings.account_sid))


@routes.delete(PREFIX + "/Messages/{sid}.json")
async def delete_message(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    del emu.messages[_by_sid(request, emu.messages).sid]
    return web.Response(status=204)


# -- Calls -------------------------------------------------------------------------------


def _source(form: Any) -> calls_mod.Source | None:
    if form.get("Url"):  # Url wins over Twiml (§4)
        return ("url", str(form["Url"]), str(form.get("Method", "POST")).upper(), ())
    if form.get("Twiml"):
        return ("twiml", str(form["Twiml"]))
    return None


@routes.post(PREFIX + "/Calls.json")
async def create_call(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    form = await request.post()
    to, from_ = str(form.get("To", "")), str(form.get("From", ""))
    if not to:
        raise RestError(400, 21201, "No 'To' number is specified")
    if not is_e164(to):
        raise RestError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not from_:
        raise RestError(400, 21213, "No 'From' number is specified")
    source = _source(form)
    if source is None:
        raise RestError(400, 21205, "Either a Url, Twiml or ApplicationSid parameter is required.")
    events = {e for value in form.getall("StatusCallbackEvent", []) for e in str(value).split()}
    try:
        timeout = min(max(int(str(form.get("Timeout", 60))), 1), 600)
        amd_timeout = float(str(form.get("MachineDetectionTimeout", 30)))
    except ValueError:
        raise RestError(400, 21210, "Timeout must be an integer") from None
    call = calls_mod.new_call(
        emu,
        from_,
        to,
        "outbound-api",
        source=source,
        status_callback=str(form.get("StatusCallback", "")) or None,
        status_callback_method=str(form.get("StatusCallbackMethod", "POST")).upper(),
        events=frozenset(events or {"completed"}),
        timeout=float(timeout),
        machine_detection=str(form.get("MachineDetection", "")) or None,
        machine_detection_timeout=amd_timeout,
        async_amd=str(form.get("AsyncAmd", "false")).lower() == "true",
        async_amd_callback=str(form.get("AsyncAmdStatusCallback", "")) or None,
        async_amd_method=str(form.get("AsyncAmdStatusCallbackMethod", "POST")).upper(),
    )
    emu.handset(to)
    calls_mod.start_outbound(emu, call)
    return web.json_response(call.to_json(emu.settings.account_sid), status=201)


@routes.get(PREFIX + "/Calls.json")
async def list_calls(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    q = request.query
    records = [
        c
        for c in _newest_first(list(emu.calls.values()))
        if (not q.get("To") or c.to == q["To"])
        and (not q.get("From") or c.from_ == q["From"])
        and (not q.get("Status") or c.status == q["Status"])
    ]
    return _page(request, "calls", [c.to_json(emu.settings.account_sid) for c in records])


@routes.get(PREFIX + "/Calls/{sid}.json")
async def fetch_call(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    call = _by_sid(request, emu.calls)
    return web.json_response(call.to_json(emu.settings.account_sid))


@routes.post(PREFIX + "/Calls/{sid}.json")
async def update_call(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    call = _by_sid(request, emu.calls)
    form = await request.post()
    status = str(form.get("Status", "")) or None
    if status not in (None, "completed", "canceled"):
        raise RestError(400, 21218, f"Invalid call status {status}")
    calls_mod.update(emu, call, status, _source(form))
    if status:
        # Answer once the hang-up has taken effect, as the library's callers expect.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.log.ended.wait(), 5)
    return web.json_response(call.to_json(emu.settings.account_sid))


@routes.delete(PREFIX + "/Calls/{sid}.json")
async def delete_call(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    call = _by_sid(request, emu.calls)
    if call.status not in calls_mod.TERMINAL:
        raise RestError(400, 20009, "Cannot delete a call in progress")
    del emu.calls[call.sid]
    return web.Response(status=204)
