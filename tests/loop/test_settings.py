"""The [suggestions] and [public] sections: mistakes are named with their line."""

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


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('"vammaispalvelut-2027", "nuoret', '"vammaispalvelu-2027", "nuoret', "unknown campaign"),
        ('default_queue = "kirjaamo"', 'default_queue = "arkisto"', "is no queue"),
        ('results = ["vanhukset-2027", "nuoret-2027"]', 'results = ["palaute-2027"]', "not public"),
        ("voice = true", "voice = 3", "valid boolean"),
    ],
)
def test_mistakes_are_named(old: str, new: str, said: str) -> None:
    with pytest.raises(configuration.ConfigError) as caught:
        load(old, new)
    assert said in str(caught.value)
