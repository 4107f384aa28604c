"""A local stand-in for Twilio that speaks Twilio's real wire formats.

kanavat's server, tests and rehearsals talk to it exactly as to Twilio: REST form posts
with Basic auth, signed webhooks, TwiML, Media Streams JSON over a websocket. It must not
import anything of kanavat beyond ``kanavat.signing`` (it stands in for the outside world).

Python::

    settings = EmulatorSettings(account_sid, auth_token, phone_number="+358451234567",
                                sms_url="http://127.0.0.1:8080/twilio/sms",
                                voice_url="http://127.0.0.1:8080/twilio/voice", speed=10)
    async with running_emulator(settings) as emu:      # emu.base_url = http://127.0.0.1:PORT
        provider = TwilioProvider(account_sid, auth_token, "+358451234567", emu.base_url)
        h = emu.handset("+358401234567")
        h.set_behaviour(script=[Wait("q1"), Press("3"), Wait(), HangUp()])
        await h.send_sms("3");  msg = await h.wait_for_message(5)
        await h.resend_last()                               # duplicate delivery
        log = await h.wait_for_call(5); await log.wait_ended(30)
        log.marks, log.cleared_marks, log.audio["q1"], log.said

Behaviour per handset (``HandsetBehaviour``): ``sms_outcome`` delivered / undelivered /
failed (+ ``sms_error_code``), ``call_outcome`` answer / busy / no-answer / failed,
``ring_seconds``, ``answered_by`` human / machine / fax / unknown, ``amd_seconds``,
``hangup_after``, ``script`` (see ``kanavat.emulator.resident``).

HTTP control API (JSON; no auth, bind to loopback)::

    GET  /_emulator                                  account, number, webhook URLs, counts
    GET  /_emulator/handsets                         every handset with counts
    GET  /_emulator/handsets/{number}                inbox, call logs, behaviour
    POST /_emulator/handsets/{number}/sms            {"body": "3", "to": optional}
    POST /_emulator/handsets/{number}/resend         the last inbound webhook, again
    GET|POST /_emulator/handsets/{number}/behaviour  {"call_outcome": "busy", "script": [...]}
    POST /_emulator/handsets/{number}/call           {"script": [{"wait": null}, {"press": "1"}]}
    POST /_emulator/answers                          {"answers": [{"from", "to", "twiml"}]}:
                                                     a load generator's webhooks' TwiML sent
    GET  /_emulator/messages, /_emulator/calls       every record (calls with their log)
    POST /_emulator/reset                            forget everything

    curl -s -XPOST localhost:8081/_emulator/handsets/%2B358401234567/sms -d '{"body":"3"}'

Script JSON keys: ``wait`` (mark name or null), ``wait_seconds``, ``say`` (seconds of tone,
optional ``text`` for speech Gather), ``press``, ``silence``, ``noise``, ``hangup``.
Logs go to ``kanavat.emulator.*`` with sids only: no numbers, bodies or audio.
"""

from .app import create_emulator_app, running_emulator
from .core import Emulator
from .handset import Handset, ReceivedMessage
from .line import CallLog, Line
from .resident import HangUp, Noise, Press, Say, Silence, Wait
from .rest import EMULATOR
from .settings import EmulatorSettings, HandsetBehaviour

__all__ = [
    "EMULATOR",
    "CallLog",
    "Emulator",
    "EmulatorSettings",
    "Handset",
    "HandsetBehaviour",
    "HangUp",
    "Line",
    "Noise",
    "Press",
    "ReceivedMessage",
    "Say",
    "Silence",
    "Wait",
    "create_emulator_app",
    "running_emulator",
]
