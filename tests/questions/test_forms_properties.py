"""Properties of the forms residents use, over every phrase the phrases API lists: a hedge
keeps the answer, a negation never lets a positive value through, a command word inside an
answer is no command, and two answers are never one."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kanavat import config as configuration
from kanavat.questions.lexicon import lexicon
from kanavat.questions.model import Questionnaire, TextQuestion, YesNoQuestion
from kanavat.questions.normalise import Input, normalise
from kanavat.questions.phrases import command_phrases, expected_phrases

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("fi", "sv", "en")
SPECIALS = ("dont_know", "skip")
HEDGES = {
    "fi": ["ehkä", "varmaan", "luulisin"],
    "sv": ["kanske", "nog"],
    "en": ["maybe", "probably"],
}
OR = {"fi": "tai", "sv": "eller", "en": "or"}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _questions() -> list:
    example = configuration.load(ROOT / "config.toml", env={})
    forms = Questionnaire.model_validate(
        tomllib.loads((Path(__file__).parent / "forms.toml").read_text(encoding="utf-8"))
    )
    found = [q for qn in example.questionnaires.values() for q in qn.questions]
    return [q for q in [*found, *forms.questions] if not isinstance(q, TextQuestion)]


QUESTIONS = _questions()


def _said(language: str) -> list[tuple[int, object, str]]:
    """(question index, value, phrase) for every answer phrase of every closed question."""
    out = []
    for index, question in enumerate(QUESTIONS):
        for value, phrases in expected_phrases(question, language).items():
            if value not in SPECIALS:  # "nog" is yes only alone: no phrase to combine
                out += [(index, value, p) for p in phrases if p not in lexicon(language).yes_alone]
    return out


SAID = {language: _said(language) for language in LANGUAGES}


def _starts_negated(phrase: str, language: str) -> bool:
    lex = lexicon(language)
    first = phrase.split()[0]
    return first in lex.negations or first in {"e", "n", "nä", "nää", "nej", "nix"}


@pytest.mark.parametrize("language", LANGUAGES)
@SETTINGS
@given(data=st.data())
def test_a_hedge_keeps_the_answer(language: str, data) -> None:
    index, value, phrase = data.draw(st.sampled_from(SAID[language]))
    hedge = data.draw(st.sampled_from(HEDGES[language]))
    result = normalise(QUESTIONS[index], Input("text", f"{hedge} {phrase}"), language)
    assert (result.kind, result.value) == ("answer", value), (hedge, phrase, result)


@pytest.mark.parametrize("language", LANGUAGES)
@SETTINGS
@given(data=st.data())
def test_a_negation_never_lets_a_positive_value_through(language: str, data) -> None:
    lex = lexicon(language)
    index, value, phrase = data.draw(st.sampled_from(SAID[language]))
    question = QUESTIONS[index]
    if _starts_negated(phrase, language) or value in (0, "no", "ei_koskaan"):
        return  # the phrase is itself the negative answer ("ei", "en koskaan", "nolla")
    # A negation before a phrase can spell another answer's own words ("no" + "time" is the
    # example config's option "no time"): that is that answer, not a negated one.
    table = expected_phrases(question, language)
    if any(_starts_negated(p, language) for p in table[value]):
        return  # the answer is itself negative ("ei aikaa"): "ei aika" is that answer
    answers = {p for phrases in table.values() for p in phrases}
    negations = [
        n for n in sorted(lex.negations - set(lex.numbers)) if f"{n} {phrase}" not in answers
    ]
    if not negations:
        return
    negation = data.draw(st.sampled_from(negations))
    result = normalise(question, Input("text", f"{negation} {phrase}"), language)
    positive = "yes" if isinstance(question, YesNoQuestion) else value
    assert not (result.kind == "answer" and result.value == positive), (negation, phrase, result)


@pytest.mark.parametrize("language", LANGUAGES)
@SETTINGS
@given(data=st.data())
def test_a_command_word_inside_an_answer_is_no_command(language: str, data) -> None:
    index, _, phrase = data.draw(st.sampled_from(SAID[language]))
    commands = [p for ps in command_phrases(language).values() for p in ps]
    command = data.draw(st.sampled_from(commands))
    text = data.draw(st.sampled_from([f"{phrase} {command}", f"{command} {phrase}"]))
    words = text.split()
    if any(a == b for a, b in itertools.pairwise(words)):
        return  # a repeated word is read once ("ei ei ei" is "ei")
    if any(w in lexicon(language).numbers for w in command.split()):
        return  # "en gång till" holds a number: "kanske ett en gång till" says two
    result = normalise(QUESTIONS[index], Input("text", text), language)
    assert result.kind != "command", (text, result)


@pytest.mark.parametrize("language", LANGUAGES)
@SETTINGS
@given(data=st.data())
def test_two_answers_are_never_one(language: str, data) -> None:
    index, value, phrase = data.draw(st.sampled_from(SAID[language]))
    others = [(v, p) for i, v, p in SAID[language] if i == index and v != value]
    if not others:
        return
    other_value, other = data.draw(st.sampled_from(others))
    text = f"{phrase} {OR[language]} {other}"
    result = normalise(QUESTIONS[index], Input("text", text), language)
    assert result.kind != "answer" or result.value not in (value, other_value), (text, result)
