"""The example configuration's conversation campaign, on a copy in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "keskustelu-2027"


@pytest.fixture
def conversation_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path.write_text(text, "utf-8")
    return path
