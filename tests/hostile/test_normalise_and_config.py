"""The answer normaliser and the TOML loader never raise on anything a person could type."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kanavat import config as configuration
from kanavat.questions.normalise import Input, normalise

from .conftest import HOSTILE

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
KINDS = st.sampled_from(["text", "keypad", "button", "speech", "timeout"])
CONFIDENCE = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@pytest.fixture(scope="module")
def questions(example_config: configuration.Config) -> list:
    return [q for qn in example_config.questionnaires.values() for q in qn.questions]


@HOSTILE
@given(raw=TEXT, kind=KINDS, confidence=CONFIDENCE, language=st.sampled_from(["fi", "sv", "en"]))
def test_normaliser_answers_everything(questions, raw, kind, confidence, language) -> None:
    for question in questions:
        result = normalise(question, Input(kind, raw, confidence), language)
        assert isinstance(result.kind, str) and result.kind
        assert result.kind != "no_match" or result.value is None


TOML_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), TEXT, st.dates(), st.datetimes()
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def toml_text(data: dict) -> str:
    """A crude TOML writer: good enough to produce both valid and invalid documents."""
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        if isinstance(values, dict):
            for key, value in values.items():
                lines.append(f"{key!r} = {value!r}".replace("'", '"'))
    return "\n".join(lines)


SECTIONS = st.sampled_from(
    ["county", "server", "twilio", "privacy", "speech.fi", "questionnaires.q", "campaigns.c", "x"]
)


@HOSTILE
@given(text=st.one_of(TEXT, st.dictionaries(SECTIONS, TOML_VALUES, max_size=5).map(toml_text)))
def test_loader_reports_or_loads(text: str) -> None:
    try:
        configuration.loads(text, env={})
    except configuration.ConfigError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@HOSTILE
@given(
    key=st.sampled_from(["retention_days", "min_cell", "erasure", "allowed_country_codes"]),
    value=TOML_VALUES,
)
def test_loader_mutated_example(example_config_path, key, value) -> None:
    text = example_config_path.read_text(encoding="utf-8")
    line = f"{key} = {value!r}".replace("'", '"').replace("None", '""')
    mutated, n = re.subn(rf"^{key} = .*$", lambda _: line, text, flags=re.M)
    if not n:
        mutated = text.replace("[privacy]\n", f"[privacy]\n{line}\n", 1)
    try:
        configuration.loads(mutated, env={})
    except configuration.ConfigError as exc:
        assert exc.problems
