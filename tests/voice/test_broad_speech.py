"""The broad speech set (issue 16): stable, split as documented, and heard on a real call.

The call test is a Finnish call through the emulator answered by Festival's Finnish diphone
voice (recorded from a Finnish speaker, never tuned on), one answer hesitant: "öö", a 1 s
pause, then the answer; it must land right in ``kanavat export`` as speech.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from harness import EXAMPLE_CONFIG, running_server

from bench.speechset.clips import CACHE_ENV, PARTS, VOICES, SpeechClip, render, speech_set
from bench.speechset.forms import PHRASINGS, Phrasing
from bench.speechset.synth import FESTIVAL_VOICE, Voice
from kanavat.voice.audio import ulaw_encode

needs_festival = pytest.mark.skipif(
    not (shutil.which("festival") and shutil.which("espeak-ng") and shutil.which("sox")),
    reason="needs festival, festvox-suopuhe-lj, espeak-ng and sox (scripts/install-test-deps)",
)
FESTIVAL = Voice("festival", FESTIVAL_VOICE, "m")


def test_the_set_is_fixed_and_held_out_voices_and_phrasings_stay_out_of_dev() -> None:
    for lang in PHRASINGS:
        dev, held = speech_set(lang, "dev"), speech_set(lang, "held_out")
        assert [c.label for c in dev] == [c.label for c in speech_set.__wrapped__(lang, "dev")]
        assert not {c.voice for c in dev} & set(VOICES[(lang, "held_out")])
        assert not [c for c in dev if c.phrasing.held_out]
        assert all(c.voice in VOICES[(lang, "held_out")] or c.phrasing.held_out for c in held)
        assert {c.part for c in dev} == {"dev"} and {c.part for c in held} == {"held_out"}
    assert PARTS == ("dev", "held_out")


@needs_festival
def test_a_clip_renders_to_the_same_samples_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = speech_set("fi", "dev")
    picks = [
        next(c for c in clips if c.voice.engine == "festival" and c.line == "pink10"),
        next(c for c in clips if c.voice.engine == "espeak" and c.hesitation == "inside"),
    ]
    heard = []
    for run in ("a", "b"):  # two empty caches: everything synthesised again
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / run))
        heard.append([render(c) for c in picks])
    for first, second in zip(*heard, strict=True):
        assert np.array_equal(first.pcm, second.pcm)
        assert 0.5 < first.speech_end < len(first.pcm) / 8000 - 2.0


def festival_answer(text: str, value: object, question: str, filler: str | None) -> bytes:
    """One answer by Festival's Finnish voice at 130 wpm on a clean line, as mu-law; with
    ``filler``, it is said first and followed by 1 s of silence."""
    clip = SpeechClip(
        id="test",
        lang="fi",
        part="dev",
        phrasing=Phrasing(question, text, value, "plain"),
        voice=FESTIVAL,
        rate=130,
        pitch=50,
        hesitation="filler" if filler else "none",
        filler=filler,
        lead=0.3,
        gap=1.0,
        line="clean",
        seed=1,
    )
    return ulaw_encode(render(clip).pcm)


@needs_festival
async def test_finnish_call_answered_by_festival_with_a_hesitation_lands_in_export(
    tmp_path: Path,
) -> None:
    from kanavat.voice.models import assemble_whisper_base

    model = assemble_whisper_base()
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'model = "models/whisper-base"', f'model = "{model}"'
    )
    answers = {
        "question.arki": festival_answer("kolme", 3, "arki", filler="öö"),
        "question.apu": festival_answer("kyllä", "yes", "apu", filler=None),
    }
    marks: list[str] = []

    async def resident(line) -> None:
        for _ in range(10):
            mark = await line.wait_mark(timeout=600)  # 30 s at the emulator's speed
            marks.append(mark)
            base = mark.split("~")[0]
            if base.startswith("confirm."):
                await line.press("1")  # "did you say ...?": yes
            elif base in answers:
                await line.say(answers[base])  # each answer once: no second chance by voice
            elif base == "question.apu_mista" or base.startswith("reprompt."):
                await line.hangup()
                return

    async with running_server(tmp_path, config_text=text) as srv:
        phone = "+358401110016"
        srv.import_contacts({phone: "fi"}, group="ikaihmiset")
        handset = srv.emulator.handset(phone)
        handset.set_behaviour(script=resident)
        srv.start_campaign("vanhukset-2027")
        log = await handset.wait_for_call(15)
        await log.wait_ended(90)
        rows = {
            r["question"]: (str(r["value"]), r["input_kind"]) for r in srv.export("vanhukset-2027")
        }
    assert rows.get("arki") == ("3", "speech"), (marks, rows)
    assert rows.get("apu") == ("yes", "speech"), (marks, rows)
