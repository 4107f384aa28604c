"""The dialog engine: golden transcripts in ``dialogs/*.json`` and the rules they rest on.

A transcript names a questionnaire of the example config, a language, a medium and the
resident's inputs; the expected steps (event, prompts, answer, state) are recorded beside
them. After a deliberate change, rewrite them with ``KANAVAT_UPDATE_GOLDEN=1 pytest
tests/questions/test_dialog.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kanavat.questions import dialog
from kanavat.questions.dialog import MAX_REPROMPTS, Input, State, Step
from kanavat.questions.model import Questionnaire

DIALOGS = Path(__file__).parent / "dialogs"
UPDATE = os.environ.get("KANAVAT_UPDATE_GOLDEN") == "1"


def describe(step: Step) -> dict[str, Any]:
    """What a channel would see of a step, in a form worth reading in a diff."""
    answer = None
    if step.answer is not None:
        answer = {
            "question": step.answer.question_id,
            "value": step.answer.value,
            "status": step.answer.status,
            "input_kind": step.answer.input_kind,
            "confirmed": step.answer.confirmed,
        }
    return {
        "event": step.event,
        "prompts": [{"key": p.key, "text": p.text} for p in step.prompts],
        "answer": answer,
        "state": {
            "current": step.state.current,
            "status": step.state.status,
            "misses": step.state.misses,
        },
    }


def run(q: Questionnaire, script: dict[str, Any]) -> list[dict[str, Any]]:
    """Play a script, passing the state through JSON between turns as the store does."""
    step = dialog.start(q, script["language"], script.get("medium", "text"))
    steps = [describe(step)]
    for given in script["inputs"]:
        state = State.from_json(json.loads(json.dumps(step.state.to_json())))
        step = dialog.advance(q, state, Input(given["kind"], given["raw"], given.get("confidence")))
        steps.append({"input": given, **describe(step)})
    return steps


GOLDEN = sorted(DIALOGS.glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_transcript(example_config, path: Path) -> None:
    script = json.loads(path.read_text(encoding="utf-8"))
    got = run(example_config.questionnaires[script["questionnaire"]], script)
    if UPDATE:
        script["steps"] = got
        path.write_text(json.dumps(script, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert got == script["steps"]


def test_there_are_transcripts() -> None:
    assert len(GOLDEN) >= 4


# -- the rules, one by one -----------------------------------------------------------------


@pytest.fixture
def hyvinvointi(example_config) -> Questionnaire:
    return example_config.questionnaires["hyvinvointi"]


def play(q: Questionnaire, step: Step, *inputs: Input) -> Step:
    for given in inputs:
        step = dialog.advance(q, step.state, given)
    return step


def text(raw: str) -> Input:
    return Input("text", raw)


def test_start_gives_intro_then_first_question(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi")
    assert [p.key for p in step.prompts] == ["intro", "question.arki"]
    assert step.state.current == "arki" and step.event == "started" and not step.done
    first = step.prompts[1]
    assert first.expects == "answer" and first.keypad == "single"
    assert [c.value for c in first.options] == ["1", "2", "3", "4", "5"]
    assert "Vastaa numerolla 1–5." in first.hint


def test_skip_logic_follows_when(hyvinvointi) -> None:
    yes = play(hyvinvointi, dialog.start(hyvinvointi, "fi"), text("3"), text("kyllä"))
    assert yes.state.current == "apu_mista"
    no = play(hyvinvointi, dialog.start(hyvinvointi, "fi"), text("3"), text("ei"))
    assert no.state.current == "yhteydet"
    assert "apu_mista" not in no.state.answers


def test_unanswered_condition_skips_the_follow_up(hyvinvointi) -> None:
    step = play(hyvinvointi, dialog.start(hyvinvointi, "fi"), text("3"))
    step = play(hyvinvointi, step, *[text("hmm, vaikea")] * (MAX_REPROMPTS + 1))
    assert step.event == "unanswered" and step.state.answers["apu"] is None
    assert step.state.current == "yhteydet"


def test_at_most_two_reprompts_then_unanswered(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi")
    for miss in range(1, MAX_REPROMPTS + 1):
        step = dialog.advance(hyvinvointi, step.state, text("ihan ok"))
        assert step.event == "no_match" and step.state.misses == miss
        assert step.prompts[0].key == "reprompt.arki"
        assert step.state.current == "arki"
    step = dialog.advance(hyvinvointi, step.state, text("ihan ok"))
    assert step.event == "unanswered"
    assert step.answer is not None and step.answer.status == "unanswered"
    assert step.answer.value is None and step.answer.raw == "ihan ok"
    assert [p.key for p in step.prompts] == ["reply.moving_on", "question.apu"]
    assert step.state.misses == 0


def test_reprompt_says_why(hyvinvointi) -> None:
    step = dialog.advance(hyvinvointi, dialog.start(hyvinvointi, "fi").state, text("7"))
    assert step.prompts[0].text == "Vastauksen pitää olla väliltä 1–5."
    step = dialog.advance(hyvinvointi, step.state, text("3 tai 4"))
    assert step.prompts[0].text == "Vastauksessa oli monta vaihtoehtoa. Valitse yksi."


def test_repeat_and_help_do_not_count_as_misses(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    step = play(hyvinvointi, step, text("xyz"), Input("keypad", "*"))
    assert step.event == "repeat" and step.state.misses == 1
    assert [p.key for p in step.prompts] == ["question.arki"]
    step = dialog.advance(hyvinvointi, step.state, Input("keypad", "0"))
    assert step.event == "help" and step.state.misses == 1
    assert [p.key for p in step.prompts] == ["reply.help_voice", "question.arki"]


def test_stop_keeps_answers_and_ends(hyvinvointi) -> None:
    step = play(hyvinvointi, dialog.start(hyvinvointi, "sv"), text("fyra"), text("sluta"))
    assert step.event == "stopped" and step.done and step.state.status == "stopped"
    assert step.state.answers == {"arki": 4}
    later = dialog.advance(hyvinvointi, step.state, text("ja"))
    assert later.event == "already_done" and later.answer is None


def test_speech_below_threshold_is_confirmed(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    step = dialog.advance(hyvinvointi, step.state, Input("speech", "kolme", 0.4))
    assert step.event == "confirm" and step.answer is None
    assert step.prompts[0].expects == "confirm"
    assert step.prompts[0].text == "Vastasit 3, pitääkö paikkansa?"
    assert "kyllä" in step.prompts[0].listen_for
    done = dialog.advance(hyvinvointi, step.state, Input("speech", "kyllä", 0.9))
    assert done.answer is not None and done.answer.value == 3 and done.answer.confirmed
    assert done.answer.input_kind == "speech" and done.state.current == "apu"
    by_key = dialog.advance(hyvinvointi, step.state, Input("keypad", "1"))
    assert by_key.answer is not None and by_key.answer.value == 3


@pytest.mark.parametrize(
    ("language", "said", "value", "confirm"),
    [("fi", "melko hyvin", 4, "Vastasit 4, pitääkö paikkansa?"), ("sv", "ganska bra", 4, None)],
)
def test_a_scale_word_read_into_a_point_is_asked_about_by_text_too(
    hyvinvointi, language: str, said: str, value: int, confirm: str | None
) -> None:
    """ "melko hyvin" is a reading (4 of 5), not a number said: even an SMS asks first."""
    step = dialog.advance(hyvinvointi, dialog.start(hyvinvointi, language).state, text(said))
    assert step.event == "confirm" and step.answer is None
    if confirm:
        assert step.prompts[0].text == confirm
    yes = {"fi": "K", "sv": "ja"}[language]
    done = dialog.advance(hyvinvointi, step.state, text(yes))
    assert done.answer is not None and done.answer.value == value and done.answer.confirmed
    assert done.answer.raw == said


def test_a_scale_label_said_is_kept_without_asking(hyvinvointi) -> None:
    step = dialog.advance(hyvinvointi, dialog.start(hyvinvointi, "fi").state, text("hyvin"))
    assert step.event == "answered" and step.answer is not None and step.answer.value == 5


def test_denied_confirmation_asks_again(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    step = dialog.advance(hyvinvointi, step.state, Input("speech", "kolme", 0.4))
    step = dialog.advance(hyvinvointi, step.state, Input("speech", "ei", 0.9))
    assert step.event == "no_match" and step.state.pending is None
    assert step.state.current == "arki" and step.state.misses == 1
    step = dialog.advance(hyvinvointi, step.state, Input("keypad", "4"))
    assert step.answer is not None and step.answer.value == 4 and not step.answer.confirmed


def test_confident_speech_and_text_are_not_confirmed(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    sure = dialog.advance(hyvinvointi, step.state, Input("speech", "kolme", 0.9))
    assert sure.event == "answered" and sure.answer is not None
    typed = dialog.advance(hyvinvointi, step.state, Input("text", "kolme"))
    assert typed.event == "answered"
    sure_dont_know = dialog.advance(hyvinvointi, step.state, Input("speech", "en osaa sanoa", 0.9))
    assert sure_dont_know.answer is not None and sure_dont_know.answer.status == "dont_know"


def test_doubtful_dont_know_by_speech_is_confirmed(hyvinvointi) -> None:
    # Whisper may hear a quiet "nolla" as the question's own "en osaa sanoa": never file that
    # silently; ask, and keep it only when the resident says yes.
    step = dialog.start(hyvinvointi, "fi", "voice")
    unsure = dialog.advance(hyvinvointi, step.state, Input("speech", "en osaa sanoa", 0.3))
    assert unsure.event == "confirm" and unsure.answer is None
    assert unsure.prompts[0].text == "Vastasit en osaa sanoa, pitääkö paikkansa?"
    kept = dialog.advance(hyvinvointi, unsure.state, Input("keypad", "1"))
    assert kept.answer is not None and kept.answer.status == "dont_know" and kept.answer.confirmed
    # Above the call's threshold (0.6) but under the spoken "don't know" floor: still asked.
    fairly = dialog.advance(hyvinvointi, step.state, Input("speech", "en osaa sanoa", 0.7))
    assert fairly.event == "confirm" and fairly.answer is None
    assert dialog.DONT_KNOW_SPOKEN_MIN > 0.7


def test_doubtful_spoken_stop_asks_again_instead_of_hanging_up(hyvinvointi) -> None:
    # Whisper has heard "neljä" as "en halua" (a way to say stop): a doubtful stop must not
    # end the call; a clear one, or a stop by keypad or text, does.
    step = dialog.start(hyvinvointi, "fi", "voice")
    unsure = dialog.advance(hyvinvointi, step.state, Input("speech", "en halua", 0.3))
    assert unsure.event == "no_match" and unsure.state.status == "active"
    assert unsure.state.current == "arki" and unsure.state.misses == 1
    sure = dialog.advance(hyvinvointi, step.state, Input("speech", "lopeta", 0.9))
    assert sure.event == "stopped" and sure.state.status == "stopped"
    typed = dialog.advance(hyvinvointi, step.state, Input("text", "lopeta"))
    assert typed.event == "stopped"


def test_doubtful_spoken_command_asks_about_the_answer_among_the_hypotheses(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    hypotheses = (("en halua", 0.6), ("neljä", 0.3), ("en halu", 0.1))
    asked = dialog.advance(hyvinvointi, step.state, Input("speech", "en halua", 0.5, hypotheses))
    assert asked.event == "confirm" and asked.state.pending["value"] == 4
    sure = dialog.advance(hyvinvointi, step.state, Input("speech", "en halua", 0.9, hypotheses))
    assert sure.event == "stopped"


def test_a_no_to_the_confirmation_is_not_outvoted_by_lower_hypotheses(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    asked = dialog.advance(hyvinvointi, step.state, Input("speech", "kolme", 0.4))
    hypotheses = (("ei", 0.3), ("kyllä", 0.25), ("Kyllä.", 0.25), ("kyllä,", 0.2))
    denied = dialog.advance(hyvinvointi, asked.state, Input("speech", "ei", 0.9, hypotheses))
    assert denied.answer is None and denied.state.pending is None
    assert denied.state.current == "arki"
    near_miss = dialog.advance(hyvinvointi, asked.state, Input("speech", "kylä", 0.9))
    assert near_miss.answer is None  # a "yes" that files the answer must have been said


def test_values_read_from_hypotheses_are_confirmed_whatever_the_threshold(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    heard = Input("speech", "kolme", 0.9, (("kolme", 0.2), ("neljä", 0.8)))
    asked = dialog.advance(hyvinvointi, step.state, heard, confirm_below=0.1)
    assert asked.event == "confirm" and asked.answer is None
    assert asked.state.pending["value"] == 4 and asked.result.confidence > 0.1


def test_a_doubtful_command_s_own_weight_counts_against_the_answer(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    heard = Input("speech", "en halua", 0.5, (("en halua", 0.9), ("neljä", 0.1)))
    asked = dialog.advance(hyvinvointi, step.state, heard)
    assert asked.event == "confirm" and asked.result.confidence < 0.1


def test_free_text_by_speech_is_never_swapped_for_a_lower_hypothesis(hyvinvointi) -> None:
    question = next(x for x in hyvinvointi.questions if x.type == "text")
    state = dialog.State(hyvinvointi.id, "fi", "voice", current=question.id)
    hypotheses = (("kaikki on hyvin", 0.28), ("kaikki ei ole hyvin", 0.35))
    step = dialog.advance(hyvinvointi, state, Input("speech", "kaikki on hyvin", 0.28, hypotheses))
    assert step.answer is not None and step.answer.raw == "kaikki on hyvin"


def test_n_best_answer_outweighing_the_best_transcript_is_confirmed(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    hypotheses = (("en halua", 0.3), ("neljä", 0.25), ("neljä,", 0.2), ("nelja", 0.1))
    heard = Input("speech", "en halua", 0.7, hypotheses)
    asked = dialog.advance(hyvinvointi, step.state, heard)
    assert asked.event == "confirm" and asked.state.pending["value"] == 4
    kept = dialog.advance(hyvinvointi, asked.state, Input("keypad", "1"))
    assert kept.answer is not None and kept.answer.value == 4 and kept.answer.confirmed
    assert kept.answer.raw == "neljä"  # what the value was read from, not "en halua"


def test_state_round_trip_resumes(hyvinvointi) -> None:
    step = play(hyvinvointi, dialog.start(hyvinvointi, "fi"), text("2"), text("joo"))
    stored = json.dumps(step.state.to_json())
    state = State.from_json(json.loads(stored))
    assert state == step.state
    resumed = dialog.resume(hyvinvointi, state)
    assert resumed.event == "resumed"
    assert [p.key for p in resumed.prompts] == ["reply.resume", "question.apu_mista"]
    step = dialog.advance(hyvinvointi, resumed.state, text("naapurilta"))
    assert step.answer is not None and step.answer.value == "naapuri"


def test_pending_confirmation_survives_a_round_trip(hyvinvointi) -> None:
    step = dialog.start(hyvinvointi, "fi", "voice")
    step = dialog.advance(hyvinvointi, step.state, Input("speech", "neljä", 0.3))
    state = State.from_json(json.loads(json.dumps(step.state.to_json())))
    assert [p.key for p in dialog.resume(hyvinvointi, state).prompts] == [
        "reply.resume",
        "confirm.arki",
    ]
    done = dialog.advance(hyvinvointi, state, Input("keypad", "1"))
    assert done.answer is not None and done.answer.value == 4 and done.answer.confirmed


def test_completed_state(hyvinvointi) -> None:
    step = play(
        hyvinvointi,
        dialog.start(hyvinvointi, "en"),
        text("5"),
        text("no"),
        text("seven"),
        text("skip"),
    )
    assert step.event == "completed" and step.done
    assert step.state.status == "completed" and step.state.current is None
    assert step.prompts[-1].key == "outro"
    assert step.state.answers == {"arki": 5, "apu": "no", "yhteydet": 7, "terveiset": "skip"}
    assert step.answer is not None and step.answer.status == "skipped"
    again = dialog.resume(hyvinvointi, step.state)
    assert again.event == "already_done"
    with pytest.raises(ValueError):
        dialog.current_prompt(hyvinvointi, step.state)


def test_voice_prompt_lists_keys_and_parts(example_config) -> None:
    q = example_config.questionnaires["hyvinvointi"]
    prompt = dialog.question_prompt(q.question("apu_mista"), "fi", "voice")
    keys = [p.key for p in prompt.parts]
    assert keys[:2] == ["question.apu_mista", "hint.voice.choice"]
    assert "option.apu_mista.kotihoito" in keys
    assert [(c.key, c.value) for c in prompt.options][:2] == [("1", "omainen"), ("2", "naapuri")]
    sms = dialog.question_prompt(q.question("apu_mista"), "fi", "text")
    assert "3 = kotihoito" in sms.hint


def test_text_question_prompt(example_config) -> None:
    q = example_config.questionnaires["nuorten_aani"]
    prompt = dialog.question_prompt(q.question("viesti"), "en", "text")
    assert prompt.free_text and prompt.keypad == "none" and prompt.listen_for == ()
