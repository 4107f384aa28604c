"""Keypad digits and chat buttons to a question's value: exact, never guessed."""

from __future__ import annotations

import re

from kanavat.questions.model import (
    ChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    YesNoQuestion,
)
from kanavat.questions.phrases import DONT_KNOW, SKIP
from kanavat.questions.result import COMMANDS, Result, no_match


def keypad(question: Question, digits: str) -> Result:
    if not digits or not re.fullmatch(r"[0-9*#]+", digits):
        return no_match("not_keypad")
    if digits == "*":
        return Result("command", "repeat", 1.0)
    if isinstance(question, NumberQuestion) or question.type == "nps":
        number = digits.rstrip("#")
        if not number.isdigit():
            return no_match("not_a_number")
        return in_range(int(number), question.min, question.max)
    if digits == "0" and not (isinstance(question, ScaleQuestion) and question.min == 0):
        return Result("command", "help", 1.0)
    digits = digits.rstrip("#")
    if len(digits) != 1:
        return no_match("one_key_expected")
    if isinstance(question, YesNoQuestion):
        return {"1": Result("answer", "yes", 1.0), "2": Result("answer", "no", 1.0)}.get(
            digits, no_match("unknown_key")
        )
    if isinstance(question, ScaleQuestion):
        return in_range(int(digits), question.min, question.max)
    if isinstance(question, ChoiceQuestion):
        for key, option in question.keyed_options():
            if key == digits:
                return Result("answer", option.id, 1.0)
        return no_match("unknown_key")
    return no_match("needs_words")


def button(question: Question, payload: str) -> Result | None:
    """A quick-reply payload is the value itself; anything else is read as typed text."""
    if payload.startswith("/") and payload[1:] in COMMANDS:
        return Result("command", payload[1:], 1.0)
    if payload in (DONT_KNOW, SKIP):
        return Result("answer", payload, 1.0)
    if isinstance(question, YesNoQuestion) and payload in ("yes", "no"):
        return Result("answer", payload, 1.0)
    if isinstance(question, ChoiceQuestion) and payload in {o.id for o in question.options}:
        return Result("answer", payload, 1.0)
    if isinstance(question, ScaleQuestion | NumberQuestion) and re.fullmatch(r"-?\d+", payload):
        return in_range(int(payload), question.min, question.max)
    return None


def in_range(value: int, low: int, high: int) -> Result:
    if low <= value <= high:
        return Result("answer", value, 1.0)
    return Result("no_match", None, 0.0, "out_of_range")
