"""``kanavat themes CAMPAIGN QUESTION ...``: officials name, merge, split, seed and forget
themes; names persist and new answers join the named themes (issue 21)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kanavat.cli import main

from . import world


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["themes", world.CAMPAIGN, world.QUESTION, *args, "--config", str(config)],
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


LISTED = re.compile(r"^\s+(\d+|new-\d+)  (.+?): (\d+) answers.*\n\s+words: (.*)$", re.MULTILINE)


def listed(config: Path) -> dict[str, tuple[str, int, list[str]]]:
    """id -> (title, answers, words) of each theme as listed."""
    code, out = run(config)
    assert code == 0, out
    return {i: (t, int(n), w.split(", ")) for i, t, n, w in LISTED.findall(out)}


def themes_in(config: Path) -> dict[str, str]:
    """id -> title of each theme as listed."""
    return {i: t for i, (t, _, _) in listed(config).items()}


@pytest.fixture
def county(tmp_path: Path) -> Path:
    config = world.make(tmp_path)
    world.add(config, world.topics())
    return config.path


def test_list_proposes_themes_with_words_and_redacted_examples(county):
    code, out = run(county)
    assert code == 0, out
    assert "45 free-text answers" in out
    assert "new-1" in out and "(proposed)" in out and "words:" in out
    assert "in no theme:" in out


def test_a_named_theme_persists_and_takes_new_answers(county, tmp_path):
    queue = next(
        i for i, (_, _, words) in listed(county).items() if {"puhelinjono", "jonottaa"} & set(words)
    )
    code, out = run(county, "name", queue, "Puhelinjonot")
    assert code == 0, out
    stored = re.search(r"theme (\d+): Puhelinjonot", out).group(1)
    assert themes_in(county)[stored] == "Puhelinjonot"
    # New answers about phone queues arrive, in Swedish too: they join the named theme.
    from kanavat.config import load

    config = load(county, env={})
    before = _size(county, stored)
    world.add(config, [world.Written(t, "sv") for t in world.corpus("jonot", "sv", 6)])
    assert _size(county, stored) >= before + 3  # at least half of them
    # The report uses the official's name.
    result = CliRunner().invoke(
        main, ["report", world.CAMPAIGN, "--format", "json", "--config", str(county)]
    )
    report = json.loads(result.output)
    q = next(q for q in report["questions"] if q["id"] == world.QUESTION)
    assert "Puhelinjonot" in [i["name"] for i in q["themes"]["items"]]


def _size(config: Path, theme_id: str) -> int:
    return listed(config)[theme_id][1]


def test_merge_split_forget(county):
    listed = themes_in(county)
    first, second = list(listed)[:2]
    code, out = run(county, "merge", first, second, "--name", "Yhdessä")
    assert code == 0, out
    merged = re.search(r"into theme (\d+)", out).group(1)
    assert themes_in(county)[merged] == "Yhdessä"
    code, out = run(county, "split", merged, "--parts", "2")
    assert code == 0, out
    titles = themes_in(county).values()
    assert "Yhdessä (1)" in titles and "Yhdessä (2)" in titles
    part = next(i for i, t in themes_in(county).items() if t == "Yhdessä (1)")
    code, out = run(county, "forget", part)
    assert code == 0, out
    assert "Yhdessä (1)" not in themes_in(county).values()


def test_seeded_theme_gathers_its_answers(county):
    code, out = run(
        county,
        "seed",
        "Omaishoitajat",
        "-e",
        "omaishoitaja ei saa vapaata",
        "-e",
        "omaishoidon tuki on liian pieni",
        "-e",
        "närståendevårdaren orkar inte",
    )
    assert code == 0, out
    stored = re.search(r"theme (\d+): Omaishoitajat", out).group(1)
    assert _size(county, stored) >= 10  # of the 15 answers about informal carers


def test_mistakes_get_clear_errors(county):
    code, out = run(county, "name", "new-99", "X")
    assert code != 0 and "no theme 'new-99'" in out
    code, out = run(county, "merge", "new-1")
    assert code != 0 and "two or more" in out
    code, out = run(county, "forget", "new-1")
    assert code != 0 and "proposal" in out
    code, out = run(county, "seed", "Tyhjä", "-e", "  ")
    assert code != 0 and "at least one example" in out
    first = next(iter(themes_in(county)))
    run(county, "name", first, "Sama")
    second = list(themes_in(county))[1]
    code, out = run(county, "name", second, "Sama")
    assert code != 0 and "already called 'Sama'" in out
    result = CliRunner().invoke(
        main, ["themes", world.CAMPAIGN, "arki", "list", "--config", str(county)]
    )
    assert result.exit_code != 0 and "themes need free text" in result.output
