"""The emulator logs sids and statuses only: no numbers, bodies or spoken text."""

from __future__ import annotations

import logging
import re

from kanavat.emulator.stream import dial_url

from .conftest import NUMBER, RESIDENT

# A Finnish number written out, international or national: not a run of digits inside a
# random hex sid ("SM1a846ea2358840...").
PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z])\+?(?:358|0)\d{6,}")


async def test_no_personal_data_in_logs(emu, provider, server, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="kanavat")
    server.twiml["/sms"] = "<Response><Message>Salainen vastaus</Message></Response>"
    server.twiml["/voice"] = "<Response><Say>Salainen kysymys</Say></Response>"
    await provider.send_sms(RESIDENT, "Salainen kysely", server.base_url + "/cb")
    await emu.handset(RESIDENT).send_sms("STOP")
    await provider.place_call("+358409999999", server.base_url + "/voice")
    await (await emu.handset("+358409999999").wait_for_call(2)).wait_ended(5)
    await emu.idle(5)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("kanavat"))
    assert "sms.queued" in text and "call.ended" in text
    for secret in (RESIDENT, NUMBER, "Salainen", "STOP"):
        assert secret not in text
    assert not PHONE_LIKE.search(text)


def test_dial_url_rewrites() -> None:
    assert dial_url("wss://127.0.0.1:8080/s", {}) == "ws://127.0.0.1:8080/s"
    assert dial_url("ws://127.0.0.1:8080/s", {}) == "ws://127.0.0.1:8080/s"
    assert dial_url("wss://localhost/s", {}) == "ws://localhost/s"
    assert dial_url("wss://kanavat.example.fi/twilio/voice/stream",
                    {"wss://kanavat.example.fi": "ws://127.0.0.1:9"}) == (
        "ws://127.0.0.1:9/twilio/voice/stream"
    )  # fmt: skip
    assert dial_url("wss://kanavat.example.fi/s", {}) == "wss://kanavat.example.fi/s"
