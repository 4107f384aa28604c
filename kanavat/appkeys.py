"""Typed keys for what the aiohttp application holds (aiohttp's ``web.AppKey``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from kanavat.config import Config
    from kanavat.conversations import Conversations
    from kanavat.outreach.dispatch import Dispatcher
    from kanavat.provider import TwilioProvider
    from kanavat.sender import Sender
    from kanavat.store import Store
    from kanavat.turn.batch import TurnBatches
    from kanavat.turn.entry import Turns

CONFIG: web.AppKey[Config] = web.AppKey("config")
STORE: web.AppKey[Store] = web.AppKey("store")
CONVERSATIONS: web.AppKey[Conversations] = web.AppKey("conversations")
PROVIDER: web.AppKey[TwilioProvider] = web.AppKey("provider")
AUTH_TOKEN: web.AppKey[str] = web.AppKey("auth_token")
EMULATOR_URL: web.AppKey[str] = web.AppKey("emulator_url")
WEBSOCKETS: web.AppKey[set] = web.AppKey("websockets")
EMULATOR: web.AppKey[object] = web.AppKey("emulator")
DISPATCHER: web.AppKey[Dispatcher] = web.AppKey("dispatcher")
TURNS: web.AppKey[Turns] = web.AppKey("turns")
TURN_BATCHES: web.AppKey[TurnBatches] = web.AppKey("turn_batches")  # SMS: group-committed
SENDER: web.AppKey[Sender] = web.AppKey("sender")
