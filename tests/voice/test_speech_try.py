"""``kanavat speech try``: a recording through the call's telephone path, the language's engine
and the normaliser, printed as JSON. Uses the real Korean Vosk model and espeak-ng speech."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from speech_fixtures import needs_speech_tools, speak

from kanavat.voice.cli import speech

KOREAN = """
[county]
name = "테스트 복지 지역"
languages = ["ko"]

{speech}

[questionnaires.kysely]
title = {{ ko = "생활" }}
intro = {{ ko = "안녕하세요." }}
outro = {{ ko = "감사합니다." }}

[[questionnaires.kysely.questions]]
id = "apu"
type = "yesno"
text = {{ ko = "필요할 때 도움을 받으시나요?" }}

[campaigns.puhelin]
questionnaire = "kysely"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "testi" }}
"""


def write_config(folder: Path, speech_section: str) -> Path:
    path = folder / "config.toml"
    path.write_text(KOREAN.format(speech=speech_section), encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(speech, ["try", *args])


@pytest.mark.slow
@needs_speech_tools
def test_a_spoken_yes_is_recognised_and_normalised(
    tmp_path: Path, vosk_ko_model_path: Path
) -> None:
    config = write_config(tmp_path, f'[speech.ko]\nengine = "vosk"\nmodel = "{vosk_ko_model_path}"')
    wav = speak("네", "ko", tmpdir=tmp_path)  # espeak-ng's 22.05 kHz: converted on the way
    result = run("puhelin", "apu", str(wav), "--lang", "ko", "--config", str(config))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["transcript"] == "네"
    assert (out["engine"], out["value"], out["kind"]) == ("vosk", "yes", "answer")
    assert isinstance(out["suspect"], list) and 0 < out["confidence"] <= 1
    assert set(out) >= {"transcript", "engine", "suspect", "value", "confidence", "kind", "reason"}
    # How it was decided: the rule, the engine's own steps and each hypothesis' reading.
    assert out["decided_by"]["rule"] == "transcript: read as heard"
    assert set(out["decided_by"]) == {"rule", "engine", "hypotheses", "hearings"}


@pytest.mark.slow
@needs_speech_tools
def test_silence_is_no_input(tmp_path: Path, vosk_ko_model_path: Path) -> None:
    import numpy as np
    import soundfile

    config = write_config(tmp_path, f'[speech.ko]\nengine = "vosk"\nmodel = "{vosk_ko_model_path}"')
    quiet = tmp_path / "quiet.flac"
    soundfile.write(str(quiet), np.zeros(16000, dtype=np.int16), 16000)
    result = run("puhelin", "apu", str(quiet), "--config", str(config))
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert (out["transcript"], out["kind"], out["reason"]) == (None, "no_match", "no_input")


def test_a_language_without_a_model_is_keypad_only(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"")
    result = run("puhelin", "apu", str(wav), "--config", str(config))
    assert result.exit_code == 1
    assert "no speech model for 'ko': calls in this language use the keypad only" in result.output


def test_a_missing_model_folder_is_keypad_only(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[speech.ko]\nengine = "vosk"\nmodel = "models/none"')
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"")
    result = run("puhelin", "apu", str(wav), "--config", str(config))
    assert result.exit_code == 1
    assert "not found at" in result.output and "keypad only" in result.output
    assert "README" in result.output  # where models come from


def test_a_missing_whisper_model_says_how_to_get_a_trial_one(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(FINNISH.format(model="models/none"), encoding="utf-8")
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"")
    result = run("puhelin", "arki", str(wav), "--config", str(config))
    assert result.exit_code == 1
    assert "kanavat demo" in result.output and "Whisper base" in result.output


def test_unknown_question_and_language_say_what_is_known(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"")
    unknown = run("puhelin", "ika", str(wav), "--config", str(config))
    assert "no question 'ika' in 'kysely'; known: apu" in unknown.output
    wrong = run("puhelin", "apu", str(wav), "--lang", "fi", "--config", str(config))
    assert "language 'fi' is not one of ko" in wrong.output


def test_a_file_that_is_not_audio_is_refused(tmp_path: Path, vosk_ko_model_path: Path) -> None:
    config = write_config(tmp_path, f'[speech.ko]\nengine = "vosk"\nmodel = "{vosk_ko_model_path}"')
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio" * 100)
    result = run("puhelin", "apu", str(junk), "--config", str(config))
    assert result.exit_code == 1 and "cannot read" in result.output


FINNISH = """
[county]
name = "Testi"
languages = ["fi"]

[speech.fi]
engine = "whisper"
model = "{model}"

[questionnaires.kysely]
title = {{ fi = "Arki" }}
intro = {{ fi = "Hei." }}
outro = {{ fi = "Kiitos." }}

[[questionnaires.kysely.questions]]
id = "arki"
type = "scale"
min = 1
max = 5
text = {{ fi = "Miten arki sujuu asteikolla yhdestä viiteen?" }}

[campaigns.puhelin]
questionnaire = "kysely"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "testi" }}
"""


@pytest.mark.slow
@needs_speech_tools
def test_whisper_shows_its_n_best_list_and_what_the_value_was_read_from(tmp_path: Path) -> None:
    from kanavat.voice.models import ModelNotInstalled, assemble_whisper_base

    try:
        model = assemble_whisper_base()
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    config = tmp_path / "config.toml"
    config.write_text(FINNISH.format(model=model), encoding="utf-8")
    wav = speak("neljä", "fi", tmpdir=tmp_path)
    result = run("puhelin", "arki", str(wav), "--lang", "fi", "--config", str(config))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["engine"], out["value"], out["kind"]) == ("whisper", 4, "answer")
    assert out["alternatives"] and all(len(a) == 2 for a in out["alternatives"])
    assert out["read_from"] is None or "nelj" in out["read_from"]
    # The call's rule: Whisper's threshold 0.6, and a value read from a hypothesis always.
    doubtful = out["confidence"] < 0.6 or out["reason"] in ("closest", "n-best")
    assert out["would_confirm"] == doubtful
