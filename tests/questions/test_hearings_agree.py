"""An answer the engine's separate hearings agree on is taken without asking (``agreed``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kanavat.questions.hypotheses import AGREED_CONFIDENCE
from kanavat.questions.model import Question, Questionnaire
from kanavat.questions.normalise import Input, normalise

FORMS = Path(__file__).parent / "forms.toml"
THRESHOLD = 0.6  # the dialog's default confirm_below


@pytest.fixture(scope="module")
def forms() -> Questionnaire:
    return Questionnaire.model_validate(tomllib.loads(FORMS.read_text(encoding="utf-8")))


def spoken(text: str, hearings: list[list[tuple[str, float]]], confidence: float = 0.3) -> Input:
    """A doubtful transcript (Whisper's confidence under the threshold) with its hearings."""
    pooled = tuple(dict.fromkeys(t for h in hearings for t, _ in h))
    alternatives = tuple((t, 1.0 / len(pooled)) for t in pooled)
    return Input("speech", text, confidence, alternatives, tuple(tuple(h) for h in hearings))


def question(forms: Questionnaire, qid: str) -> Question:
    return forms.question(qid)


def test_hearings_that_agree_take_the_answer_without_asking(forms: Questionnaire) -> None:
    said = [("kolme kertaa", -2.0), ("kolme", -2.2), ("kolmesti", -3.0), ("kolme.", -2.5)]
    slowed = [("kolme", -1.9), ("kolme kertaa", -2.4), ("kolmen", -2.6), ("kolmas", -4.0)]
    result = normalise(question(forms, "kertoja"), spoken("kolme kertaa", [said, slowed]), "fi")
    assert (result.kind, result.value) == ("answer", 3)
    assert result.confidence >= THRESHOLD
    assert result.confidence == pytest.approx(AGREED_CONFIDENCE)
    assert result.reason == "hearings agree"


def test_the_same_answer_from_one_hearing_only_is_still_asked_about(
    forms: Questionnaire,
) -> None:
    said = [("kolme", -2.0), ("kolme kertaa", -2.1)]
    slowed = [("kaksi", -1.9), ("kolme", -2.4)]  # the slowed hearing's best says 2
    result = normalise(question(forms, "kertoja"), spoken("kolme", [said, slowed]), "fi")
    assert (result.kind, result.value) == ("answer", 3)
    assert result.confidence < THRESHOLD


def test_a_split_n_best_is_still_asked_about(forms: Questionnaire) -> None:
    # Both best hypotheses say 3, but half the others say 2: not enough of them agree.
    said = [("kolme", -2.0), ("kaksi", -2.05), ("kaksi kertaa", -2.1)]
    slowed = [("kolme", -2.0), ("kaksi", -2.05), ("kahdesti", -2.2)]
    result = normalise(question(forms, "kertoja"), spoken("kolme", [said, slowed]), "fi")
    assert result.value in (2, 3)  # the n-best's vote may ask about 2 instead
    assert result.confidence < THRESHOLD
    assert result.reason != "hearings agree"


def test_a_dont_know_is_never_raised_by_agreement(forms: Questionnaire) -> None:
    # Whisper writes "en osaa sanoa" from its bias list in place of an answer it cannot hear.
    said = [("en osaa sanoa", -1.0), ("en osaa sanoa.", -1.2)]
    slowed = [("en osaa sanoa", -1.1), ("en osaa", -1.5)]
    given = spoken("en osaa sanoa", [said, slowed], confidence=0.3)
    result = normalise(question(forms, "kauppa"), given, "fi")
    assert result.value == "dont_know"
    assert result.confidence < THRESHOLD


def test_without_hearings_nothing_changes(forms: Questionnaire) -> None:
    given = Input("speech", "kyllä", 0.3, (("kyllä", 0.9), ("kylä", 0.1)))
    result = normalise(question(forms, "kauppa"), given, "fi")
    assert result.value == "yes"
    assert result.confidence < THRESHOLD
