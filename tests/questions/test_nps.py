"""The NPS question (0-10, "how likely would you recommend"): keypad, speech and SMS."""

from __future__ import annotations

import pytest

from kanavat.questions import dialog
from kanavat.questions.model import NpsQuestion, Questionnaire
from kanavat.questions.normalise import Input, normalise


@pytest.fixture(scope="module")
def nps() -> NpsQuestion:
    q = Questionnaire.model_validate(
        {
            "id": "palaute",
            "title": {"fi": "Palaute"},
            "intro": {"fi": "Hei"},
            "outro": {"fi": "Kiitos"},
            "questions": [{"id": "suosittelu", "type": "nps", "text": {"fi": "Suosittelisitko?"}}],
        }
    ).questions[0]
    assert isinstance(q, NpsQuestion) and (q.min, q.max) == (0, 10)
    return q


@pytest.mark.parametrize(
    ("given", "language", "expected"),
    [
        (Input("keypad", "10#"), "fi", 10),
        (Input("keypad", "0#"), "fi", 0),
        (Input("keypad", "7"), "fi", 7),
        (Input("keypad", "11#"), "fi", None),
        (Input("text", "9"), "fi", 9),
        (Input("text", "kymmenen"), "fi", 10),
        (Input("text", "nolla"), "fi", 0),
        (Input("text", "tio"), "sv", 10),
        (Input("text", "ten"), "en", 10),
        (Input("speech", "kahdeksan", 0.9), "fi", 8),
        (Input("button", "6"), "fi", 6),
    ],
)
def test_nps_answers(nps: NpsQuestion, given: Input, language: str, expected: int | None) -> None:
    result = normalise(nps, given, language)
    assert result.value == expected, result


def test_nps_range_is_fixed() -> None:
    with pytest.raises(ValueError):
        NpsQuestion.model_validate({"id": "x", "type": "nps", "text": {"fi": "?"}, "max": 5})


def test_nps_prompt_is_keyed_as_digits_with_its_hint(nps: NpsQuestion) -> None:
    prompt = dialog.question_prompt(nps, "fi", "voice")
    assert prompt.keypad == "digits"
    assert "nollasta kymmeneen" in prompt.hint
