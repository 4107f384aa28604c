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

from bench.pg_cluster import PostgresServer
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run on SQLite and on PostgreSQL (the `database` fixture)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` that use a store run once per dialect (unless they
    name their own ``backend``)."""
    own = any(m.args[:1] == ("backend",) for m in metafunc.definition.iter_markers("parametrize"))
    if (
        "backend" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("both_backends")
        and not own
    ):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Where a test's store lives: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield str(tmp_path / "kanavat.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.fresh_database()
    yield url
    server.drop(url)


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    s = Store(database, secret="test-secret")
    yield s
    s.close()
