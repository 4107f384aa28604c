"""What an outcome's calls wait for, on a real store and voices folder: held calls stay out of
the lane until their language's recording is built in (then only that language starts), an
erased resident's held call is never made, and ``kanavat outcome`` names a wrong option or
TOML key and what it expects. End to end through the emulator: test_held_calls.py."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from harness import SMS_CAMPAIGN, write_config
from speech_fixtures import speak

from kanavat import config as configuration
from kanavat.cli import main as cli_main
from kanavat.loop import holds, notices, outcomes
from kanavat.loop.texts import outcome_part
from kanavat.privacy import erase
from kanavat.privacy.data import Person
from kanavat.store import Store
from kanavat.voice import prompts

FI, SV, ERASED, TEXTED = "+358401270001", "+358401270002", "+358401270003", "+358401270004"


pytestmark = pytest.mark.both_backends


@pytest.fixture
def config_path(tmp_path: Path, database: str) -> Path:
    """The example county (calls wait for recordings), its store SQLite or PostgreSQL."""
    return write_config(tmp_path, 1, database=database)


def took_part(store: Store, people: list[tuple[str, str, str]]) -> None:
    """(phone, language, channel) answered the SMS campaign (a call is its fallback)."""
    now = store.now()
    for n, (phone, language, channel) in enumerate(people, start=1):
        store.execute(
            "INSERT INTO contacts(id, phone, language, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [n, phone, language, now, now],
        )
        store.execute(
            "INSERT INTO sessions(campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', "
            "'completed', ?, ?)",
            [SMS_CAMPAIGN, f"r{n}", n, channel, language, now, now],
        )


def record(config: configuration.Config, outcome_id: int, language: str) -> None:
    """A person's recording of the message, in the manifest as `kanavat voices build` writes
    it (the build itself: test_held_calls.py)."""
    store = Store(config.database)
    try:
        outcome = outcomes.get(store, outcome_id)
    finally:
        store.close()
    assert outcome is not None
    part = outcome_part(config, outcome_id, outcome, language)
    voices = config.resolve(config.server.voices)
    file = f"{language}/{part.key}.wav"
    (voices / language).mkdir(parents=True, exist_ok=True)
    (voices / file).write_bytes(speak(part.text[:40], language).read_bytes())
    entries = prompts.load_manifest(voices)
    entries[file] = prompts.Entry(
        file, language, part.key, part.text, ("x",), "recorded", 22050, prompts.text_hash(part.text)
    )
    prompts.save_manifest(voices, entries.values())


def due_calls(store: Store) -> list[int]:
    return [r["contact_id"] for r in notices.claim(store, ("voice",), timedelta(0), 10)]


def test_held_calls_start_language_by_language(config_path: Path) -> None:
    config = configuration.load(config_path, env={})
    store = Store(config.database)
    try:
        took_part(store, [(FI, "fi", "voice"), (SV, "sv", "voice"), (ERASED, "fi", "voice")])
        outcome = outcomes.Outcome(SMS_CAMPAIGN, "Neuvosto", "2027-05-14", {"fi": "Päätös."})
        outcome_id, planned, _ = outcomes.add(store, config, outcome)
        assert planned == 3
        stored = outcomes.get(store, outcome_id)
        assert stored is not None and stored.calls_wait == "recording"  # the county's setting
        assert notices.held_calls(store) == {(outcome_id, "fi"): 2, (outcome_id, "sv"): 1}
        erase.erase(store, config, Person(phone=ERASED), "cli")
        assert store.one("SELECT status FROM notices WHERE contact_id = 3") == {"status": "skipped"}
        library = holds.library(config)
        assert holds.sweep(config, store, library) == 0 and due_calls(store) == []
        waits = holds.waiting(config, store, outcome_id, library)
        assert [(w.language, w.residents, w.recorded) for w in waits] == [
            ("fi", 1, False),
            ("sv", 1, False),
        ]
        assert waits[1].why.startswith("calls to 1 resident wait for the Swedish recording")
        record(config, outcome_id, "fi")
        assert holds.sweep(config, store, library) == 1
        assert due_calls(store) == [1]  # the Finnish resident only
        assert notices.held_calls(store) == {(outcome_id, "sv"): 1}
        assert holds.release(store, outcome_id) == 1
        assert notices.held_calls(store) == {}
        with pytest.raises(outcomes.OutcomeError, match="were released already"):
            holds.release(store, outcome_id)
    finally:
        store.close()


def test_calls_not_recorded_in_calls_wait_days_go_with_the_placeholder(
    config_path: Path,
) -> None:
    config = configuration.load(config_path, env={})
    assert config.outcomes.calls_wait_days == 14
    store = Store(config.database)
    try:
        took_part(store, [(FI, "fi", "voice")])
        outcome = outcomes.Outcome(SMS_CAMPAIGN, "N", "2027-05-14", {"fi": "P."})
        outcome_id, _, _ = outcomes.add(store, config, outcome)
        added = store.clock()
        (wait,) = holds.waiting(config, store, outcome_id)
        assert "wait for the Finnish recording (until " in wait.why
        assert "then with a placeholder voice)" in wait.why
        library = holds.library(config)
        store.clock = lambda: added + timedelta(days=13, hours=23)
        assert holds.sweep(config, store, library) == 0
        store.clock = lambda: added + timedelta(days=14, seconds=1)
        assert holds.sweep(config, store, library) == 1
        assert due_calls(store) == [1]
        audit = store.one("SELECT detail FROM audit WHERE action = 'outcome.calls_start'")
        assert audit is not None and json.loads(audit["detail"])["why"] == "waited"
    finally:
        store.close()


def test_texts_are_never_held(config_path: Path) -> None:
    config = configuration.load(config_path, env={})
    store = Store(config.database)
    try:
        took_part(store, [(TEXTED, "fi", "sms"), (FI, "fi", "voice")])
        outcome = outcomes.Outcome(
            SMS_CAMPAIGN, "N", "2027-05-14", {"fi": "P."}, calls_wait=outcomes.CALLS_HELD
        )
        outcomes.add(store, config, outcome)
        rows = store.query("SELECT channel, status FROM notices ORDER BY channel")
        assert rows == [
            {"channel": "sms", "status": "pending"},
            {"channel": "voice", "status": "held"},
        ]
        assert holds.sweep(config, store, holds.library(config)) == 0  # held: not by a recording
    finally:
        store.close()


def cli(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_main, [*args, "--config", str(config_path)])
    return result.exit_code, result.output


ADD = ("outcome", "add", SMS_CAMPAIGN, "--body", "N", "--date", "2027-05-14", "--fi", "P.")


def test_options_and_toml_keys(config_path: Path, tmp_path: Path) -> None:
    code, out = cli(config_path, *ADD, "--hold-calls", "--wait-for-recording")
    assert code == 2 and "choose one: --hold-calls" in out
    toml = tmp_path / "outcomes.toml"
    entry = '[[outcome]]\ndecided_by = "N"\ndecided_on = 2027-05-14\ntext = { fi = "P." }\n'
    toml.write_text(entry + 'hold_calls = "yes"\n', encoding="utf-8")
    code, out = cli(config_path, "outcome", "add", SMS_CAMPAIGN, "--from", str(toml))
    assert code == 1 and "outcome 1: hold_calls must be true or false, not 'yes'" in out
    toml.write_text(entry + "hold = true\n", encoding="utf-8")
    code, out = cli(config_path, "outcome", "add", SMS_CAMPAIGN, "--from", str(toml))
    assert code == 1 and "unknown key hold; known: " in out and "hold_calls" in out
    toml.write_text(
        entry.replace("[[outcome]]", '[[outcome]]\nkey = "a"') + "wait_for_recording = false\n"
        + entry.replace("[[outcome]]", '[[outcome]]\nkey = "b"')
        + entry.replace("[[outcome]]", '[[outcome]]\nkey = "c"') + "hold_calls = true\n",
        encoding="utf-8",
    )  # fmt: skip
    code, out = cli(config_path, "outcome", "add", SMS_CAMPAIGN, "--from", str(toml))
    assert code == 0, out
    code, out = cli(config_path, "outcome", "list", "--json")
    waits = [json.loads(line)["calls_wait"] for line in out.splitlines()]
    assert waits == ["none", "recording", "release"]  # own, the county's, own
    code, out = cli(config_path, *ADD, "--no-wait-for-recording")
    assert "calls: at once" in cli(config_path, "outcome", "show", "4")[1]
    code, out = cli(config_path, "outcome", "release", "4")
    assert code == 1 and "outcome 4's calls never waited: nothing to release" in out
    code, out = cli(config_path, "outcome", "release", "9")
    assert code == 1 and "no outcome 9" in out
    code, out = cli(config_path, "outcome", "show", "9")
    assert code == 1 and "no outcome 9" in out
    code, out = cli(config_path, "outcome", "release", "3")
    assert code == 0 and "outcome 3: 0 calls released" in out


def test_a_county_language_without_a_text_is_warned_of(config_path: Path) -> None:
    code, out = cli(config_path, *ADD)
    assert code == 0, out
    assert "warning: no Swedish text: residents who speak Swedish are told the Finnish one" in out
    code, out = cli(config_path, *ADD[:-2], "--fi", "Q.", "--sv", "Q sv.", "--en", "Q en.")
    assert code == 0 and "warning" not in out
