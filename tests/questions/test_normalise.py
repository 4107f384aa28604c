"""Answer normalisation: the case tables in ``cases/*.tsv`` plus keypad, buttons and speech.

Each table line is one case; its test id is ``file:line`` so a failure points at the line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kanavat.questions.lexicon import lexicon
from kanavat.questions.model import Question, Questionnaire
from kanavat.questions.morphology import voikko_available
from kanavat.questions.normalise import Input, Result, clean, expected_phrases, normalise

CASES = Path(__file__).parent / "cases"
FORMS = Path(__file__).parent / "forms.toml"  # questionnaire "forms" in the tables
LANGUAGES = ("fi", "sv", "en")


def parse_value(text: str) -> Any:
    if text == "-":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def load_cases(language: str) -> list[Any]:
    path = CASES / f"{language}.tsv"
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert 5 <= len(fields) <= 6, f"{path.name}:{number}: expected 5 or 6 tab-separated fields"
        questionnaire, question, raw, kind, value = fields[:5]
        reason = fields[5] if len(fields) == 6 else None
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            raw = raw[1:-1]
        cases.append(
            pytest.param(
                language,
                questionnaire,
                question,
                raw,
                kind,
                parse_value(value),
                reason,
                id=f"{path.name}:{number}",
            )
        )
    return cases


ALL_CASES = [case for language in LANGUAGES for case in load_cases(language)]


def test_tables_are_big_enough() -> None:
    counts = {lang: len(load_cases(lang)) for lang in LANGUAGES}
    assert all(n >= 40 for n in counts.values()), counts
    assert sum(counts.values()) >= 150, counts


def test_finnish_analyser_is_installed() -> None:
    """Inflected Finnish ("kolmosen", "tyttäreltä") needs libvoikko with voikko-fi."""
    assert voikko_available()


@pytest.mark.parametrize(
    ("language", "questionnaire", "question", "raw", "kind", "value", "reason"), ALL_CASES
)
def test_case(
    example_config,
    language: str,
    questionnaire: str,
    question: str,
    raw: str,
    kind: str,
    value: Any,
    reason: str | None,
) -> None:
    if questionnaire == "forms":
        forms = Questionnaire.model_validate(tomllib.loads(FORMS.read_text(encoding="utf-8")))
        q = forms.question(question)
    else:
        q = example_config.questionnaires[questionnaire].question(question)
    result = normalise(q, Input("text", raw), language)
    assert (result.kind, result.value) == (kind, value), result
    if reason is not None:
        assert result.reason == reason
    if kind == "no_match":
        assert result.confidence == 0.0
    else:
        assert 0.5 <= result.confidence <= 1.0


def _q(example_config, questionnaire: str, question: str) -> Question:
    return example_config.questionnaires[questionnaire].question(question)


@pytest.mark.parametrize(
    ("question", "digits", "expected"),
    [
        ("arki", "4", ("answer", 4, None)),
        ("arki", "7", ("no_match", None, "out_of_range")),
        ("arki", "*", ("command", "repeat", None)),
        ("arki", "0", ("command", "help", None)),
        ("arki", "45", ("no_match", None, "one_key_expected")),
        ("arki", "4#", ("answer", 4, None)),
        ("arki", "", ("no_match", None, "not_keypad")),
        ("arki", "a", ("no_match", None, "not_keypad")),
        ("apu", "1", ("answer", "yes", None)),
        ("apu", "2", ("answer", "no", None)),
        ("apu", "3", ("no_match", None, "unknown_key")),
        ("apu_mista", "3", ("answer", "kotihoito", None)),
        ("apu_mista", "9", ("no_match", None, "unknown_key")),
        ("yhteydet", "0", ("answer", 0, None)),
        ("yhteydet", "12#", ("answer", 12, None)),
        ("yhteydet", "45#", ("no_match", None, "out_of_range")),
        ("yhteydet", "*", ("command", "repeat", None)),
        ("yhteydet", "1*2", ("no_match", None, "not_a_number")),
        ("terveiset", "5", ("no_match", None, "needs_words")),
    ],
)
def test_keypad(example_config, question: str, digits: str, expected: tuple) -> None:
    result = normalise(_q(example_config, "hyvinvointi", question), Input("keypad", digits), "fi")
    assert (result.kind, result.value, result.reason) == expected


def test_keypad_zero_is_a_value_on_a_scale_from_zero() -> None:
    q = Questionnaire.model_validate(
        {
            "id": "z",
            "title": {"fi": "t"},
            "intro": {"fi": "i"},
            "outro": {"fi": "o"},
            "questions": [{"id": "s", "type": "scale", "min": 0, "max": 9, "text": {"fi": "?"}}],
        }
    ).questions[0]
    assert normalise(q, Input("keypad", "0"), "fi").value == 0


@pytest.mark.parametrize(
    ("question", "payload", "expected"),
    [
        ("arki", "3", ("answer", 3)),
        ("arki", "9", ("no_match", None)),
        ("apu", "yes", ("answer", "yes")),
        ("apu", "no", ("answer", "no")),
        ("apu_mista", "naapuri", ("answer", "naapuri")),
        ("apu_mista", "dont_know", ("answer", "dont_know")),
        ("apu_mista", "skip", ("answer", "skip")),
        ("apu_mista", "/repeat", ("command", "repeat")),
        ("apu_mista", "/stop", ("command", "stop")),
        ("apu_mista", "/help", ("command", "help")),
        # A payload that is no value is read as words: a chat widget may send the label.
        ("apu_mista", "kotihoito", ("answer", "kotihoito")),
        ("apu_mista", "tytär", ("answer", "omainen")),
    ],
)
def test_button(example_config, question: str, payload: str, expected: tuple) -> None:
    result = normalise(_q(example_config, "hyvinvointi", question), Input("button", payload), "fi")
    assert (result.kind, result.value) == expected


@pytest.mark.parametrize(
    ("question", "transcript", "confidence", "value", "expected_confidence"),
    [
        ("arki", "kolme", 0.9, 3, 0.9),
        ("arki", "kolme", 0.4, 3, 0.4),
        ("arki", "kolme", None, 3, 1.0),
        ("arki", "kolme", 1.7, 3, 1.0),  # recognisers that overshoot are clamped
        ("apu", "joo", 0.5, "yes", 0.5),
        ("apu_mista", "naapurilta", 1.0, "naapuri", 0.95),  # inflected: a little less sure
        ("apu_mista", "kotihoto", 1.0, "kotihoito", 0.8),  # a typo: less sure still
    ],
)
def test_speech_confidence_scales_the_result(
    example_config,
    question: str,
    transcript: str,
    confidence: float | None,
    value: Any,
    expected_confidence: float,
) -> None:
    q = _q(example_config, "hyvinvointi", question)
    result = normalise(q, Input("speech", transcript, confidence), "fi")
    assert result.value == value
    assert result.confidence == pytest.approx(expected_confidence)


def test_speech_no_match_stays_a_no_match(example_config) -> None:
    result = normalise(
        _q(example_config, "hyvinvointi", "arki"), Input("speech", "kuusi", 0.9), "fi"
    )
    assert result == Result("no_match", None, 0.0, "out_of_range")


def test_timeout_is_no_input(example_config) -> None:
    result = normalise(_q(example_config, "hyvinvointi", "arki"), Input("timeout", ""), "fi")
    assert result.reason == "no_input"


def test_text_too_long(example_config) -> None:
    q = _q(example_config, "hyvinvointi", "terveiset")
    result = normalise(q, Input("text", "sana " * 300), "fi")
    assert (result.kind, result.reason) == ("no_match", "too_long")


def test_free_text_keeps_spacing_tidy(example_config) -> None:
    q = _q(example_config, "hyvinvointi", "terveiset")
    assert normalise(q, Input("text", "  Lisää   penkkejä\n puistoon  "), "fi").value == (
        "Lisää penkkejä puistoon"
    )


def test_as_dict_shape(example_config) -> None:
    result = normalise(_q(example_config, "hyvinvointi", "arki"), Input("text", "3"), "fi")
    assert result.as_dict() == {"value": 3, "confidence": 1.0, "kind": "answer", "reason": None}


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("3.", "3"), (" 4 ", "4"), ("5)", "5"), ("-2", "-2"), ("3-4", "3 4"), ("15v", "15 v")],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_extra_synonyms_from_outside(example_config) -> None:
    q = _q(example_config, "hyvinvointi", "apu_mista")
    assert normalise(q, Input("text", "diakoni"), "fi").kind == "no_match"
    lex = lexicon("fi").extended({"muu": ["diakoni"]})
    assert normalise(q, Input("text", "diakonilta"), "fi", lex).value == "muu"


# -- expected phrases: the speech grammar ----------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_expected_phrases_scale(example_config, language: str) -> None:
    phrases = expected_phrases(_q(example_config, "hyvinvointi", "arki"), language)
    words = {"fi": ("yksi", "viisi", "toista"), "sv": ("ett", "fem", "upprepa")}
    for word in words.get(language, ("one", "five", "repeat")):
        assert word in phrases
    out_of_range = {"fi": "kuusi", "sv": "sex", "en": "six"}[language]
    assert out_of_range not in phrases
    assert len(phrases) == len(set(phrases))


def test_expected_phrases_yesno_and_choice(example_config) -> None:
    yesno = expected_phrases(_q(example_config, "hyvinvointi", "apu"), "fi")
    assert {"kyllä", "joo", "ei", "lopeta", "en osaa sanoa"} <= set(yesno)
    choice = expected_phrases(_q(example_config, "hyvinvointi", "apu_mista"), "sv")
    assert {"hemvård", "granne eller vän", "dotter", "ettan", "fyra"} <= set(choice)
    assert "en" not in choice  # an article as much as "one"
    assert "kotihoito" not in choice  # labels are per language


def test_expected_phrases_are_clean(example_config) -> None:
    for question in example_config.questionnaires["palvelut"].questions:
        for language in LANGUAGES:
            for phrase in expected_phrases(question, language):
                assert phrase == clean(phrase)


@pytest.mark.parametrize(
    ("question", "heard", "value"),
    [("arki", "en elijää", 4), ("arki", "vii vii", 5), ("apu_mista", "saa huvi", "naapuri")],
)
def test_misheard_speech_maps_to_the_clearly_closest_answer_for_confirmation(
    example_config, question, heard, value
) -> None:
    q = _q(example_config, "hyvinvointi", question)
    result = normalise(q, Input("speech", heard, 0.9), "fi")
    assert (result.kind, result.value, result.reason) == ("answer", value, "closest")
    assert result.confidence < 0.5  # always below the threshold: the dialog asks first


@pytest.mark.parametrize(("question", "heard"), [("apu_mista", "ytä maa"), ("yhteydet", "katsi")])
def test_misheard_speech_close_to_two_answers_stays_a_no_match(
    example_config, question, heard
) -> None:
    result = normalise(
        _q(example_config, "hyvinvointi", question), Input("speech", heard, 0.9), "fi"
    )
    assert result.kind == "no_match"


def test_typed_text_is_never_mapped_to_a_closest_answer(example_config) -> None:
    result = normalise(_q(example_config, "hyvinvointi", "arki"), Input("text", "en elijää"), "fi")
    assert result.kind == "no_match"


# -- a speech engine's n-best list ----------------------------------------------------------


def _scale(example_config):
    return example_config.questionnaires["hyvinvointi"].question("arki")


def test_n_best_agreeing_with_the_best_transcript_keeps_its_confidence(example_config) -> None:
    heard = Input("speech", "kolme", 0.8, (("kolme", 0.6), ("kolmen", 0.3), ("kaksi", 0.1)))
    result = normalise(_scale(example_config), heard, "fi")
    assert (result.kind, result.value, result.reason) == ("answer", 3, None)
    assert result.confidence == pytest.approx(0.8)


def test_n_best_finds_the_answer_the_best_transcript_missed(example_config) -> None:
    heard = Input("speech", "meidät", 0.2, (("meidät", 0.4), ("viisi", 0.35), ("viis", 0.25)))
    result = normalise(_scale(example_config), heard, "fi")
    assert (result.kind, result.value, result.reason) == ("answer", 5, "n-best")
    assert result.confidence < 0.45  # only ever asked about


def test_n_best_outweighing_the_best_transcript_is_only_asked_about(example_config) -> None:
    heard = Input("speech", "kaksi", 0.9, (("kaksi", 0.3), ("kolme", 0.35), ("kolme,", 0.35)))
    result = normalise(_scale(example_config), heard, "fi")
    assert (result.value, result.reason) == (3, "n-best") and result.confidence < 0.45


def test_n_best_never_votes_a_command_in(example_config) -> None:
    heard = Input("speech", "kolme", 0.5, (("kolme", 0.2), ("lopeta", 0.4), ("lopeta,", 0.4)))
    result = normalise(_scale(example_config), heard, "fi")
    assert (result.kind, result.value) == ("answer", 3)


def test_n_best_of_nothing_readable_stays_a_no_match(example_config) -> None:
    heard = Input("speech", "qwerty", 0.2, (("qwerty", 0.5), ("zxcvb", 0.5)))
    result = normalise(_scale(example_config), heard, "fi")
    assert result.kind == "no_match"
