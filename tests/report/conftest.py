"""One generated store for all report tests (built once: it holds over 10,000 answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from kanavat.config import Config
from kanavat.report.build import build_report
from kanavat.store import Store

from . import fixture

NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)


@dataclass
class World:
    config: Config
    truth: fixture.Truth

    def store(self) -> Store:
        return Store(self.config.database_path, secret="report-tests")

    def report(self, campaign: str = fixture.SAMPLED, **options: Any) -> dict[str, Any]:
        store = self.store()
        try:
            return build_report(store, self.config, campaign, now=NOW, **options)
        finally:
            store.close()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("report")
    config = fixture.make_config(folder)
    return World(config, fixture.generate(config))


@pytest.fixture(scope="session")
def sampled(world: World) -> dict[str, Any]:
    return world.report(compare=fixture.EARLIER)
