"""Fixtures shared by every test folder: the example configuration and a throwaway store."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Placeholder prompt audio is content-addressed: every test server shares one cache.
os.environ.setdefault(
    "KANAVAT_PROMPT_CACHE", str(Path.home() / ".cache" / "kanavat" / "test-prompts")
)

from kanavat import config as configuration
from kanavat.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def example_config_path() -> Path:
    """The repository's example ``config.toml``; read it, never write it."""
    return ROOT / "config.toml"


@pytest.fixture(scope="session")
def example_config(example_config_path: Path) -> configuration.Config:
    return configuration.load(example_config_path, env={})


@pytest.fixture
def config_copy(tmp_path: Path, example_config_path: Path) -> Path:
    """A copy of the example config in tmp_path, so its database lands there too."""
    path = tmp_path / "config.toml"
    shutil.copy(example_config_path, path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kanavat.db", secret="test-secret")
    yield s
    s.close()
