"""``kanavat check --deploy``: a county ready to go has no findings; each gap is one finding
with its fix, and errors exit 1."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from harness import write_config

from kanavat import config as configuration
from kanavat import deploy_check
from kanavat.cli import main
from kanavat.voice.prompts import wanted_parts

ENV = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "not-a-real-token",
    "KANAVAT_SECRET": "not-a-real-secret",
    "KANAVAT_OFFICIALS_TOKEN": "not-a-real-officials-token",
    "KANAVAT_EVENTS_TOKEN": "not-a-real-events-token",  # the example has an event campaign
}
PRODUCTION = """
[twilio]
account_sid = "env:TWILIO_ACCOUNT_SID"
auth_token = "env:TWILIO_AUTH_TOKEN"
caller_id = "+358451234567"
"""


def production(text: str) -> str:
    """The example county as it would go live: Finnish only, https, secrets, a model."""
    text = re.sub(r"^languages = .*$", 'languages = ["fi"]', text, count=1, flags=re.M)
    text = re.sub(r"^# secret = ", "secret = ", text, count=1, flags=re.M)
    text = re.sub(r"^# officials_token = ", "officials_token = ", text, count=1, flags=re.M)
    return text + PRODUCTION


def load(folder: Path) -> configuration.Config:
    return configuration.load(folder / "config.toml", env=ENV)


@pytest.fixture(scope="module")
def ready_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ready")
    write_config(folder, 443, public_url="https://kysely.hyvinvointialue.example")
    config_path = folder / "config.toml"
    config_path.write_text(production(config_path.read_text(encoding="utf-8")), encoding="utf-8")
    (folder / "models" / "whisper-base").mkdir(parents=True)
    (folder / "models" / "whisper-base" / "model.bin").write_bytes(b"weights")
    tone = (np.sin(np.arange(800) / 5) * 0.3).astype("float32")
    for wanted in wanted_parts(load(folder)):  # a person's recording of every prompt
        path = folder / "voices" / wanted.recording_file
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone, 8000)
    for args in (["voices", "build"], ["store", "migrate"], ["store", "backup"]):
        result = CliRunner().invoke(main, [*args, "--config", str(config_path)], env=ENV)
        assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def ready(ready_template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "county"
    shutil.copytree(ready_template, folder)
    return folder


def check(folder: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["check", "--deploy", "--config", str(folder / "config.toml")], env=env or ENV
    )
    return result.exit_code, result.output


def test_a_ready_county_has_no_findings(ready: Path) -> None:
    assert deploy_check.findings(load(ready), env=ENV) == []
    code, output = check(ready)
    assert code == 0 and "ready to deploy" in output, output


def edit(pattern: str, replacement: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / "config.toml"
        text, n = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), flags=re.M)
        assert n >= 1, pattern
        path.write_text(text, encoding="utf-8")

    return change


def remove(relative: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    return change


CASES = {
    "http": (
        edit(r"^public_url = .*$", 'public_url = "http://kysely.hyvinvointialue.example"'),
        "error",
        "is not https",
        'public_url = "https://kysely.hyvinvointialue.example"',
    ),
    "private host": (
        edit(r"^public_url = .*$", 'public_url = "https://10.1.2.3"'),
        "error",
        "host 10.1.2.3 cannot be reached from Twilio",
        "the county's DNS name",
    ),
    "port": (
        edit(r"^public_url = .*$", 'public_url = "https://kysely.hyvinvointialue.example:8443"'),
        "warning",
        "has a port (8443)",
        '(no ":8443")',
    ),
    "path": (
        edit(r"^public_url = .*$", 'public_url = "https://kysely.hyvinvointialue.example/k"'),
        "error",
        "has a path or query (/k)",
        "a host name of its own",
    ),
    "no twilio": (
        edit(r"^\[twilio\]\n(.*\n){3}", ""),
        "error",
        "no [twilio] section",
        'auth_token = "cred:twilio_auth_token"',
    ),
    "api base": (
        edit(r"^caller_id = .*$", '\\g<0>\napi_base = "http://127.0.0.1:9"'),
        "warning",
        "twilio.api_base sends REST calls to http://127.0.0.1:9",
        "remove api_base",
    ),
    "no secret": (
        edit(r"^secret = .*$", ""),
        "error",
        "server.secret is not set",
        "openssl rand -hex 32 > /etc/kanavat/credentials/kanavat_secret",
    ),
    "no officials token": (
        edit(r"^officials_token = .*$", ""),
        "error",
        "server.officials_token is not set",
        'officials_token = "cred:officials_token"',
    ),
    "model missing": (
        remove("models/whisper-base/model.bin"),
        "error",
        "speech.fi: no whisper model at",
        "kanavat speech try",
    ),
    "no model configured": (
        edit(r"^\[speech\.fi\]\n(.*\n){2}", ""),
        "warning",
        "no speech model for 'fi'",
        "[speech.fi] engine and model",
    ),
    "recording missing": (
        remove("voices/fi/question.arki.wav"),
        "error",
        "prompts in",
        "`kanavat voices check` lists them",
    ),
    "no store yet": (
        remove("kanavat.db"),
        "warning",
        "no store yet at",
        "systemctl start kanavat",
    ),
    "store folder missing": (
        edit(r"^database = .*$", 'database = "absent/kanavat.db"'),
        "error",
        "is missing or not writable",
        "StateDirectory=kanavat",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_gap_is_one_finding_with_its_fix(ready: Path, case: str) -> None:
    change, severity, what, fix = CASES[case]
    change(ready)
    env = ENV
    if case == "no officials token":  # the reports also take it from the environment
        env = {k: v for k, v in ENV.items() if k != "KANAVAT_OFFICIALS_TOKEN"}
    (finding,) = deploy_check.findings(load(ready), env=env)
    assert finding.severity == severity and what in finding.what and fix in finding.fix, finding
    code, output = check(ready, env)
    assert str(finding) in output
    assert code == (1 if severity == "error" else 0), output


def test_a_stale_or_missing_backup_is_an_error(ready: Path) -> None:
    config = load(ready)
    assert deploy_check.findings(config, env=ENV, now=datetime.now(UTC) + timedelta(hours=23)) == []
    (stale,) = deploy_check.findings(config, env=ENV, now=datetime.now(UTC) + timedelta(hours=25))
    assert "no backup of" in stale.what and "kanavat-backup.timer" in stale.fix
    with sqlite3.connect(ready / "kanavat.db") as conn:
        conn.execute("DELETE FROM settings WHERE key = 'last_backup'")
    (never,) = deploy_check.findings(config, env=ENV)
    assert never.severity == "error" and "(never)" in never.what


def test_an_event_campaign_needs_the_events_token(ready: Path) -> None:
    # The example county has an event-triggered campaign (palaute-2027).
    assert any(c.trigger == "event" for c in load(ready).campaigns.values())
    without = {k: v for k, v in ENV.items() if k != "KANAVAT_EVENTS_TOKEN"}
    (finding,) = deploy_check.findings(load(ready), env=without)
    assert finding.severity == "warning" and "KANAVAT_EVENTS_TOKEN" in finding.what
    assert deploy_check.findings(load(ready), env=ENV) == []
