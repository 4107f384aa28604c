"""Phone calls end to end: dispatcher -> emulator -> TwiML -> Media Streams websocket -> dialog.

The real server and its emulator on loopback; the virtual resident presses keys, stays silent,
hangs up, or lets a machine answer. Time inside a call is counted in audio frames, so the
accelerated emulator (speed 20) runs a whole questionnaire in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import running_server

from kanavat.emulator import HangUp, Press, Wait

CAMPAIGN = "vanhukset-2027"
GROUP = "ikaihmiset"
PHONE = "+358401110001"


async def call_with(srv, script, phone: str = PHONE, language: str = "fi", **behaviour):
    srv.import_contacts({phone: language}, group=GROUP)
    handset = srv.emulator.handset(phone)
    handset.set_behaviour(script=script, **behaviour)
    srv.start_campaign(CAMPAIGN)
    log = await handset.wait_for_call(15)
    await log.wait_ended(60)
    return log


def answers(srv) -> dict[str, tuple[str, str]]:
    return {r["question"]: (str(r["value"]), r["input_kind"]) for r in srv.export(CAMPAIGN)}


async def test_keypad_questionnaire_is_answered_and_stored(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        log = await call_with(
            srv,
            [
                Wait("question.arki"),
                Press("4"),
                Wait(),
                Press("1"),
                Wait(),
                Press("3"),
                Wait(),
                Press("5#"),
                Wait(),
                Wait(),
                Wait(),
                Wait(),  # the free-text question gets no words: it moves on
            ],
        )
        got = answers(srv)
        assert got["arki"] == ("4", "keypad")
        assert got["apu"] == ("yes", "keypad")
        assert got["apu_mista"] == ("kotihoito", "keypad")
        assert got["yhteydet"] == ("5", "keypad")
        assert "terveiset" not in got
        assert log.status == "completed"
        assert any(m.startswith("outro") for m in log.marks)
        row = srv.store.one("SELECT disposition FROM campaign_contacts")
        assert row["disposition"] == "complete"


async def test_no_input_reprompts_then_moves_on(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        log = await call_with(
            srv, [Wait("question.arki"), Wait("reprompt.arki~2"), Press("2"), Wait(), HangUp()]
        )
        assert any(m.startswith("reprompt.arki") for m in log.marks), log.marks
        assert answers(srv)["arki"] == ("2", "keypad")


async def test_star_repeats_the_question(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        log = await call_with(
            srv, [Wait("question.arki"), Press("*"), Wait(), Press("5"), Wait(), HangUp()]
        )
        assert "question.arki~2" in log.marks, log.marks
        assert answers(srv)["arki"] == ("5", "keypad")


async def test_keypress_during_prompt_barges_in(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        # Press while the long introduction is still playing: the prompt is cut with `clear`.
        log = await call_with(srv, [Wait(seconds=0.5), Press("3"), Wait(), HangUp()])
        assert log.clears >= 1
        assert answers(srv)["arki"] == ("3", "keypad")


async def test_hang_up_mid_questionnaire_keeps_answers_and_resumes_later(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        await call_with(srv, [Wait("question.arki"), Press("4"), Wait(), HangUp()])
        # Answers are kept as given; the unfinished questionnaire is called again later and
        # resumes where it stopped (an explicit "lopeta" would be a break-off instead).
        await srv.wait_until(
            lambda: srv.count("SELECT * FROM campaign_contacts WHERE next_due_at IS NOT NULL") == 1
        )
        assert answers(srv) == {"arki": ("4", "keypad")}
        session = srv.store.one("SELECT status, state FROM sessions")
        assert session["status"] == "active" and '"current": "apu"' in session["state"]


async def test_answering_machine_gets_a_message_and_a_retry(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        log = await call_with(srv, None, answered_by="machine")
        assert log.marks == ["voice.machine"], log.marks
        assert srv.count("SELECT * FROM sessions") == 0
        await srv.wait_until(
            lambda: srv.count("SELECT * FROM campaign_contacts WHERE next_due_at IS NOT NULL") == 1
        )
        row = srv.store.one("SELECT disposition, attempts FROM campaign_contacts")
        assert row == {"disposition": "pending", "attempts": 1}


@pytest.mark.parametrize("language", ["sv"])
async def test_swedish_contact_hears_swedish(tmp_path: Path, language: str) -> None:
    async with running_server(tmp_path) as srv:
        await call_with(
            srv, [Wait("question.arki"), Press("1"), Wait(), HangUp()], language=language
        )
        row = srv.store.one("SELECT language FROM sessions")
        assert row["language"] == "sv"
