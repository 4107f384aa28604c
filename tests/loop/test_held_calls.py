"""Outcome calls that wait for the recorded message (issue 23), end to end through the emulator.

The example county sets ``[outcomes] calls_wait_for_recording``: an outcome's texts go out at
once, its calls wait, language by language, until an official's recording of the message is
built in with ``kanavat voices build``; then the running server places them with no other
command, and the resident hears the recording. ``--hold-calls`` holds them until ``kanavat
outcome release``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from harness import EXAMPLE_CONFIG, SMS_CAMPAIGN, SMS_GROUP, Server, running_server
from speech_fixtures import speak

from kanavat.cli import main as cli_main
from kanavat.emulator import HangUp, Press, Wait
from kanavat.loop import notices
from kanavat.voice.audio import load_prompt_ulaw

from .test_sms_loop import outcome_messages, take_part

CAMPAIGN = SMS_CAMPAIGN  # texts first, then a call
MESSAGE = "Kuljetuspalvelun tilausaikaa pidennetään."

FI, SV, TEXTED = "+358401260001", "+358401260002", "+358401260003"
MESSAGE_SV = "Beställningstiden för färdtjänst förlängs."


def fallback_config() -> str:
    """The example config, the SMS campaign falling back to a call within seconds (a resident
    who never answers the texts takes part by phone)."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    old = 'audience = { group = "palvelunkayttajat" }\n'
    assert old in text
    return text.replace(old, old + 'reminder_after = "1s"\nfallback_after = "1s"\n', 1)


async def answers_the_call(srv: Server, number: str) -> None:
    handset = srv.emulator.handset(number)
    handset.set_behaviour(script=[Wait("question.asiointi"), Press("4"), Wait(), HangUp()])
    call = await handset.wait_for_call(30)  # after the invitation and its reminder
    await call.wait_ended(60)


async def three_take_part(srv: Server) -> None:
    """FI and SV never answer the texts and answer the call; TEXTED answers the text (and
    never a call: the campaign's fallback call, once its answers pause, is not answered)."""
    srv.import_contacts({FI: "fi", SV: "sv", TEXTED: "fi"}, group=SMS_GROUP)
    srv.emulator.handset(TEXTED).set_behaviour(call_outcome="no-answer")
    srv.start_campaign(CAMPAIGN)
    await asyncio.gather(
        answers_the_call(srv, FI), answers_the_call(srv, SV), take_part(srv, TEXTED)
    )
    for number in (FI, SV):
        srv.emulator.handset(number).set_behaviour(script=[Wait("outcome.1"), Press("9"), Wait()])


def add(srv: Server, *options: str) -> str:
    return srv.cli(
        "outcome", "add", CAMPAIGN, "--body", "Vammaisneuvosto", "--date", "2027-05-14",
        "--fi", MESSAGE, "--sv", MESSAGE_SV, *options,
    ).output  # fmt: skip


def everyone_told(srv: Server) -> bool:
    """The text (delivered) and both calls (heard to the end), as `outcome list` counts."""
    return notices.counts(srv.store, "outcome", [1]) == {"sms": {"told": 1}, "voice": {"told": 2}}


def survey_calls(srv: Server, number: str) -> int:
    return len(srv.emulator.handset(number).calls)


async def dispatcher_rounds(srv: Server, rounds: int = 15) -> None:
    """Let the running dispatcher go round (every 0.2 s here): long enough to sweep for
    recordings (every 2 s) and to place any call that is due."""
    for _ in range(rounds):
        await asyncio.sleep(0.2)
        await srv.idle()


def record(srv: Server, language: str, text: str) -> Path:
    """An official's recording of the message (another voice than the placeholder's), put
    where `kanavat outcome add` said."""
    voices = srv.config_path.parent / "voices" / language
    voices.mkdir(parents=True, exist_ok=True)
    out = voices / "outcome.1.wav"
    out.write_bytes(speak(text, language, voice=f"{language}+m3", speed=150).read_bytes())
    return out


