"""The REST API through the official twilio library (via ``TwilioProvider``), real HTTP."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from kanavat.emulator import running_emulator
from kanavat.emulator.wire import segments
from kanavat.provider import InvalidNumber, OptedOut, ProviderError, TwilioProvider

from .conftest import ACCOUNT, NUMBER, RESIDENT, TOKEN, settings_for


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_sms_lifecycle_with_signed_callbacks(emu, provider, server) -> None:
    callback = server.base_url + "/status?x=1"
    result = await provider.send_sms(RESIDENT, "Hei! Vastaa 1–5", callback)
    assert result.sid.startswith("SM") and len(result.sid) == 34
    assert result.status == "queued" and result.num_segments == 1
    hits = await server.wait_for("/status", 2)
    assert [h.form["MessageStatus"] for h in hits] == ["sent", "delivered"]
    assert all(h.signed for h in hits)
    form = hits[1].form
    assert form["MessageSid"] == form["SmsSid"] == result.sid
    assert form["AccountSid"] == ACCOUNT and form["From"] == NUMBER and form["To"] == RESIDENT
    assert form["ApiVersion"] == "2010-04-01" and len(form["RawDlrDoneDate"]) == 10
    assert "ErrorCode" not in form
    fetched = await provider.fetch_message(result.sid)
    assert fetched.status == "delivered"
    msg = await emu.handset(RESIDENT).wait_for_message(1)
    assert msg.sid == result.sid and msg.body == "Hei! Vastaa 1–5"


async def test_undelivered_and_failed_carry_error_code(emu, provider, server) -> None:
    emu.handset("+358401111111").set_behaviour(sms_outcome="undelivered")
    emu.handset("+358402222222").set_behaviour(sms_outcome="failed", sms_error_code=30007)
    await provider.send_sms("+358401111111", "a", server.base_url + "/s1")
    await provider.send_sms("+358402222222", "b", server.base_url + "/s2")
    s1 = await server.wait_for("/s1", 2)
    s2 = await server.wait_for("/s2", 1)
    assert [(h.form["MessageStatus"], h.form.get("ErrorCode")) for h in s1] == [
        ("sent", None),
        ("undelivered", "30003"),
    ]
    assert (s2[0].form["MessageStatus"], s2[0].form["ErrorCode"]) == ("failed", "30007")
    assert emu.handset("+358401111111").inbox == []


async def test_list_paging_and_wire_shape(emu, provider) -> None:
    sids = [(await provider.send_sms(RESIDENT, f"viesti {i}")).sid for i in range(5)]
    client = provider._rest()
    listed = await client.messages.list_async(page_size=2)
    assert sorted(m.sid for m in listed) == sorted(sids)
    auth = basic(ACCOUNT, TOKEN)
    url = (
        f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json?PageSize=2&To=%2B358401234567"
    )
    async with aiohttp.ClientSession() as http, http.get(url, headers=auth) as resp:
        page = await resp.json()
    assert set(page) - {"messages"} == {
        "first_page_uri", "next_page_uri", "previous_page_uri",
        "page", "page_size", "start", "end", "uri",
    }  # fmt: skip
    assert len(page["messages"]) == 2 and "PageToken=PA1" in page["next_page_uri"]
    first = page["messages"][0]
    assert first["num_segments"] == "1" and first["direction"] == "outbound-api"
    assert first["date_created"].endswith("+0000")
    time.strptime(first["date_created"], "%a, %d %b %Y %H:%M:%S +0000")


async def test_auth_failure_is_401_20003(emu) -> None:
    async with TwilioProvider(ACCOUNT, "wrong", NUMBER, api_base=emu.base_url) as bad:
        with pytest.raises(ProviderError) as caught:
            await bad.send_sms(RESIDENT, "x")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    auth = basic(ACCOUNT, "wrong")
    url = f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    async with aiohttp.ClientSession() as http, http.get(url, headers=auth) as resp:
        body = await resp.json()
    assert resp.status == 401 and set(body) == {"code", "message", "more_info", "status"}


async def test_invalid_number_is_21211(provider) -> None:
    with pytest.raises(InvalidNumber) as caught:
        await provider.send_sms("0401234567", "x")
    assert caught.value.invalid_number and caught.value.status == 400
    with pytest.raises(InvalidNumber):
        await provider.place_call("+3580", twiml="<Response/>")


async def test_stop_blocks_and_start_unblocks(emu, provider, server) -> None:
    handset = emu.handset(RESIDENT)
    await handset.send_sms(" stop ")
    assert handset.opted_out
    with pytest.raises(OptedOut) as caught:
        await provider.send_sms(RESIDENT, "Muistutus")
    assert caught.value.code == 21610 and caught.value.opted_out and not caught.value.retryable
    await handset.send_sms("START")
    assert (await provider.send_sms(RESIDENT, "Muistutus")).status == "queued"
    # Keywords are still forwarded to the webhook, as Twilio does.
    assert [h.form["Body"] for h in server.at("/sms")] == [" stop ", "START"]


async def test_unknown_sid_is_404(provider) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.fetch_call("CA" + "0" * 32)
    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_unreachable_provider_is_retryable() -> None:
    async with TwilioProvider(ACCOUNT, TOKEN, NUMBER, api_base="http://127.0.0.1:9") as p:
        with pytest.raises(ProviderError) as caught:
            await p.send_sms(RESIDENT, "x")
    assert caught.value.status == 0 and caught.value.retryable


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Kyllä", (1, "GSM-7")),
        ("ä" * 160, (1, "GSM-7")),
        ("a" * 161, (2, "GSM-7")),
        ("€" * 80, (1, "GSM-7")),
        ("€" * 81, (2, "GSM-7")),
        ("Vastaa 1–5", (1, "UCS-2")),
        ("–" * 71, (2, "UCS-2")),
        ("😀" * 35, (1, "UCS-2")),
    ],
)
def test_segments(body: str, expected: tuple[int, str]) -> None:
    assert segments(body) == expected


async def test_no_deprecation_warnings_from_provider(emu, recwarn) -> None:
    async with TwilioProvider(ACCOUNT, TOKEN, NUMBER, api_base=emu.base_url) as p:
        await p.send_sms(RESIDENT, "x")
    await asyncio.sleep(0)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


async def test_a_benchmark_can_turn_the_delivery_callbacks_off(server) -> None:
    """``status_callbacks=False`` (bench's diagnostic): the message is delivered as before,
    and no callback is posted."""
    async with (
        running_emulator(settings_for(server, status_callbacks=False)) as emu,
        TwilioProvider(ACCOUNT, TOKEN, NUMBER, api_base=emu.base_url) as provider,
    ):
        result = await provider.send_sms(RESIDENT, "Hei!", server.base_url + "/status")
        msg = await emu.handset(RESIDENT).wait_for_message(2)
        assert msg.sid == result.sid
        for _ in range(50):
            if (await provider.fetch_message(result.sid)).status == "delivered":
                break
            await asyncio.sleep(0.02)
        assert (await provider.fetch_message(result.sid)).status == "delivered"
        assert server.at("/status") == []
