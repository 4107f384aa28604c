"""The systemd units in deploy/systemd: systemd itself reads them without a complaint, and
every command they run is a kanavat command with options it accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from harness import ROOT

from kanavat.cli import main

UNITS = sorted((ROOT / "deploy" / "systemd").iterdir())
BINARY = "/opt/kanavat/venv/bin/kanavat"


def exec_lines(unit: Path) -> list[list[str]]:
    text = unit.read_text(encoding="utf-8")
    return [shlex.split(m) for m in re.findall(r"^Exec\w*=(.*)$", text, flags=re.M)]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_analyze_verify_is_silent(tmp_path: Path) -> None:
    # verify wants every ExecStart binary to exist: this Python stands in for the venv's.
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace(BINARY, sys.executable)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert done.returncode == 0 and complaints == [], done.stderr


@pytest.mark.parametrize("unit", [u for u in UNITS if exec_lines(u)], ids=lambda u: u.name)
def test_every_exec_is_a_kanavat_command_it_accepts(unit: Path) -> None:
    for argv in exec_lines(unit):
        assert argv[0] == BINARY, argv
        command: click.Command = main
        args = argv[1:]
        while isinstance(command, click.Group):
            command = command.commands[args.pop(0)]
        command.make_context(command.name or "", args)  # parses and validates every option


def test_credentials_in_the_units_are_the_ones_the_docs_configure() -> None:
    service = (ROOT / "deploy" / "systemd" / "kanavat.service").read_text(encoding="utf-8")
    names = re.findall(r"^LoadCredential=(\w+):/etc/kanavat/credentials/\1$", service, re.M)
    assert names == ["twilio_auth_token", "kanavat_secret", "officials_token"]
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in names:
        assert f'"cred:{name}"' in docs


def test_admin_wrapper_is_valid_sh() -> None:
    subprocess.run(["sh", "-n", str(ROOT / "deploy" / "kanavat-admin")], check=True)
