"""A conversation by phone, end to end: the emulator calls a resident who votes by speech
(Finnish through faster-whisper) and by keypad (1 agree, 2 disagree, 3 pass, * repeat), and
adds a statement of their own by voice, transcribed locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile
from harness import running_server
from rapidfuzz import fuzz
from speech_fixtures import pad, speak, to_telephone

from kanavat.voice.audio import ulaw_encode
from tests.conversation.conftest import CAMPAIGN, ROOT

pytestmark = pytest.mark.slow
PHONE = "+358401110077"


def speech(text: str) -> bytes:
    return ulaw_encode(pad(to_telephone(speak(text, "fi", speed=130)), 0.3, 1.2))


@pytest.mark.parametrize("store_recordings", [False, True])
async def test_a_call_votes_by_speech_and_keypad_and_adds_a_statement(
    tmp_path: Path, store_recordings: bool
) -> None:
    """The statement's audio is never kept unless ``[privacy] store_recordings`` is on; then
    it lies under the campaign's recordings, named by the statement, as the call heard it."""
    from kanavat.privacy.purge import recordings_dir
    from kanavat.voice.models import assemble_whisper_base

    model = assemble_whisper_base()
    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('model = "models/whisper-base"', f'model = "{model}"')
        .replace("[privacy]\n", f"[privacy]\nstore_recordings = {str(store_recordings).lower()}\n")
    )
    agree, disagree = speech("samaa mieltä"), speech("eri mieltä")
    own = speech("Kirjastoauto pitää palauttaa kyliin.")
    # Per statement in order: speech, speech, keypad 1, keypad 2, keypad 3 (pass), "*" then 1, ...
    plan = ["say-agree", "say-disagree", "1", "2", "3", "*", "1", "2"]
    marks: list[str] = []
    statements_heard: list[str] = []

    async def resident(line) -> None:
        repeated = False
        for _ in range(60):
            mark = await line.wait_mark(
                timeout=2400
            )  # 2400 / emulator speed 20: two minutes for Whisper under load
            marks.append(mark)
            base = mark.split("~")[0]
            if base.startswith("confirm."):
                await line.press("1")
            elif base.startswith("question.statement-"):
                statements_heard.append(base)
                action = (
                    plan[len(statements_heard) - 1] if len(statements_heard) <= len(plan) else "1"
                )
                if action == "*" and not repeated:
                    repeated = True
                    statements_heard.pop()  # the same statement comes again
                    await line.press("*")
                elif action == "say-agree":
                    await line.say(agree)
                elif action == "say-disagree":
                    await line.say(disagree)
                else:
                    await line.press("1" if action == "*" else action)
            elif base.startswith("reprompt.statement-") or base == "question.own-statement-offer":
                await line.press("1")
            elif base == "question.own-statement":
                await line.say(own)
            elif base.startswith(("question.", "reprompt.")):
                await line.hangup()  # the campaign's own questionnaire: not this test's concern
                return

    async with running_server(tmp_path, config_text=text) as srv:
        srv.import_contacts({PHONE: "fi"}, group="asukkaat")
        handset = srv.emulator.handset(PHONE)
        handset.set_behaviour(script=resident)
        srv.start_campaign(CAMPAIGN)
        log = await handset.wait_for_call(15)
        await log.wait_ended(240)
        await srv.idle()
        votes = srv.store.query(
            "SELECT vote, input_kind, channel FROM conversation_votes ORDER BY id"
        )
        pending = srv.store.query(
            "SELECT id, texts, status, channel FROM conversation_statements "
            "WHERE origin = 'resident'"
        )
        config = srv.config
    kept = sorted(p for p in recordings_dir(config).rglob("*") if p.is_file())
    if store_recordings:
        wanted = recordings_dir(config) / CAMPAIGN / "statements" / f"{pending[0]['id']}.wav"
        assert kept == [wanted]
        info = soundfile.info(str(wanted))
        assert info.samplerate == 8000 and info.duration > 1.0  # the spoken sentence
    else:
        assert kept == []
    kinds = [(v["vote"], v["input_kind"]) for v in votes]
    assert kinds[:2] == [("agree", "speech"), ("disagree", "speech")], (marks, kinds)
    assert kinds[2:8] == [
        ("agree", "keypad"),
        ("disagree", "keypad"),
        ("pass", "keypad"),
        ("agree", "keypad"),
        ("agree", "keypad"),
        ("disagree", "keypad"),
    ], (marks, kinds)
    assert {v["channel"] for v in votes} == {"voice"}
    said = [m.split("~")[0] for m in marks if m.startswith("question.statement-")]
    assert len(said) == 9 and len(set(said)) == 8, marks  # "*" said one statement again
    assert marks.index("question.own-statement-offer~10") > 0
    assert pending[0]["status"] == "pending" and pending[0]["channel"] == "voice"
    # Whisper base hears espeak-ng's Finnish roughly ("Kiinjastokautopipä palautta kylin."):
    # the moderator sees what was heard and may edit it.
    heard = json.loads(pending[0]["texts"])["fi"]
    assert fuzz.ratio(heard.casefold(), "kirjastoauto pitää palauttaa kyliin.") > 60, heard
