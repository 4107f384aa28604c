"""Several workers on one machine share its cores: each one's Whisper decodes on its share
(``[server] workers_per_machine``), so two workers on two cores do not put four CTranslate2
threads on two cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from kanavat import config as configuration
from kanavat.voice import models
from kanavat.voice.engines import cpu_count, load_engine, speech_threads


def test_each_worker_gets_its_share_of_the_cores() -> None:
    cores = cpu_count()
    assert speech_threads() == max(1, min(4, cores))
    assert speech_threads(2) == max(1, min(4, cores // 2))
    assert speech_threads(cores * 2) == 1  # never none


@pytest.mark.slow
def test_whisper_is_loaded_with_the_workers_share() -> None:
    try:
        path = models.assemble_whisper_base()
    except models.ModelNotInstalled as exc:
        pytest.skip(str(exc))
    engine = load_engine("whisper", "fi", path, threads=1)
    try:
        assert engine.cpu_threads == 1  # type: ignore[attr-defined]
        assert engine.pool._max_workers == 1  # type: ignore[attr-defined]
    finally:
        engine.close()  # type: ignore[attr-defined]


def test_the_key_is_checked(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config.toml"
    text = example.read_text(encoding="utf-8")
    good = text.replace("[server]\n", "[server]\nworkers_per_machine = 2\n", 1)
    (tmp_path / "good.toml").write_text(good, encoding="utf-8")
    assert configuration.load(tmp_path / "good.toml").server.workers_per_machine == 2
    bad = text.replace("[server]\n", "[server]\nworkers_per_machine = 0\n", 1)
    (tmp_path / "bad.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(configuration.ConfigError, match="workers_per_machine"):
        configuration.load(tmp_path / "bad.toml")
