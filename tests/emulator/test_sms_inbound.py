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


async def test_answers_posted_by_a_load_generator_are_sent_with_their_callbacks(
    emu, server
) -> None:
    """``/_emulator/answers``: TwiML answers a generator got for webhooks it posted itself
    (``bench/sms_load.py``) become messages, with delivery callbacks to each ``action``."""
    action = server.base_url + "/status?row=7"
    twiml = f'<Response><Message to="{RESIDENT}" action="{action}">Kysymys 2</Message></Response>'
    answers = [
        {"from": RESIDENT, "to": NUMBER, "twiml": twiml},
        {"from": RESIDENT, "to": NUMBER, "twiml": "<Response/>"},  # an answer sending nothing
    ]
    async with aiohttp.ClientSession() as http:
        url = emu.base_url + "/_emulator/answers"
        async with http.post(url, json={"answers": answers}) as resp:
            assert resp.status == 200 and await resp.json() == {"messages": 1}
        async with http.post(url, json={"answers": [{"from": RESIDENT}]}) as resp:
            assert resp.status == 400
    reply = await emu.handset(RESIDENT).wait_for_message(2)
    assert (reply.body, reply.direction, reply.from_) == ("Kysymys 2", "outbound-reply", NUMBER)
    hits = await server.wait_for("/status", 2)  # sent, delivered: signed, to the action
    assert all(h.signed for h in hits)
    assert [h.form["MessageStatus"] for h in hits] == ["sent", "delivered"]
    assert {h.form["MessageSid"] for h in hits} == {reply.sid}