async def test_calls_wait_for_each_recording_texts_go_at_once(tmp_path: Path) -> None:
    async with running_server(tmp_path, config_text=fallback_config()) as srv:
        await three_take_part(srv)
        out = add(srv)
        assert "3 residents to tell" in out
        fi_place = tmp_path / "voices" / "fi" / "outcome.1.wav"
        assert "wait for the Finnish recording (until " in out and f"record {fi_place}, then" in out
        assert "wait for the Swedish recording" in out, out

        # The text goes at once; no call is placed.
        await srv.wait_until(lambda: outcome_messages(srv, TEXTED), 20, "the outcome text")
        await dispatcher_rounds(srv)
        assert survey_calls(srv, FI) == survey_calls(srv, SV) == 1  # the survey's only
        assert srv.count("SELECT id FROM notices WHERE status = 'held'") == 2
        listed = srv.cli("outcome", "list").output
        assert "calls to 1 resident wait for the Swedish recording" in listed, listed
        assert "calls to 1 resident wait for the Finnish recording" in listed, listed
        (row,) = [
            json.loads(line) for line in srv.cli("outcome", "list", "--json").output.splitlines()
        ]
        assert row["calls_wait"] == "recording"
        assert {w["language"]: w["waits_for"] for w in row["waiting"]} == {
            "fi": "recording",
            "sv": "recording",
        }

        # The Finnish recording is built in: the Finnish call starts by itself and plays it.
        fi_recording = record(srv, "fi", f"Vammaisneuvosto päätti: {MESSAGE}")
        shown = srv.cli("outcome", "show", "1").output
        assert f"{fi_recording} is there, run `kanavat voices build`" in shown, shown
        built = srv.cli("voices", "build", "--lang", "fi").output
        assert "1 recordings added" in built, built
        assert "outcome 1: the Finnish recording is in: calls to 1 waiting resident start" in built
        call = await srv.emulator.handset(FI).wait_for_call(20)
        await call.wait_ended(60)
        assert call.marks[0] == "outcome.1"
        assert call.audio["outcome.1"].startswith(load_prompt_ulaw(fi_recording))
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM notices WHERE status = 'told' AND channel = 'voice'"),
            what="the Finnish call told",
        )
        await dispatcher_rounds(srv)
        assert survey_calls(srv, SV) == 1  # the Swedish call still waits
        shown = srv.cli("outcome", "show", "1").output
        assert "calls to 1 resident wait for the Swedish recording" in shown, shown
        assert "Finnish recording" not in shown

        # Then the Swedish one.
        sv_recording = record(srv, "sv", f"Rådet beslöt: {MESSAGE_SV}")
        srv.cli("voices", "build", "--lang", "sv")
        call = await srv.emulator.handset(SV).wait_for_call(20)
        await call.wait_ended(60)
        assert call.audio["outcome.1"].startswith(load_prompt_ulaw(sv_recording))
        await srv.wait_until(lambda: everyone_told(srv), what="everyone told")
        assert "waiting" not in srv.cli("outcome", "show", "1").output
        assert len(outcome_messages(srv, TEXTED)) == 1
        assert srv.count("SELECT id FROM notices WHERE channel = 'voice'") == 2  # none to TEXTED
        actions = [r["action"] for r in srv.store.query("SELECT action FROM audit ORDER BY id")]
        assert actions.count("outcome.calls_start") == 2


async def test_held_calls_start_on_release(tmp_path: Path) -> None:
    async with running_server(tmp_path, config_text=fallback_config()) as srv:
        await three_take_part(srv)
        out = add(srv, "--hold-calls")
        assert "calls to 1 resident (Finnish) held until `kanavat outcome release 1`" in out, out
        await srv.wait_until(lambda: outcome_messages(srv, TEXTED), 20, "the outcome text")
        # A recording does not start held calls: only the release does.
        record(srv, "fi", f"Vammaisneuvosto päätti: {MESSAGE}")
        srv.cli("voices", "build", "--lang", "fi")
        await dispatcher_rounds(srv)
        assert survey_calls(srv, FI) == survey_calls(srv, SV) == 1
        released = srv.cli("outcome", "release", "1").output
        assert "2 calls released" in released
        assert "not recorded, said by a placeholder voice: Swedish" in released, released
        for number in (FI, SV):
            call = await srv.emulator.handset(number).wait_for_call(20)
            await call.wait_ended(60)
            assert call.marks[0] == "outcome.1"
        await srv.wait_until(lambda: everyone_told(srv), what="everyone told")
        again = CliRunner().invoke(
            cli_main, ["outcome", "release", "1", "--config", str(srv.config_path)]
        )
        assert again.exit_code == 1 and "were released already" in again.output
        shown = srv.cli("outcome", "show", "1").output
        assert "calls: released by an official" in shown, shown
