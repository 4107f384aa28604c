"""``kanavat voices check`` and ``build`` on a small county's voices folder, as an official uses
them: build placeholders, drop recordings in, edit the config, check what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from click.testing import CliRunner, Result

from kanavat import config as configuration
from kanavat.voice import prompts as P
from kanavat.voice.cli import voices

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[county]
name = "Testin hyvinvointialue"
languages = ["fi", "sv"]

[questionnaires.testi]
title = {{ fi = "Testi", sv = "Test" }}
intro = {{ fi = "Hei, tässä testikysely.", sv = "Hej, här är en testenkät." }}
outro = {{ fi = "Kiitos.", sv = "Tack." }}

[[questionnaires.testi.questions]]
id = "apu"
type = "yesno"
text = {{ fi = "{question}", sv = "Får du hjälp?" }}

[campaigns.puhelin]
questionnaire = "testi"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "testi" }}
"""


@pytest.fixture
def county(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(question="Saatko apua?"), encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(voices, list(args))


def sine(path: Path, rate: int, seconds: float = 0.5) -> None:
    t = np.arange(int(rate * seconds)) / rate
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * t), rate)


def test_check_of_an_empty_folder_lists_every_prompt_as_missing(county: Path) -> None:
    result = run("check", "--config", str(county), "--lang", "fi")
    assert result.exit_code == 1
    assert "error: " in result.output and "fi/question.apu.wav: missing" in result.output
    wanted = len(P.wanted_parts(configuration.load(county), ["fi"]))
    assert f"{wanted} prompts: 0 recorded, 0 placeholders, {wanted} missing" in result.output


def test_build_renders_marked_placeholders_then_check_passes_with_warnings(county: Path) -> None:
    result = run("build", "--config", str(county))
    assert result.exit_code == 0, result.output
    voices_dir = county.parent / "voices"
    manifest = P.load_manifest(voices_dir)
    wanted = P.wanted_parts(configuration.load(county))
    assert len(manifest) == len(wanted) and result.output.count("placeholder (espeak-ng)") == len(
        wanted
    )
    entry = manifest["fi/question.apu.placeholder.wav"]
    assert (entry.source, entry.text, entry.belongs_to) == (
        "placeholder",
        "Saatko apua?",
        ("testi/apu",),
    )
    info = soundfile.info(str(voices_dir / entry.file))
    assert (info.samplerate, info.subtype) == (8000, "ULAW")
    assert 0.5 < info.duration < 4
    check = run("check", "--config", str(county))
    assert check.exit_code == 0
    assert "warning: " in check.output and "needs a person's recording as fi/question.apu.wav" in (
        check.output
    )
    # Building again changes nothing: same manifest bytes, nothing rendered.
    before = (voices_dir / P.MANIFEST).read_bytes()
    again = run("build", "--config", str(county))
    assert "0 placeholders rendered" in again.output
    assert (voices_dir / P.MANIFEST).read_bytes() == before


def test_a_recording_replaces_its_placeholder(county: Path) -> None:
    run("build", "--config", str(county), "--lang", "fi")
    voices_dir = county.parent / "voices"
    sine(voices_dir / "fi" / "question.apu.wav", 44100)
    pending = run("check", "--config", str(county), "--lang", "fi")
    assert "fi/question.apu.wav: new recording, not in the manifest yet" in pending.output
    built = run("build", "--config", str(county), "--lang", "fi")
    assert "1 recordings added, 1 placeholders removed" in built.output
    assert not (voices_dir / "fi" / "question.apu.placeholder.wav").exists()
    entry = P.load_manifest(voices_dir)["fi/question.apu.wav"]
    assert (entry.source, entry.sample_rate, entry.text) == ("recorded", 44100, "Saatko apua?")
    check = run("check", "--config", str(county), "--lang", "fi", "--verbose")
    assert check.exit_code == 0
    assert "note: " in check.output and "44100 Hz, converted to 8000 Hz" in check.output
    assert "1 recorded" in check.output


def test_check_flags_unreadable_files_and_rates_below_the_telephone(county: Path) -> None:
    run("build", "--config", str(county), "--lang", "fi")
    voices_dir = county.parent / "voices"
    sine(voices_dir / "fi" / "outro.wav", 4000)
    run("build", "--config", str(county), "--lang", "fi")
    (voices_dir / "fi" / "intro.placeholder.wav").write_bytes(b"not audio at all" * 64)
    result = run("check", "--config", str(county), "--lang", "fi")
    assert result.exit_code == 1
    assert "fi/outro.wav: sample rate 4000 Hz is below the telephone's 8000 Hz" in result.output
    assert "fi/intro.placeholder.wav: unreadable" in result.output
    # The too-coarse recording is kept, and a placeholder plays meanwhile.
    assert (voices_dir / "fi" / "outro.placeholder.wav").exists()


