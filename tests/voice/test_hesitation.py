"""What a closed answer's first piece says: an answer, or not yet (hesitation.py), and the
closed set's grouping of phrases by meaning (closed_set.py). Pure: lexicons and libvoikko."""

from __future__ import annotations

import math

from kanavat.voice.closed_set import (
    FREE,
    PAUSE,
    Candidate,
    Scored,
    candidates,
    decide,
    group_of,
    heard_group,
    shortlist,
)
from kanavat.voice.hesitation import no_answer_yet

ARKI_FI = ("yksi", "kaksi", "kolme", "neljä", "viisi", "ykkö", "en osaa sanoa", "toista", "lopeta")
APU_SV = ("ja", "nej", "jo", "nog", "int", "vet inte", "sluta", "hjälp")


def test_filled_pauses_and_hedges_alone_are_no_answer_yet() -> None:
    assert no_answer_yet("Öö.", 0.4, ARKI_FI, "fi") == "filled-pause"
    assert no_answer_yet("ykkö", 0.3, ARKI_FI, "fi") == "filled-pause"  # Whisper's "öö"
    assert no_answer_yet("Tota,", 0.4, ARKI_FI, "fi") == "filled-pause"
    assert no_answer_yet("ehkä", 0.5, ARKI_FI, "fi") == "filled-pause"
    assert no_answer_yet("sanoisin että", 0.9, ARKI_FI, "fi") == "filled-pause"
    assert no_answer_yet("alltså", 0.5, APU_SV, "sv") == "filled-pause"


def test_a_short_piece_saying_no_listed_answer_waits_for_the_rest() -> None:
    assert no_answer_yet("auta", 0.4, ARKI_FI, "fi") == "no-answer"
    assert no_answer_yet("lopetetaan", 0.6, ARKI_FI, "fi") == "no-answer"  # commands aside
    # ... but a long one is what it is, and an answer is an answer, near misses included.
    assert no_answer_yet("lopetetaan nyt tämä kysely", 2.0, ARKI_FI, "fi") is None
    assert no_answer_yet("Kolme.", 0.4, ARKI_FI, "fi") is None
    assert no_answer_yet("kolmee", 0.4, ARKI_FI, "fi") is None
    assert no_answer_yet("en osaa sanoa", 0.9, ARKI_FI, "fi") is None
    assert no_answer_yet("Nog.", 0.3, APU_SV, "sv") is None  # a Finland-Swedish yes alone
    assert no_answer_yet("int", 0.3, APU_SV, "sv") is None


def test_a_piece_the_beam_reads_as_an_answer_is_not_held() -> None:
    # As said "todemaa", slowed "kolme" (the engine's other likely readings): an answer.
    assert no_answer_yet("todemaa,", 0.5, ARKI_FI, "fi", ["kolme", "kolme,"]) is None
    assert no_answer_yet("todemaa,", 0.5, ARKI_FI, "fi", ["toimeen"]) == "no-answer"
    # A filled pause stays one whatever else the beam wrote ("öö" as "ykkö", 1).
    assert no_answer_yet("Öö.", 0.4, ARKI_FI, "fi", ["yksi"]) == "filled-pause"


def test_phrases_are_grouped_by_what_they_mean() -> None:
    from kanavat.questions.lexicon import lexicon

    fi, sv = lexicon("fi"), lexicon("sv")
    assert group_of("kaksi", fi) == group_of("kaks", fi) == group_of("kakkonen", fi) == "number:2"
    assert group_of("ehkä kolme", fi) == "number:3"
    assert group_of("kyllä", fi) == group_of("joo", fi) == "yes"
    assert group_of("nog", sv) == "yes" and group_of("int", sv) == "no"
    assert group_of("en osaa sanoa", fi) == "dont_know"
    assert group_of("lopeta", fi) == "command:stop"
    assert group_of("tytär", fi) == group_of("omainen", fi) == "meaning:kin"
    assert group_of("öö", fi) == PAUSE


def test_numbers_are_no_candidates_on_a_yes_no_question() -> None:
    found = {c.said: c.group for c in candidates(("kyllä", "ei", "yksi", "kaksi", "k"), "fi")}
    assert found["kyllä"] == "yes" and found["ei"] == "no"
    assert "yksi" not in found and "k" not in found
    assert found["öö"] == PAUSE


def test_a_free_hypothesis_counts_for_the_one_group_it_says() -> None:
    listed = candidates(ARKI_FI, "fi")
    assert heard_group("Öö, kolme.", listed) == "number:3"
    assert heard_group("Öö.", listed) == PAUSE
    assert heard_group("Kolme tai kaksi.", listed) == FREE
    assert heard_group("Perjantai.", listed) == FREE


def test_the_shortlist_keeps_every_group_and_what_was_heard() -> None:
    listed = candidates((*ARKI_FI, "kolmonen", "kolmas"), "fi")
    chosen = shortlist(listed, ["Kolmonen."], 8)
    said = [c.said for c in chosen]
    assert "kolmonen" in said and "yksi" in said and "viisi" in said
    assert sum(c.group == PAUSE for c in chosen) == 2


def test_the_decision_weighs_meanings_not_spellings() -> None:
    def s(said: str, group: str, logprob: float) -> Scored:
        return Scored(Candidate(said, group), logprob, 3)

    decision = decide(
        [
            s("kolme", "number:3", -2.0),
            s("kaksi", "number:2", -2.2),
            s("kaks", "number:2", -2.3),
            s("lopeta", "command:stop", -math.inf),
        ]
    )
    assert decision is not None and decision.group == "number:2" and decision.said == "kaksi"
    expected = (math.exp(-2.2) + math.exp(-2.3)) / (
        math.exp(-2.0) + math.exp(-2.2) + math.exp(-2.3)
    )
    assert math.isclose(decision.posterior, expected, rel_tol=1e-6)
    assert math.isclose(decision.fit, -2.2 / 3)
