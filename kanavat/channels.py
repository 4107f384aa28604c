"""The channel registry: every channel the server mounts, from this one list.

A channel is its routes (the wire) and, for those residents talk through, what the turn
needs (``kanavat/turn/entry.py``: its event kinds, policy and renderer).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from kanavat.attempts import OutboundStatus
from kanavat.chat import output as chat_output
from kanavat.chat import routes as chat_routes
from kanavat.sms import routes as sms_routes
from kanavat.turn import chat as chat_turn
from kanavat.turn import voice as voice_turn
from kanavat.turn.entry import Channel
from kanavat.voice import routes as voice_routes
from kanavat.voice import stream as voice_stream


@dataclass(frozen=True)
class Adapter:
    name: str
    mount: Callable[[web.Application], None]
    turn: Channel


def _mount_voice(app: web.Application) -> None:
    app.add_routes(voice_routes.routes)
    app.add_routes(voice_stream.routes)


ADAPTERS: tuple[Adapter, ...] = (
    Adapter("sms", lambda app: app.add_routes(sms_routes.routes), sms_routes.CHANNEL),
    Adapter(
        "voice",
        _mount_voice,
        Channel(
            "voice",
            ("turn", "suggestion"),
            voice_turn.handle,
            voice_turn.render,
            OutboundStatus.SHOWN,
        ),
    ),
    Adapter(
        "chat",
        chat_routes.add_routes,
        Channel(
            "chat",
            ("ws", "rest"),
            chat_turn.handle,
            chat_output.render_result,
            OutboundStatus.SHOWN,
        ),
    ),
)


def turn_channels(sms_replies: str = "rest") -> list[Channel]:
    """The turn's channels; ``sms_replies`` ``twiml``: SMS replies in the webhook's answer."""
    return [
        dataclasses.replace(a.turn, in_answer=True)
        if a.name == "sms" and sms_replies == "twiml"
        else a.turn
        for a in ADAPTERS
    ]
