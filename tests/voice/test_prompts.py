"""The prompt library: which file says which part, placeholders on the fly, and what they log.

Every test writes a small config of its own (one short questionnaire in Finnish), so espeak-ng
renders a handful of prompts, not the example county's five hundred.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from kanavat import config as configuration
from kanavat.questions.dialog import Part
from kanavat.voice import audio, prompt_check
from kanavat.voice import prompts as P

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

SMALL = """
[county]
name = "Testin hyvinvointialue"
languages = ["fi"]

[questionnaires.{qid}]
title = {{ fi = "Testi" }}
intro = {{ fi = "{intro}" }}
outro = {{ fi = "Kiitos." }}

[[questionnaires.{qid}.questions]]
id = "apu"
type = "yesno"
text = {{ fi = "{question}" }}

[campaigns.puhelin]
questionnaire = "{qid}"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "testi" }}
"""

SECOND = """
[questionnaires.toinen]
title = { fi = "Toinen" }
intro = { fi = "Toinen kysely alkaa." }
outro = { fi = "Kiitos." }

[[questionnaires.toinen.questions]]
id = "arvio"
type = "scale"
min = 1
max = 3
text = { fi = "Arvioi yhdestä kolmeen." }

[campaigns.toinen]
questionnaire = "toinen"
council = "vanhusneuvosto"
channels = ["sms", "voice"]
audience = { group = "testi" }
"""


def write_config(
    folder: Path,
    question: str = "Saatko apua?",
    intro: str = "Hei, tässä testikysely.",
    extra: str = "",
) -> configuration.Config:
    path = folder / "config.toml"
    path.write_text(
        SMALL.format(qid="testi", intro=intro, question=question) + extra, encoding="utf-8"
    )
    return configuration.load(path)


def sine(path: Path, rate: int, seconds: float = 1.0) -> None:
    t = np.arange(int(rate * seconds)) / rate
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * t), rate)


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kanavat.voice.prompts"]


# -- what the config can say ----------------------------------------------------------------


def test_a_key_said_alike_everywhere_is_one_file_and_one_said_differently_is_one_per_questionnaire(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, extra=SECOND)
    wanted = {(w.stem, w.text): w for w in P.wanted_parts(config)}
    stems = {w.stem for w in wanted.values()}
    assert {"fi/testi/intro", "fi/toinen/intro"} <= stems  # two texts under one key
    assert "fi/outro" in stems  # "Kiitos." in both: recorded once
    no_match = next(w for w in wanted.values() if w.key == "reply.no_match")
    assert no_match.stem == "fi/reply.no_match"
    assert no_match.belongs_to == ("testi", "toinen")
    assert next(w for w in wanted.values() if w.key == "question.apu").belongs_to == ("testi/apu",)
    assert next(w for w in wanted.values() if w.key == "voice.machine").belongs_to == ("system",)
    assert next(w for w in wanted.values() if w.key == "confirm.arvio.2").belongs_to == (
        "toinen/arvio",
    )


def test_only_questionnaires_a_campaign_asks_by_phone_need_audio(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=SECOND.replace('["sms", "voice"]', '["sms"]'))
    assert [q.id for q in P.voice_questionnaires(config)] == ["testi"]
    assert not any("arvio" in w.key for w in P.wanted_parts(config))


def test_manifest_round_trips_any_text(tmp_path: Path) -> None:
    tricky = 'Sano "kyllä" \\ tai ei.\nToinen rivi – 1–5 ≠ 6 (네)'
    entry = P.Entry(
        "fi/question.apu.wav", "fi", "question.apu", tricky, ("testi/apu",), "recorded", 44100,
        P.text_hash(tricky), "abc",
    )  # fmt: skip
    P.save_manifest(tmp_path, [entry])
    assert P.load_manifest(tmp_path) == {"fi/question.apu.wav": entry}
    assert P.dump_manifest([entry]) == (tmp_path / P.MANIFEST).read_text(encoding="utf-8")


def test_a_broken_manifest_says_where(tmp_path: Path) -> None:
    (tmp_path / P.MANIFEST).write_text("[[prompt]]\nfile = 'x.wav'\n", encoding="utf-8")
    with pytest.raises(P.ManifestError, match=r"prompt\[0\]: missing language"):
        P.load_manifest(tmp_path)


# -- the library ----------------------------------------------------------------------------


@needs_espeak
def test_a_part_without_a_file_is_a_slow_placeholder_rendered_once_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kanavat.voice.prompts")
    library = P.PromptLibrary(tmp_path / "voices", ["fi"])
    part = Part("question.apu", "Saatko apua arjen asioihin, kun tarvitset?")
    first = library.audio("fi", part)
    # Valid 8 kHz mu-law of a plausible length for six slow words (espeak-ng at 130 wpm).
    assert 2.0 < len(first) / audio.SAMPLE_RATE < 6.0
    pcm = audio.ulaw_decode(first)
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 500  # speech, not silence
    cached = list((tmp_path / "voices" / ".cache" / "fi").glob("question.apu.*.wav"))
    assert len(cached) == 1
    assert soundfile.info(str(cached[0])).samplerate == audio.SAMPLE_RATE
    assert (tmp_path / "voices" / ".cache" / ".gitignore").read_text().strip().endswith("*")
    mtime = cached[0].stat().st_mtime_ns
    assert library.audio("fi", part) == first
    assert events(caplog) == ["voice.prompt.placeholder lang=fi key=question.apu reason=missing"]
    assert P.PromptLibrary(tmp_path / "voices", ["fi"]).audio("fi", part) == first
    assert cached[0].stat().st_mtime_ns == mtime  # not rendered again, even after a restart
    assert "apua" not in caplog.text  # keys in the log, never prompt texts


def test_a_recorded_file_is_played_converted_to_8k_mulaw(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    (voices / "fi").mkdir(parents=True)
    sine(voices / "fi" / "question.apu.wav", 44100, seconds=1.5)
    text = "Saatko apua?"
    P.save_manifest(
        voices,
        [
            P.Entry(
                "fi/question.apu.wav", "fi", "question.apu", text, ("testi/apu",), "recorded",
                44100, P.text_hash(text),
            )
        ],
    )  # fmt: skip
    library = P.PromptLibrary(voices, ["fi"], espeak=None)
    data = library.audio("fi", Part("question.apu", text))
    assert len(data) == int(1.5 * audio.SAMPLE_RATE)
    assert data == audio.ulaw_encode(audio.load_pcm(voices / "fi" / "question.apu.wav"))


@needs_espeak
def test_a_recording_of_an_old_text_is_never_played_for_the_new_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kanavat.voice.prompts")
    voices = tmp_path / "voices"
    (voices / "fi").mkdir(parents=True)
    sine(voices / "fi" / "question.apu.wav", 16000, seconds=0.5)
    old = "Saatko apua?"
    P.save_manifest(
        voices,
        [
            P.Entry(
                "fi/question.apu.wav", "fi", "question.apu", old, ("testi/apu",), "recorded",
                16000, P.text_hash(old),
            )
        ],
    )  # fmt: skip
    library = P.PromptLibrary(voices, ["fi"])
    recorded = library.audio("fi", Part("question.apu", old))
    changed = library.audio("fi", Part("question.apu", "Saatko apua silloin kun tarvitset?"))
    assert len(recorded) == 4000
    assert changed != recorded and len(changed) > 8000
    assert events(caplog) == ["voice.prompt.placeholder lang=fi key=question.apu reason=drift"]


@needs_espeak
def test_an_unreadable_recording_is_logged_and_a_placeholder_says_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kanavat.voice.prompts")
    voices = tmp_path / "voices"
    (voices / "fi").mkdir(parents=True)
    (voices / "fi" / "reply.no_match.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    text = "Anteeksi, en ymmärtänyt vastausta."
    P.save_manifest(
        voices,
        [
            P.Entry(
                "fi/reply.no_match.wav", "fi", "reply.no_match", text, ("testi",), "recorded",
                8000, P.text_hash(text),
            )
        ],
    )  # fmt: skip
    library = P.PromptLibrary(voices, ["fi"])
    for _ in range(3):
        assert len(library.audio("fi", Part("reply.no_match", text))) > 8000
    assert events(caplog) == [
        "voice.prompt.unreadable lang=fi key=reply.no_match error=LibsndfileError",
        "voice.prompt.placeholder lang=fi key=reply.no_match reason=unreadable",
    ]


def test_without_espeak_a_missing_prompt_is_a_short_tone_and_one_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = P.PromptLibrary(tmp_path / "voices", ["fi"], espeak=None)
    part = Part("voice.goodbye", "Kiitos ja hyvää päivänjatkoa!")
    tone = library.audio("fi", part)
    assert library.audio("fi", part) == tone
    assert 0.2 < len(tone) / audio.SAMPLE_RATE < 1.0
    assert events(caplog) == [
        "voice.prompt.unavailable lang=fi key=voice.goodbye error=RenderError"
    ]


@needs_espeak
def test_a_build_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    library = P.PromptLibrary.from_config(config)
    part = Part("outro", "Kiitos.")
    before = library.audio("fi", part)  # rendered into .cache
    voices = tmp_path / "voices"
    (voices / "fi").mkdir(parents=True)
    sine(voices / "fi" / "outro.wav", 8000, seconds=0.25)
    prompt_check.build(config)
    assert P.load_manifest(voices)["fi/outro.wav"].source == "recorded"
    after = library.audio("fi", part)
    assert after != before and len(after) == 2000


@needs_espeak
async def test_audio_async_and_prewarm_keep_rendering_off_the_event_loop(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    library = P.PromptLibrary.from_config(config)
    thread = library.prewarm(config)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    data = await library.audio_async("fi", Part("question.apu", "Saatko apua?"))
    await asyncio.to_thread(thread.join, 30)
    ticker.cancel()
    assert not thread.is_alive()
    assert len(data) > 4000
    assert ticks > 3  # the loop kept running while espeak-ng worked
    rendered = list((tmp_path / "voices" / ".cache" / "fi").glob("*.wav"))
    assert len(rendered) == len(P.wanted_parts(config))


def test_a_conversation_by_phone_is_recorded_piece_by_piece_as_a_call_says_it() -> None:
    """Its intro, every seed statement, the counters and the vote options are prompts of the
    voices folder, and what a call says for a statement is exactly those pieces (key and text),
    so a recording of each is played; a statement is no longer one text with its counter."""
    from kanavat.conversation.questionnaire import vote_question
    from kanavat.conversation.statements import Statement
    from kanavat.questions.dialog import question_prompt

    config = configuration.load(Path(__file__).resolve().parents[2] / "config.toml", env={})
    conversation = config.conversations["lahipalvelut"]
    wanted = {(w.language, w.key, w.text) for w in P.wanted_parts(config)}
    for language in config.county.languages:
        assert (language, "intro", conversation.intro[language]) in wanted
        for seed in conversation.statements:
            assert (language, f"statement.{seed.id}", seed.text[language]) in wanted
        seed = conversation.statements[3]
        statement = Statement(
            7, "keskustelu-2027", "seed", seed.id, dict(seed.text), None, "accepted", ""
        )
        question = vote_question(statement, 4, conversation.offered, config.county.languages)
        said = question_prompt(question, language, "voice").parts
        assert [p.key for p in said[:2]] == [
            f"counter.4.{conversation.offered}",
            f"statement.{seed.id}",
        ]
        assert {(language, p.key, p.text) for p in said} <= wanted
        assert "option.statement.agree" in {p.key for p in said}
