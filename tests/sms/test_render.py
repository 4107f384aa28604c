"""Every text the SMS channel sends for the example config fits in two segments, in fi, sv, en.

The prompts are produced by the engine itself (start, each question, reprompts, help,
resume, outro, stop), rendered by ``kanavat.sms.render``; segment counts are checked against
the emulator's independent GSM-7/UCS-2 counter as well.
"""

from __future__ import annotations

import pytest

from kanavat import config as configuration
from kanavat.emulator.wire import segments as wire_segments
from kanavat.questions import dialog
from kanavat.questions.dialog import Prompt, State
from kanavat.questions.lexicon import texts
from kanavat.questions.normalise import Input
from kanavat.sms import render

LANGUAGES = ("fi", "sv", "en")
MISSES = ("xyzzy qwerty", "99999", "")  # no match, out of range, empty


def sms_turns(config: configuration.Config, language: str) -> list[tuple[str, tuple[Prompt, ...]]]:
    """Every turn's prompts the SMS channel can send for every questionnaire, with a label."""
    turns: list[tuple[str, tuple[Prompt, ...]]] = []
    for q in config.questionnaires.values():
        first = dialog.start(q, language, "text")
        turns.append((f"{q.id}.start", first.prompts))
        for question in q.questions:
            state = State(q.id, language, "text", current=question.id)
            turns.append(
                (
                    f"{q.id}.{question.id}",
                    (dialog.question_prompt(question, language, "text"),),
                )
            )
            for miss in MISSES:
                step = dialog.advance(q, state, Input("text", miss))
                turns.append((f"{q.id}.{question.id}.miss[{miss}]", step.prompts))
            for command in ("toista", "apua", "repeat", "help", "hjälp", "upprepa"):
                step = dialog.advance(q, state, Input("text", command))
                turns.append((f"{q.id}.{question.id}.{command}", step.prompts))
            turns.append((f"{q.id}.{question.id}.resume", dialog.resume(q, state).prompts))
        done = State(q.id, language, "text", current=None, status="completed")
        turns.append((f"{q.id}.done", dialog.resume(q, done).prompts))
        turns.append((f"{q.id}.outro", (dialog._say("outro", q.outro[language]),)))
    t = texts(language)
    turns.append(("reply.stopped", (dialog._say("reply.stopped", t["reply"]["stopped"]),)))
    for key, text in t["sms"].items():
        turns.append((f"sms.{key}", (dialog._say(f"sms.{key}", text),)))
    return turns


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_fits_two_segments(example_config, language: str) -> None:
    footer = texts(language)["sms"]["stop_hint"]
    checked = 0
    for label, prompts in sms_turns(example_config, language):
        for body in render.messages(prompts, footer if label.endswith(".start") else None):
            count = render.segments(body)
            assert count <= render.MAX_SEGMENTS, f"{language} {label}: {count} segments: {body!r}"
            assert count == wire_segments(body)[0], f"{label}: counters disagree"
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_stays_gsm7_where_the_language_allows(example_config, language: str) -> None:
    """Finnish and Swedish letters are GSM-7; typographic dashes must not force UCS-2."""
    for label, prompts in sms_turns(example_config, language):
        for body in render.messages(prompts):
            assert render.is_gsm7(body), f"{language} {label}: UCS-2 because of " + repr(
                sorted({c for c in body if not render.is_gsm7(c)})
            )


@pytest.mark.parametrize("language", LANGUAGES)
def test_invitation_says_how_to_stop_once(example_config, language: str) -> None:
    footer = texts(language)["sms"]["stop_hint"]
    for q in example_config.questionnaires.values():
        bodies = render.messages(dialog.start(q, language, "text").prompts, footer)
        joined = "\n".join(bodies)
        words = ("LOPETA", "SLUTA", "STOP")
        assert sum(joined.count(w) for w in words) == 1, f"{q.id} {language}: {joined!r}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("ä" * 160, 1),  # in the GSM-7 base table
        ("€" * 80, 1),  # escape: two septets each
        ("€" * 81, 2),
        ("ł" * 70, 1),  # UCS-2
        ("ł" * 71, 2),
        ("🙂" * 35, 1),  # two UTF-16 units each
        ("🙂" * 36, 2),
    ],
)
def test_segment_counting(text: str, expected: int) -> None:
    assert render.segments(text) == expected == wire_segments(text)[0]


def test_packing_keeps_order_and_splits_only_when_needed() -> None:
    short = [dialog._say(f"p{i}", f"Viesti {i}.") for i in range(3)]
    assert render.messages(tuple(short)) == ["Viesti 0.\n\nViesti 1.\n\nViesti 2."]
    long = [dialog._say(f"p{i}", f"{i}" + "x" * 100) for i in range(3)]
    bodies = render.messages(tuple(long))
    assert len(bodies) == 2 and [b[0] for b in bodies] == ["0", "2"]
    assert all(render.segments(b) <= 2 for b in bodies)
