"""The [outcomes], [suggestions] and [public] sections: mistakes are named with their line."""

from __future__ import annotations

import pytest
from harness import EXAMPLE_CONFIG

from kanavat import config as configuration


def load(old: str, new: str) -> configuration.Config:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert old in text
    return configuration.loads(text.replace(old, new, 1))


def test_example_sections_load() -> None:
    config = load("voice = true", "voice = true")
    assert config.suggestions.default_queue == "kirjaamo"
    assert "nuoret-2027" in config.public.campaigns
    assert config.outcomes.calls_wait_for_recording is True


def test_outcome_calls_go_at_once_without_the_section() -> None:
    config = load(
        "[outcomes]\ncalls_wait_for_recording = true\ncalls_wait_days", "# calls_wait_days"
    )
    assert config.outcomes.calls_wait_for_recording is False


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('"vammaispalvelut-2027", "nuoret', '"vammaispalvelu-2027", "nuoret', "unknown campaign"),
        ('default_queue = "kirjaamo"', 'default_queue = "arkisto"', "is no queue"),
        ('results = ["vanhukset-2027", "nuoret-2027"]', 'results = ["palaute-2027"]', "not public"),
        ("voice = true", "voice = 3", "valid boolean"),
        (
            "calls_wait_for_recording = true",
            'calls_wait_for_recording = "sometimes"',
            "outcomes.calls_wait_for_recording: Input should be a valid boolean",
        ),
        (
            "calls_wait_for_recording = true",
            "calls_wait_for_recordings = true",
            "outcomes.calls_wait_for_recordings: unknown key",
        ),
        (
            "calls_wait_days = 14",
            "calls_wait_days = 0",
            "outcomes.calls_wait_days: Input should be",
        ),
    ],
)
def test_mistakes_are_named(old: str, new: str, said: str) -> None:
    with pytest.raises(configuration.ConfigError) as caught:
        load(old, new)
    assert said in str(caught.value)
