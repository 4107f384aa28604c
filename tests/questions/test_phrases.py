"""The phrases API: per value of a closed question, what a resident may say for it."""

from __future__ import annotations

import pytest

from kanavat.questions.cleaning import clean
from kanavat.questions.model import valid_values
from kanavat.questions.normalise import Input, normalise
from kanavat.questions.phrases import command_phrases, expected_phrases, listen_for

LANGUAGES = ("fi", "sv", "en")


def _q(example_config, questionnaire: str, question: str):
    return example_config.questionnaires[questionnaire].question(question)


def test_choice_lists_labels_synonyms_meanings_and_keys(example_config) -> None:
    fi = expected_phrases(_q(example_config, "hyvinvointi", "apu_mista"), "fi")
    assert fi["omainen"][0] == "omainen"  # the label first
    assert {"tytär", "vaimo", "mies", "sukulainen", "yksi", "ykkönen"} <= set(fi["omainen"])
    assert {"naapuri", "ystävä", "kaksi"} <= set(fi["naapuri"])
    assert {"kotihoito", "lähihoitaja", "kolmonen"} <= set(fi["kotihoito"])
    sv = expected_phrases(_q(example_config, "hyvinvointi", "apu_mista"), "sv")
    assert {"anhörig", "fru", "man", "släktingar", "ettan"} <= set(sv["omainen"])
    assert "en" not in sv["omainen"]  # an article as much as "one"
    assert "kotihoito" not in {p for ps in sv.values() for p in ps}  # labels are per language


def test_yesno_lists_echoes_of_the_question_verb(example_config) -> None:
    fi = expected_phrases(_q(example_config, "hyvinvointi", "apu"), "fi")
    assert {"kyllä", "joo", "saan"} <= set(fi["yes"])
    assert {"ei", "en saa"} <= set(fi["no"])
    sv = expected_phrases(_q(example_config, "hyvinvointi", "apu"), "sv")
    assert {"ja", "nog", "jag får", "det gör jag"} <= set(sv["yes"])
    assert {"nej", "int", "får inte"} <= set(sv["no"])
    en = expected_phrases(_q(example_config, "hyvinvointi", "apu"), "en")
    assert {"yes", "i do"} <= set(en["yes"]) and "i don't" in en["no"]


def test_scale_lists_numbers_in_range_and_scale_words(example_config) -> None:
    fi = expected_phrases(_q(example_config, "hyvinvointi", "arki"), "fi")
    assert set(fi) == {1, 2, 3, 4, 5, "dont_know", "skip"}
    assert {"5", "viisi", "vitonen", "hyvin"} <= set(fi[5])
    assert "melko hyvin" in fi[4] and "melko huonosti" in fi[2]
    assert "kohtalaisesti" in fi[3] and "huonosti" in fi[1]
    assert all("kuusi" not in ps for ps in fi.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_listed_phrase_reads_as_its_value(example_config, language: str) -> None:
    """The API and the normaliser agree: each phrase, typed alone, is its value."""
    for questionnaire in example_config.questionnaires.values():
        for question in questionnaire.questions:
            table = expected_phrases(question, language)
            values = valid_values(question)
            for value, phrases in table.items():
                if values is not None:
                    assert value in [*values, "dont_know", "skip"]
                for phrase in phrases:
                    assert phrase == clean(phrase)
                    result = normalise(question, Input("text", phrase), language)
                    assert (result.kind, result.value) == ("answer", value), (question.id, phrase)


def test_free_text_has_no_phrases(example_config) -> None:
    assert expected_phrases(_q(example_config, "hyvinvointi", "terveiset"), "fi") == {}


def test_commands_are_listed_apart() -> None:
    assert "lopeta" in command_phrases("fi")["stop"]
    assert "nej tack" in command_phrases("sv")["stop"]


def test_listen_for_keeps_its_order_and_leaves_meaning_words_out(example_config) -> None:
    heard = listen_for(_q(example_config, "hyvinvointi", "apu_mista"), "fi")
    assert heard[0] == "omainen" and "vaimo" not in heard
    assert heard.index("lopeta") > heard.index("en osaa sanoa")


def test_hedged_numbers_are_listed_beside_dont_know(example_config) -> None:
    """Speech heard "kanske tre" as "kan inte säga": both are candidates, each its value."""
    sv = expected_phrases(_q(example_config, "hyvinvointi", "arki"), "sv")
    assert "kanske tre" in sv[3] and "kan inte säga" in sv["dont_know"]
    fi = expected_phrases(_q(example_config, "hyvinvointi", "yhteydet"), "fi")
    assert "ehkä kolme" in fi[3]
