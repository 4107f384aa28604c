"""Configuration: each broken file in ``bad/`` with its expected messages, and the good paths.

``bad/NAME.toml`` is loaded as ``NAME.toml`` with an empty environment; ``bad/NAME.expected``
holds every message it must produce, one a line, in order (file:line: key.path: message).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kanavat import config as configuration
from kanavat.config import ConfigError

BAD = Path(__file__).parent / "bad"
BROKEN = sorted(BAD.glob("*.toml"))


def problems_of(
    text: str, name: str = "config.toml", env: dict[str, str] | None = None
) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        configuration.loads(text, name=name, env=env or {})
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_config(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert problems_of(path.read_text(encoding="utf-8"), name=path.name) == expected


def test_every_broken_config_has_expectations() -> None:
    assert len(BROKEN) >= 10
    for path in BROKEN:
        assert path.with_suffix(".expected").is_file(), path.name


def test_every_problem_at_once() -> None:
    many = problems_of((BAD / "many_problems.toml").read_text(encoding="utf-8"))
    assert len(many) >= 10
    for fragment in ("timezone", "server.secret", "officials_token", ".type:", ".when.a:"):
        assert any(fragment in p for p in many), fragment
    assert any("unknown questionnaire 'kysely'" in p for p in many)


def test_the_example_config_loads(example_config_path: Path) -> None:
    config = configuration.load(example_config_path, env={})
    assert config.county.languages == ["fi", "sv", "en"]
    assert set(config.campaigns) == {
        "vanhukset-2027",
        "vammaispalvelut-2027",
        "nuoret-2027",
        "palaute-2027",
        "keskustelu-2027",
    }
    assert config.questionnaire_of("vanhukset-2027").id == "hyvinvointi"
    assert config.database_path == example_config_path.parent / "kanavat.db"


def test_example_config_check_has_only_warnings(example_config_path: Path) -> None:
    config, problems = configuration.check(example_config_path, env={})
    assert config is not None
    assert problems and all(p.severity == "warning" for p in problems)


def _example(example_config_path: Path) -> str:
    return example_config_path.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_line_numbers_in_the_example(example_config_path: Path) -> None:
    text = _example(example_config_path)
    label = 'label = { fi = "kotihoito", sv = "hemvård", en = "home care" }'
    broken = text.replace('id = "yhteydet"\ntype = "number"', 'id = "yhteydet"\ntype = "nmber"')
    broken = broken.replace('retries = "2h 1d"', 'retries = "2 hours"')
    broken = broken.replace(label, 'label = { fi = "kotihoito", sv = "hemvård" }')
    option_line = _line_of(broken, '{ id = "kotihoito"')
    assert problems_of(broken) == [
        f"config.toml:{option_line}: questionnaires.hyvinvointi.questions[2].options[2].label: "
        "missing translation for en",
        f"config.toml:{_line_of(broken, 'nmber')}: questionnaires.hyvinvointi.questions[3].type: "
        "unknown type 'nmber'; expected one of yesno, scale, choice, number, text, nps",
        f"config.toml:{_line_of(broken, '2 hours')}: campaigns.vanhukset-2027.retries: "
        '\'2 hours\' is not a duration list; write e.g. "2h 1d" or "30min"',
    ]


def test_env_values_are_read(example_config_path: Path) -> None:
    text = _example(example_config_path).replace(
        '# secret = "env:KANAVAT_SECRET"', 'secret = "env:KANAVAT_SECRET"'
    )
    config = configuration.loads(text, env={"KANAVAT_SECRET": "s3cret-value"})
    assert config.server.secret == "s3cret-value"
    (problem,) = problems_of(text, env={"OTHER": "x"})
    assert problem.endswith("server.secret: environment variable KANAVAT_SECRET is not set")
    (empty,) = problems_of(text, env={"KANAVAT_SECRET": ""})
    assert "KANAVAT_SECRET" in empty


def test_env_default_is_the_process_environment(
    example_config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _example(example_config_path).replace(
        '# secret = "env:KANAVAT_SECRET"', 'secret = "env:KANAVAT_SECRET"'
    )
    monkeypatch.setenv("KANAVAT_SECRET", "from-environment")
    assert configuration.loads(text).server.secret == "from-environment"


def test_twilio_section_from_env(example_config_path: Path) -> None:
    text = _example(example_config_path).replace("# [twilio]", "[twilio]")
    text = text.replace('# account_sid = "env:', 'account_sid = "env:')
    text = text.replace('# auth_token = "env:', 'auth_token = "env:')
    text = text.replace('# caller_id = "+358', 'caller_id = "+358')
    env = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token-1234"}
    config = configuration.loads(text, env=env)
    assert config.twilio is not None and config.twilio.auth_token == "token-1234"
    got = problems_of(text, env={})
    assert [p.split(": ", 2)[1] for p in got] == ["twilio.account_sid", "twilio.auth_token"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        configuration.load(tmp_path / "nope.toml")
    assert "file not found" in str(caught.value)


def test_config_path_resolution(
    tmp_path: Path, example_config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere" / "county.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(_example(example_config_path), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("KANAVAT_CONFIG", raising=False)
    assert configuration.default_config_path() == Path("config.toml")
    monkeypatch.setenv("KANAVAT_CONFIG", str(elsewhere))
    assert configuration.default_config_path() == elsewhere
    config = configuration.load(None, env={})
    assert config.path == elsewhere.resolve()
    assert config.database_path == elsewhere.parent / "kanavat.db"
    # A config.toml in the working directory comes first (documented in `--config` help).
    (work / "config.toml").write_text(_example(example_config_path), encoding="utf-8")
    assert configuration.default_config_path() == Path("config.toml")
    assert os.environ["KANAVAT_CONFIG"] == str(elsewhere)


def _with_database(example_config_path: Path, value: str) -> str:
    text = _example(example_config_path)
    assert 'database = "kanavat.db"' in text
    return text.replace('database = "kanavat.db"', f'database = "{value}"')


def test_a_postgresql_url_is_the_store(example_config_path: Path) -> None:
    url = "postgresql://kanavat@db.example:5432/pirkanmaa"
    config = configuration.loads(_with_database(example_config_path, url), env={})
    assert config.server.is_postgres and config.database == url
    with pytest.raises(ValueError, match="PostgreSQL URL, not a SQLite file"):
        config.database_path  # noqa: B018
    secret = "postgresql://kanavat:pw@db.example/pirkanmaa"
    env = configuration.loads(
        _with_database(example_config_path, "env:KANAVAT_DATABASE"),
        env={"KANAVAT_DATABASE": secret},
    )
    assert env.database == secret  # a password only from the environment


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql://db/k", "'mysql://' is not a database kanavat speaks"),
        ("postgresql://db.example", "needs a host and a database name"),
        ("postgresql:///pirkanmaa", "needs a host and a database name"),
        ("postgresql://db:port/k", "port is not a number"),
        ("postgresql://k:hunter2@db/k", "a database password must not be in the file"),
    ],
)
def test_a_bad_database_is_named(example_config_path: Path, value: str, message: str) -> None:
    found = problems_of(_with_database(example_config_path, value))
    assert any("server.database" in p and message in p for p in found), found
    assert not any("hunter2" in p for p in found)
