"""``decided_by`` (what ``kanavat speech try`` prints): the rule that chose, with every
hypothesis and what the normaliser reads in it. Pure: the example config's questions."""

from __future__ import annotations

from harness import EXAMPLE_CONFIG

from kanavat import config as configuration
from kanavat.questions.normalise import Input, normalise
from kanavat.voice.decision import decided_by
from kanavat.voice.recognise import Transcript, spoken


def _arki():
    config = configuration.load(EXAMPLE_CONFIG, env={})
    return config.questionnaire_of("vanhukset-2027").question("arki")


def test_a_value_read_from_a_lower_hypothesis_says_so_with_every_reading() -> None:
    question = _arki()
    heard = Transcript(
        "lopeta", 0.5, (("lopeta", 0.4), ("kolme", 0.35), ("kolmonen", 0.25)), (), {"held": "x"}
    )
    given = spoken(heard, 0.6)
    result = normalise(question, given, "fi")
    out = decided_by(question, heard, given, result, "fi")
    assert out["rule"].startswith("n-best") and result.value == 3
    assert out["hypotheses"] == [
        ["lopeta", 0.4, "stop"],
        ["kolme", 0.35, 3],
        ["kolmonen", 0.25, 3],
    ]
    assert out["engine"] == {"held": "x"}


def test_nothing_heard_and_no_answer_are_named() -> None:
    question = _arki()
    assert decided_by(question, None, Input("timeout", ""), normalise(question, Input("timeout", ""), "fi"), "fi") == {"rule": "nothing heard"}  # fmt: skip
    heard = Transcript("perjantai", 0.9)
    given = spoken(heard, 0.6)
    out = decided_by(question, heard, given, normalise(question, given, "fi"), "fi")
    assert out["rule"] == "no answer (not_understood)" and out["hypotheses"] == []


def test_hearings_that_agree_are_named_and_listed() -> None:
    question = _arki()
    said = (("kolme", -1.2), ("kolme.", -1.6), ("kolmonen", -2.0))
    slowed = (("kolme", -1.1), ("kolme,", -1.9))
    pooled = (("kolme", 0.7), ("kolme.", 0.1), ("kolmonen", 0.1), ("kolme,", 0.1))
    heard = Transcript("kolme", 0.3, pooled, (), {}, (said, slowed))
    given = spoken(heard, 0.6)
    result = normalise(question, given, "fi")
    out = decided_by(question, heard, given, result, "fi")
    assert (result.value, result.reason) == (3, "hearings agree") and result.confidence >= 0.6
    assert out["rule"].startswith("hearings agree")
    assert out["hearings"] == [[list(h) for h in said], [list(h) for h in slowed]]
    # A transcript the engine doubts (a loop, an echo of the bias) is never taken unasked.
    doubted = Transcript("kolme", 0.3, pooled, ("repetition",), {}, (said, slowed))
    assert normalise(question, spoken(doubted, 0.6), "fi").confidence < 0.6