def test_check_flags_text_changed_in_the_config(county: Path) -> None:
    run("build", "--config", str(county), "--lang", "fi")
    voices_dir = county.parent / "voices"
    sine(voices_dir / "fi" / "intro.wav", 16000)
    run("build", "--config", str(county), "--lang", "fi")
    text = county.read_text(encoding="utf-8")
    text = text.replace("Saatko apua?", "Saatko apua, kun tarvitset?")
    county.write_text(text.replace("Hei, tässä testikysely.", "Hei, tässä kysely."), "utf-8")
    result = run("check", "--config", str(county), "--lang", "fi")
    assert result.exit_code == 1
    assert (
        "fi/intro.wav: text changed in the config: the recording says 'Hei, tässä testikysely.', "
        "the config now says 'Hei, tässä kysely.'; record it again"
    ) in result.output
    assert (
        "fi/question.apu.placeholder.wav: text changed in the config; run `kanavat voices build`"
        in (result.output)
    )
    rebuilt = run("build", "--config", str(county), "--lang", "fi")
    assert rebuilt.exit_code == 1  # the placeholder is fixed; the recording needs a person
    assert "question.apu.placeholder.wav: text changed" not in rebuilt.output
    assert "fi/intro.wav: text changed" in rebuilt.output
    assert P.load_manifest(voices_dir)["fi/question.apu.placeholder.wav"].text == (
        "Saatko apua, kun tarvitset?"
    )
    assert (voices_dir / "fi" / "intro.wav").exists()  # recordings are never deleted
    sine(voices_dir / "fi" / "intro.wav", 16000, seconds=0.7)  # re-recorded
    assert run("build", "--config", str(county), "--lang", "fi").exit_code == 0
    assert P.load_manifest(voices_dir)["fi/intro.wav"].text == "Hei, tässä kysely."


def test_a_broken_manifest_is_an_error_with_a_way_out(county: Path) -> None:
    voices_dir = county.parent / "voices"
    voices_dir.mkdir()
    (voices_dir / P.MANIFEST).write_text("[[prompt]\n", encoding="utf-8")
    assert "manifest.toml: cannot read" in run("check", "--config", str(county)).output
    refused = run("build", "--config", str(county), "--lang", "sv")
    assert refused.exit_code == 1 and "pass --force" in refused.output
    assert run("build", "--config", str(county), "--lang", "sv", "--force").exit_code == 0


def test_an_unknown_language_is_refused(county: Path) -> None:
    result = run("check", "--config", str(county), "--lang", "en")
    assert result.exit_code == 1 and "language en is not one of fi, sv" in result.output


def test_the_committed_manifest_says_what_the_example_config_says() -> None:
    """voices/manifest.toml is the example county's recording script: rebuild it after
    changing a text in config.toml (``kanavat voices build``)."""
    config = configuration.load(REPO / "config.toml")
    committed = {(e.file, e.text) for e in P.load_manifest(REPO / "voices").values()}
    wanted = {(w.placeholder_file, w.text) for w in P.wanted_parts(config)}
    assert committed == wanted, "voices/manifest.toml is out of date: run `kanavat voices build`"


def test_a_hand_written_manifest_entry_keeps_its_text(county: Path) -> None:
    """An entry without audio_sha256 (typed in by an official) is what the file says: build
    must not take it as a new recording of the config's text and hide the difference."""
    voices_dir = county.parent / "voices"
    (voices_dir / "fi").mkdir(parents=True)
    sine(voices_dir / "fi" / "question.apu.wav", 8000)
    old = "Saatko apua arjessa?"
    P.save_manifest(
        voices_dir,
        [
            P.Entry(
                "fi/question.apu.wav",
                "fi",
                "question.apu",
                old,
                ("testi/apu",),
                "recorded",
                8000,
                "",
            )
        ],
    )
    result = run("build", "--config", str(county), "--lang", "fi")
    assert result.exit_code == 1
    assert "fi/question.apu.wav: text changed in the config" in result.output
    entry = P.load_manifest(voices_dir)["fi/question.apu.wav"]
    assert entry.text == old and entry.audio_sha256
