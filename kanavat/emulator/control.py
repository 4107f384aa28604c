"""HTTP control API under ``/_emulator``: drive virtual residents with curl in a rehearsal.

JSON in and out; no authentication, so bind the emulator to loopback only. The routes
mirror the Python API of ``Emulator`` and ``Handset`` (see the package docstring).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import web

from .messages import MessageRecord, replies_from_twiml
from .resident import script_from_json
from .rest import EMULATOR
from .settings import HandsetBehaviour
from .wire import new_sid

routes = web.RouteTableDef()
BEHAVIOUR_FIELDS = {f.name for f in dataclasses.fields(HandsetBehaviour)}


def _behaviour_json(behaviour: Any) -> dict[str, Any]:
    data = {k: v for k, v in dataclasses.asdict(behaviour).items() if k != "script"}
    data["script"] = None if behaviour.script is None else "set"
    return data


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


@routes.get("/_emulator")
async def info(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    s = emu.settings
    return web.json_response(
        {
            "account_sid": s.account_sid,
            "phone_number": s.phone_number,
            "sms_url": s.sms_url,
            "voice_url": s.voice_url,
            "speed": s.speed,
            "messages": len(emu.messages),
            "calls": len(emu.calls),
            "handsets": len(emu.handsets),
        }
    )


@routes.get("/_emulator/handsets")
async def handsets(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return web.json_response([h.to_json() for h in emu.handsets.values()])


@routes.get("/_emulator/handsets/{number}")
async def handset(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    h = emu.handset(request.match_info["number"])
    return web.json_response({**h.to_json(full=True), "behaviour": _behaviour_json(h.behaviour)})


@routes.post("/_emulator/handsets/{number}/sms")
async def send_sms(request: web.Request) -> web.Response:
    data = await _json(request)
    if not isinstance(data.get("body"), str):
        raise web.HTTPBadRequest(text='expected {"body": "...", "to": optional}')
    h = request.app[EMULATOR].handset(request.match_info["number"])
    result = await h.send_sms(data["body"], data.get("to"))
    return web.json_response(_inbound_json(result))


@routes.post("/_emulator/handsets/{number}/resend")
async def resend(request: web.Request) -> web.Response:
    h = request.app[EMULATOR].handset(request.match_info["number"])
    try:
        result = await h.resend_last()
    except RuntimeError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return web.json_response(_inbound_json(result))


@routes.post("/_emulator/answers")
async def answers(request: web.Request) -> web.Response:
    """TwiML answers a load generator got for inbound webhooks it posted itself, as
    Twilio's webhook client: ``{"answers": [{"from": resident, "to": number, "twiml":
    "<Response>..."}]}``. Their ``<Message>`` verbs are sent as Twilio sends them (with
    their delivery callbacks to each ``action``), many answers per request."""
    data = await _json(request)
    given = data.get("answers")
    if not isinstance(given, list) or not all(_answer_ok(a) for a in given):
        raise web.HTTPBadRequest(text='expected {"answers": [{"from", "to", "twiml"}, ...]}')
    emu = request.app[EMULATOR]
    sent = 0
    for a in given:
        inbound = MessageRecord(new_sid("SM"), a["from"], a["to"], "", "inbound", "received")
        sent += len(replies_from_twiml(emu, inbound, a["twiml"]))
    return web.json_response({"messages": sent})


def _answer_ok(answer: Any) -> bool:
    return isinstance(answer, dict) and all(
        isinstance(answer.get(k), str) for k in ("from", "to", "twiml")
    )


def _inbound_json(result: Any) -> dict[str, Any]:
    return {
        "sid": result.sid,
        "http_status": result.status,
        "replies": [{"sid": r.sid, "body": r.body} for r in result.replies],
    }


@routes.route("*", "/_emulator/handsets/{number}/behaviour")
async def behaviour(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    number = request.match_info["number"]
    if request.method in ("POST", "PUT", "PATCH"):
        data = await _json(request)
        unknown = set(data) - BEHAVIOUR_FIELDS
        if unknown:
            raise web.HTTPBadRequest(text=f"unknown fields {sorted(unknown)}")
        if data.get("script") is not None:
            try:
                data["script"] = script_from_json(data["script"])
            except (ValueError, TypeError, AttributeError) as exc:
                raise web.HTTPBadRequest(text=str(exc)) from None
        try:
            emu.set_behaviour(number, **data)
        except TypeError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(_behaviour_json(emu.behaviour(number)))


@routes.post("/_emulator/handsets/{number}/call")
async def call(request: web.Request) -> web.Response:
    data = await _json(request)
    h = request.app[EMULATOR].handset(request.match_info["number"])
    try:
        script = script_from_json(data["script"]) if data.get("script") is not None else None
        log_ = await h.call(data.get("to"), script)
    except (ValueError, RuntimeError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(log_.summary(), status=201)


@routes.get("/_emulator/messages")
async def messages(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    sid = emu.settings.account_sid
    return web.json_response([m.to_json(sid) for m in emu.messages.values()])


@routes.get("/_emulator/calls")
async def calls(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    sid = emu.settings.account_sid
    return web.json_response(
        [{**c.to_json(sid), "log": c.log.summary()} for c in emu.calls.values()]
    )


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    request.app[EMULATOR].reset()
    return web.json_response({"ok": True})
