"""The ``kanavat`` command through click's runner, on a copy of the example config."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kanavat import config as configuration
from kanavat.cli import main
from kanavat.export import COLUMNS
from kanavat.store import Store

EXPORT_COLUMNS = [
    "campaign",
    "question",
    "respondent",
    "channel",
    "language",
    "input_kind",
    "raw",
    "value",
    "confidence",
    "answered_at",
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# -- answer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (
            ("vanhukset-2027", "apu_mista", "tyttäreltä", "--lang", "fi"),
            0,
            {"value": "omainen", "confidence": 0.95, "kind": "answer", "reason": None},
        ),
        (
            ("vanhukset-2027", "arki", "kolmonen"),
            0,
            {"value": 3, "confidence": 1.0, "kind": "answer", "reason": None},
        ),
        (
            ("vanhukset-2027", "arki", "upprepa", "--lang", "sv"),
            0,
            {"value": "repeat", "confidence": 1.0, "kind": "command", "reason": None},
        ),
        (
            ("nuoret-2027", "ika", "I'd say 40", "--lang", "en"),
            1,
            {"value": None, "confidence": 0.0, "kind": "no_match", "reason": "out_of_range"},
        ),
        (
            ("vanhukset-2027", "apu", "joo ei"),
            1,
            {"value": None, "confidence": 0.0, "kind": "no_match", "reason": "ambiguous"},
        ),
        (
            ("vanhukset-2027", "arki", "4", "--kind", "keypad"),
            0,
            {"value": 4, "confidence": 1.0, "kind": "answer", "reason": None},
        ),
        (
            ("vanhukset-2027", "arki", "neljä", "--kind", "speech", "--confidence", "0.5"),
            0,
            {"value": 4, "confidence": 0.5, "kind": "answer", "reason": None},
        ),
    ],
)
def test_answer(config_copy: Path, args: tuple[str, ...], code: int, expected: dict) -> None:
    status, out, _ = run("answer", *args, "--config", str(config_copy))
    assert status == code
    assert json.loads(out) == expected


def test_answer_unknown_names(config_copy: Path) -> None:
    status, _, err = run("answer", "nope", "arki", "3", "--config", str(config_copy))
    assert status == 1 and "no campaign 'nope'" in err
    status, _, err = run("answer", "vanhukset-2027", "ika", "3", "--config", str(config_copy))
    assert status == 1 and "no question 'ika' in 'hyvinvointi'" in err
    status, _, err = run(
        "answer", "vanhukset-2027", "arki", "3", "--lang", "de", "--config", str(config_copy)
    )
    assert status == 1 and "language 'de'" in err


# -- check ----------------------------------------------------------------------------------


def test_check_ok(config_copy: Path) -> None:
    status, out, err = run("check", "--config", str(config_copy))
    assert status == 0
    assert "OK: 4 questionnaires, 5 campaigns, languages fi, sv, en" in out
    assert "warning:" in err and "error:" not in err


def test_check_reports_every_error_with_lines(config_copy: Path) -> None:
    text = config_copy.read_text(encoding="utf-8")
    text = text.replace('type = "choice"\nwhen = { apu', 'type = "scael"\nwhen = { apu')
    text = text.replace('timezone = "Europe/Helsinki"', 'timezone = "Europe/Helsinky"')
    config_copy.write_text(text, encoding="utf-8")
    status, _, err = run("check", "--config", str(config_copy))
    assert status == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 2
    scael = next(i for i, line in enumerate(text.splitlines(), 1) if "scael" in line)
    assert (
        f"config.toml:{scael}: questionnaires.hyvinvointi.questions[2].type: unknown type 'scael'; expected one of yesno, scale, choice, number, text, nps"
        in lines[1]
    )
    assert "config.toml:7: county.timezone: unknown time zone 'Europe/Helsinky'" in lines[0]


def test_check_broken_toml(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[county]\nname = "x\n', encoding="utf-8")
    status, _, err = run("check", "--config", str(bad))
    assert status == 1 and "config.toml:2: not valid TOML" in err


def test_check_missing_file(tmp_path: Path) -> None:
    status, _, err = run("check", "--config", str(tmp_path / "none.toml"))
    assert status == 1 and "file not found" in err


def test_check_warns_about_an_empty_audience(config_copy: Path) -> None:
    Store(configuration.load(config_copy, env={}).database_path).close()
    status, _, err = run("check", "--config", str(config_copy))
    assert status == 0
    assert "group 'ikaihmiset' has no contacts yet" in err


# -- contacts import ------------------------------------------------------------------------


def test_contacts_import_rejects_and_reports(config_copy: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "ikaihmiset.csv"
    csv_path.write_text(
        "phone;language\n040 123 4567;fi\n+46 70 123 45 67;sv\n040 12;fi\n", encoding="utf-8"
    )
    status, out, err = run(
        "contacts", "import", str(csv_path), "--group", "ikaihmiset", "--config", str(config_copy)
    )
    assert status == 1
    assert f"{csv_path}:3: country code +46 is not allowed (allowed: +358)" in err
    assert f"{csv_path}:4: not a valid phone number" in err
    assert "2 rows rejected; nothing was imported" in err
    status, out, err = run("contacts", "groups", "--config", str(config_copy))
    assert out == ""
    status, out, err = run(
        "contacts",
        "import",
        str(csv_path),
        "--group",
        "ikaihmiset",
        "--skip-invalid",
        "--config",
        str(config_copy),
    )
    assert status == 0
    assert "group ikaihmiset: 1 added, 0 updated, 0 unchanged, 2 skipped" in out
    status, out, _ = run(
        "contacts",
        "import",
        str(csv_path),
        "--group",
        "ikaihmiset",
        "--skip-invalid",
        "--config",
        str(config_copy),
    )
    assert "0 added, 0 updated, 1 unchanged" in out
    status, out, _ = run("contacts", "groups", "--config", str(config_copy))
    assert out == "ikaihmiset\t1\n"


# -- export ---------------------------------------------------------------------------------


@pytest.fixture
def answered(config_copy: Path) -> Path:
    """Two answers and one unanswered question, stored as the dialog's host stores them."""
    store = Store(configuration.load(config_copy, env={}).database_path)
    respondent = store.pseudonym("vanhukset-2027", "1")
    session = store.execute(
        "INSERT INTO sessions(campaign_id, respondent, channel, language, state, started_at, updated_at) "
        "VALUES ('vanhukset-2027', ?, 'voice', 'fi', '{}', '2027-01-11T08:00:00.000Z', '2027-01-11T08:00:00.000Z')",
        [respondent],
    ).lastrowid
    rows = [
        ("arki", "speech", "kolme", json.dumps(3), 0.8123, "answered", "2027-01-11T08:01:00.000Z"),
        ("apu", "keypad", "1", json.dumps("yes"), 1.0, "answered", "2027-01-11T08:02:00.000Z"),
        ("apu_mista", "speech", "öö", None, 0.0, "unanswered", "2027-01-11T08:03:00.000Z"),
        (
            "terveiset",
            "speech",
            'Lisää "penkkejä", kiitos',
            json.dumps('Lisää "penkkejä", kiitos'),
            0.7,
            "answered",
            "2027-01-11T08:04:00.000Z",
        ),
    ]
    for question, kind, raw, value, confidence, status, at in rows:
        store.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, language, "
            "input_kind, raw, value, confidence, status, answered_at) "
            "VALUES (?, 'vanhukset-2027', ?, ?, 'voice', 'fi', ?, ?, ?, ?, ?, ?)",
            [session, question, respondent, kind, raw, value, confidence, status, at],
        )
    store.close()
    return config_copy


