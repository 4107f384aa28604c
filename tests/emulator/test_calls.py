"""Calls: progress callbacks, outcomes, AMD, Gather, live updates and inbound calls."""

from __future__ import annotations

import pytest

from kanavat.emulator import HangUp, Press, Say, Wait
from kanavat.provider import ProviderError

from .conftest import ACCOUNT, NUMBER, RESIDENT

ALL_EVENTS = ("initiated", "ringing", "answered", "completed")


async def test_progress_callbacks_and_say(emu, provider, server) -> None:
    server.twiml["/voice"] = "<Response><Say language='fi-FI'>Hei</Say><Hangup/></Response>"
    call = await provider.place_call(
        RESIDENT, server.base_url + "/voice", server.base_url + "/cb",
        status_callback_events=ALL_EVENTS,
    )  # fmt: skip
    assert call.sid.startswith("CA") and call.status == "queued"
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(5)
    assert log.said == ["Hei"] and log.status == "completed"
    hits = await server.wait_for("/cb", 4)
    assert [h.form["CallStatus"] for h in hits] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [h.form["SequenceNumber"] for h in hits] == ["0", "1", "2", "3"]
    assert all(h.signed and h.form["CallbackSource"] == "call-progress-events" for h in hits)
    assert "CallDuration" in hits[-1].form and hits[-1].form["Timestamp"].endswith("+0000")
    (voice,) = server.at("/voice")
    assert voice.form["Direction"] == "outbound-api" and voice.form["CallStatus"] == "in-progress"
    assert (voice.form["From"], voice.form["To"], voice.form["AccountSid"]) == (
        NUMBER, RESIDENT, ACCOUNT,
    )  # fmt: skip
    assert (await provider.fetch_call(call.sid)).status == "completed"


async def test_default_callback_is_completed_only(emu, provider, server) -> None:
    emu.handset(RESIDENT).set_behaviour(call_outcome="busy")
    await provider.place_call(RESIDENT, twiml="<Response/>", status_callback=server.base_url + "/cb",
                              status_callback_events=("completed",))  # fmt: skip
    (hit,) = await server.wait_for("/cb", 1)
    assert hit.form["CallStatus"] == "busy" and hit.form["SequenceNumber"] == "0"


@pytest.mark.parametrize("outcome", ["no-answer", "failed"])
async def test_unanswered_outcomes(emu, provider, server, outcome) -> None:
    emu.handset(RESIDENT).set_behaviour(call_outcome=outcome)
    call = await provider.place_call(RESIDENT, server.base_url + "/voice", timeout=10)
    await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(5)
    assert (await provider.fetch_call(call.sid)).status == outcome
    assert server.at("/voice") == []


async def test_sync_amd_machine(emu, provider, server) -> None:
    emu.handset(RESIDENT).set_behaviour(answered_by="machine")
    await provider.place_call(RESIDENT, server.base_url + "/voice",
                              machine_detection="DetectMessageEnd")  # fmt: skip
    (hit,) = await server.wait_for("/voice")
    assert hit.form["AnsweredBy"] == "machine_end_beep"


async def test_async_amd_human(emu, provider, server) -> None:
    server.twiml["/voice"] = '<Response><Pause length="10"/></Response>'
    await provider.place_call(RESIDENT, server.base_url + "/voice", machine_detection="Enable",
                              async_amd=True, async_amd_status_callback=server.base_url + "/amd")  # fmt: skip
    (voice,) = await server.wait_for("/voice")
    assert "AnsweredBy" not in voice.form
    (amd,) = await server.wait_for("/amd")
    assert amd.signed and amd.form["AnsweredBy"] == "human"
    assert amd.form["MachineDetectionDuration"] == "2000"


async def test_gather_digits_posts_action(emu, provider, server) -> None:
    server.twiml["/voice"] = (
        '<Response><Gather numDigits="1" action="/answer" timeout="5">'
        "<Say>Paina yksi tai kaksi</Say></Gather><Say>Ei vastausta</Say></Response>"
    )
    server.twiml["/answer"] = "<Response><Say>Kiitos</Say><Hangup/></Response>"
    emu.handset(RESIDENT).set_behaviour(script=[Wait(seconds=0.2), Press("2")])
    await provider.place_call(RESIDENT, server.base_url + "/voice")
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(5)
    (answer,) = server.at("/answer")
    assert answer.form["Digits"] == "2" and answer.signed
    assert log.said == ["Paina yksi tai kaksi", "Kiitos"]


async def test_gather_speech_and_timeout(emu, provider, server) -> None:
    server.twiml["/voice"] = (
        '<Response><Gather input="speech dtmf" action="/answer" timeout="1">'
        "<Say>Kerro</Say></Gather></Response>"
    )
    emu.handset(RESIDENT).set_behaviour(script=[Say.tone(0.5, text="kolme")])
    await provider.place_call(RESIDENT, server.base_url + "/voice")
    (answer,) = await server.wait_for("/answer")
    assert answer.form["SpeechResult"] == "kolme"


async def test_live_update_and_hangup(emu, provider, server) -> None:
    server.twiml["/voice"] = '<Response><Pause length="60"/></Response>'
    call = await provider.place_call(RESIDENT, server.base_url + "/voice")
    await server.wait_for("/voice")
    await provider.update_call(
        call.sid, twiml="<Response><Say>Uusi</Say><Pause length='60'/></Response>"
    )
    log = emu.handset(RESIDENT).calls[0]
    for _ in range(100):
        if log.said:
            break
        await __import__("asyncio").sleep(0.01)
    assert log.said == ["Uusi"]
    await provider.hangup(call.sid)
    assert (await provider.fetch_call(call.sid)).status == "completed"
    assert log.ended.is_set()


async def test_cancel_while_ringing(emu, provider, server) -> None:
    emu.handset(RESIDENT).set_behaviour(ring_seconds=30)
    call = await provider.place_call(RESIDENT, server.base_url + "/voice", server.base_url + "/cb")
    await emu.handset(RESIDENT).wait_for_call(2)
    await provider.hangup(call.sid)
    assert (await provider.fetch_call(call.sid)).status == "canceled"
    hits = await server.wait_for("/cb", 3)
    assert [h.form["CallStatus"] for h in hits] == ["initiated", "ringing", "canceled"]


async def test_inbound_call(emu, server) -> None:
    server.twiml["/voice"] = "<Response><Say>Tervetuloa</Say><Redirect>/next</Redirect></Response>"
    server.twiml["/next"] = "<Response><Hangup/></Response>"
    log = await emu.handset(RESIDENT).call(script=[Wait(seconds=30), HangUp()])
    await log.wait_ended(5)
    (voice,) = server.at("/voice")
    assert voice.form["Direction"] == "inbound" and voice.form["CallStatus"] == "ringing"
    assert (voice.form["From"], voice.form["To"]) == (RESIDENT, NUMBER)
    (nxt,) = server.at("/next")
    assert nxt.form["CallStatus"] == "in-progress" and log.said == ["Tervetuloa"]


async def test_resident_hangs_up_and_bad_twiml(emu, provider, server) -> None:
    server.twiml["/voice"] = "not xml"
    await provider.place_call(RESIDENT, server.base_url + "/voice")
    log = await (await emu.handset(RESIDENT).wait_for_call(2)).wait_ended(5)
    assert ("application-error", "invalid twiml") in log.events


async def test_call_without_url_or_twiml(provider) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.place_call(RESIDENT)
    assert caught.value.code == 21205
