"""The README documents every command, and every command's help carries an example."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kanavat.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "kanavat") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += commands(command, path)
        else:
            found.append((path, command))
    return found


ALL = commands(main)


def test_there_are_commands() -> None:
    assert len(ALL) >= 10


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_command_is_in_the_readme(path: str, command: click.Command) -> None:
    words = path.split()
    parent, name = " ".join(words[:-1]), words[-1]
    # A table row may list siblings together: `kanavat campaign list|start|pause`.
    assert (
        path in README
        or (f"{parent} " in README and f"|{name}" in README)
        or (f"{parent} {name}|" in README)
    ), f"README.md does not mention `{path}`"


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_command_help_has_an_example(path: str, command: click.Command) -> None:
    assert command.help and "Example:" in command.help, f"`{path} --help` has no Example:"