def test_export_columns() -> None:
    assert list(COLUMNS) == EXPORT_COLUMNS


def test_export_csv(answered: Path, tmp_path: Path) -> None:
    status, out, _ = run("export", "vanhukset-2027", "--format", "csv", "--config", str(answered))
    assert status == 0
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == EXPORT_COLUMNS
    got = list(reader)
    assert [r["question"] for r in got] == ["arki", "apu", "terveiset"]
    assert got[0]["value"] == "3" and got[0]["confidence"] == "0.812"
    assert got[0]["answered_at"] == "2027-01-11T08:01:00.000Z"
    assert got[2]["raw"] == 'Lisää "penkkejä", kiitos'
    assert all(r["respondent"].startswith("r") and r["channel"] == "voice" for r in got)
    target = tmp_path / "out.csv"
    status, _, err = run(
        "export", "vanhukset-2027", "--output", str(target), "--config", str(answered)
    )
    assert status == 0 and "3 answers written" in err
    assert target.read_text(encoding="utf-8") == out


def test_export_jsonl(answered: Path) -> None:
    status, out, _ = run("export", "vanhukset-2027", "--format", "jsonl", "--config", str(answered))
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in records] == [EXPORT_COLUMNS] * 3
    assert records[0]["value"] == 3 and records[1]["value"] == "yes"
    assert records[0]["campaign"] == "vanhukset-2027" and records[1]["input_kind"] == "keypad"


def test_export_other_campaign_is_empty(answered: Path) -> None:
    status, out, _ = run("export", "nuoret-2027", "--config", str(answered))
    assert status == 0 and out == ",".join(EXPORT_COLUMNS) + "\n"
    status, _, err = run("export", "nope", "--config", str(answered))
    assert status == 1 and "no campaign 'nope'" in err


def test_serve_several_on_sqlite_needs_a_twilio_section(config_copy: Path) -> None:
    """Servers sharing one SQLite store cannot each run the built-in emulator."""
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(
        text.replace("[server]\n", "[server]\nworkers_per_machine = 2\n", 1), encoding="utf-8"
    )
    status, _, err = run("serve", "--config", str(config_copy))
    assert status == 1
    assert "workers_per_machine > 1) need a [twilio] section" in err
    assert not (config_copy.parent / "kanavat.db").exists()  # refused before opening it
