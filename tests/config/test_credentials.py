"""Secrets as systemd credentials: ``"cred:NAME"`` reads ``$CREDENTIALS_DIRECTORY/NAME``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kanavat import config as configuration
from kanavat.config import ConfigError

SECRET_LINE = '# secret = "env:KANAVAT_SECRET"'


def example_with(example_config_path: Path, value: str) -> str:
    text = example_config_path.read_text(encoding="utf-8")
    assert SECRET_LINE in text
    return text.replace(SECRET_LINE, f'secret = "{value}"')


def problems(text: str, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        configuration.loads(text, env=env)
    return [str(p) for p in caught.value.problems]


def test_credential_is_read_without_its_newline(example_config_path: Path, tmp_path: Path) -> None:
    (tmp_path / "kanavat_secret").write_text("pseudonym-key-1\n", encoding="utf-8")
    text = example_with(example_config_path, "cred:kanavat_secret")
    config = configuration.loads(text, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert config.server.secret == "pseudonym-key-1"


def test_missing_directory_or_file_or_empty_is_an_error_naming_it(
    example_config_path: Path, tmp_path: Path
) -> None:
    text = example_with(example_config_path, "cred:kanavat_secret")
    (outside,) = problems(text, env={})
    assert "server.secret: credential kanavat_secret: CREDENTIALS_DIRECTORY is not set" in outside
    assert "LoadCredential=kanavat_secret:" in outside
    (absent,) = problems(text, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "credential kanavat_secret is not in $CREDENTIALS_DIRECTORY" in absent
    (tmp_path / "kanavat_secret").write_text("\n", encoding="utf-8")
    (empty,) = problems(text, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "credential kanavat_secret is empty" in empty


def test_a_path_is_not_a_credential_name(example_config_path: Path, tmp_path: Path) -> None:
    text = example_with(example_config_path, "cred:../etc/passwd")
    (problem,) = problems(text, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "is not a credential name" in problem


def test_env_values_keep_working_beside_credentials(
    example_config_path: Path, tmp_path: Path
) -> None:
    text = example_with(example_config_path, "env:KANAVAT_SECRET")
    text = text.replace(
        '# officials_token = "env:KANAVAT_OFFICIALS_TOKEN"', 'officials_token = "cred:officials"'
    )
    (tmp_path / "officials").write_text("officials-token-1", encoding="utf-8")
    env = {"KANAVAT_SECRET": "from-env", "CREDENTIALS_DIRECTORY": str(tmp_path)}
    config = configuration.loads(text, env=env)
    assert (config.server.secret, config.server.officials_token) == (
        "from-env",
        "officials-token-1",
    )
