"""Inbound SMS webhooks from virtual handsets, TwiML replies, duplicates, control API."""

from __future__ import annotations

import aiohttp

from .conftest import ACCOUNT, NUMBER, RESIDENT

INBOUND_FIELDS = {
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "From", "To", "Body", "NumMedia",
    "NumSegments", "SmsStatus", "ApiVersion", "FromCity", "FromState", "FromZip",
    "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry",
}  # fmt: skip


async def test_inbound_webhook_and_message_reply(emu, server) -> None:
    server.twiml["/sms"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Kiitos!</Message></Response>'
    )
    handset = emu.handset(RESIDENT)
    result = await handset.send_sms("kolme")
    assert result.status == 200 and len(result.replies) == 1
    (hit,) = server.at("/sms")
    assert hit.signed and set(hit.form) >= INBOUND_FIELDS
    form = hit.form
    assert form["MessageSid"] == form["SmsSid"] == form["SmsMessageSid"] == result.sid
    assert (form["From"], form["To"], form["Body"]) == (RESIDENT, NUMBER, "kolme")
    assert (form["AccountSid"], form["SmsStatus"], form["NumSegments"]) == (
        ACCOUNT,
        "received",
        "1",
    )
    reply = await handset.wait_for_message(2)
    assert (reply.body, reply.direction, reply.from_) == ("Kiitos!", "outbound-reply", NUMBER)
    assert emu.messages[result.sid].direction == "inbound"


async def test_resend_is_byte_identical(emu, server) -> None:
    handset = emu.handset(RESIDENT)
    first = await handset.send_sms("2")
    again = await handset.resend_last()
    assert first.sid == again.sid
    hits = server.at("/sms")
    assert len(hits) == 2 and hits[0].form == hits[1].form and all(h.signed for h in hits)


async def test_empty_response_sends_nothing(emu, server) -> None:
    result = await emu.handset(RESIDENT).send_sms("moi")
    assert result.replies == () and emu.handset(RESIDENT).inbox == []


async def test_control_api(emu, server) -> None:
    server.twiml["/sms"] = "<Response><Message>Selvä</Message></Response>"
    base = emu.base_url + "/_emulator/handsets/%2B358401234567"
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/sms", json={"body": "4"}) as resp:
            sent = await resp.json()
        assert sent["http_status"] == 200 and sent["replies"][0]["body"] == "Selvä"
        await emu.handset(RESIDENT).wait_for_message(2)
        async with http.post(base + "/behaviour", json={"sms_outcome": "failed"}) as resp:
            assert (await resp.json())["sms_outcome"] == "failed"
        async with http.post(base + "/behaviour", json={"nonsense": 1}) as resp:
            assert resp.status == 400
        async with http.get(base) as resp:
            detail = await resp.json()
        assert detail["inbox"][0]["body"] == "Selvä"
        async with http.get(emu.base_url + "/_emulator/handsets") as resp:
            assert [h["number"] for h in await resp.json()] == [RESIDENT]
        async with http.post(base + "/resend") as resp:
            assert (await resp.json())["sid"] == sent["sid"]
    assert len(server.at("/sms")) == 2
