"""How a resident expresses the answer they mean, in each medium.

The same intended value (``3``, ``"yes"``, ``"kotihoito"``) becomes a key press on the phone,
a spoken word, a text message in the resident's own words, or a chat button. Variety is the
point: SMS replies say "kolmonen" and "joo" as well as "3", so the rehearsal exercises the
lenient parsing real residents rely on.
"""

from __future__ import annotations

import random
from typing import Any

from kanavat.questions.lexicon import texts
from kanavat.questions.model import Question
from kanavat.simulate.population import phrases


def keypad(question: Question, value: Any) -> str | None:
    """Digits to press, or None when the keypad can't say it (free text)."""
    if value is None:
        return None
    if question.type == "yesno":
        return "1" if value == "yes" else "2"
    if question.type == "choice":
        return next((key for key, o in question.keyed_options() if o.id == value), None)
    if question.type in ("number", "nps"):
        return f"{value}#"
    if question.type == "scale":
        return str(value)
    return None


def spoken(question: Question, value: Any, language: str) -> str | None:
    """Words to say on the phone, or None to fall back on the keypad."""
    words = phrases().get(language)
    if words is None or value is None:
        return None
    if question.type == "yesno":
        return words["yes"][0] if value == "yes" else words["no"][0]
    if question.type in ("scale", "number", "nps"):
        numbers = words["numbers"]
        return numbers[value] if 0 <= value < len(numbers) else None
    if question.type == "choice":
        option = next(o for o in question.options if o.id == value)
        synonyms = option.synonyms.get(language) or []
        return synonyms[0] if synonyms else option.label.get(language)
    if question.type == "text":
        return random.Random(str(value)).choice(words["spoken_free_text"])
    return None


def text(question: Question, value: Any, language: str, rng: random.Random) -> str:
    """An SMS reply in the resident's own words: digits, number words, labels, yes/no."""
    words = phrases()[language]
    if value is None:
        return texts(language)["skip"]  # "ohita": no words for the open question
    if question.type == "yesno":
        return rng.choice(words["yes"] if value == "yes" else words["no"])
    if question.type in ("scale", "number", "nps"):
        names = words["sms_numbers"]
        if value < len(names) and rng.random() < 0.4:
            return names[value]
        return str(value)
    if question.type == "choice":
        key, option = next((k, o) for k, o in question.keyed_options() if o.id == value)
        return option.label.get(language, key) if rng.random() < 0.4 else key
    return str(value)


def chat(question: Question, value: Any, language: str, types: bool) -> tuple[str, str]:
    """A chat frame: ``("button", payload)`` or ``("text", typed)``."""
    if value is None:
        return ("button", "skip")
    if question.type == "text":
        return ("text", str(value))
    if types:
        if question.type == "yesno":
            return ("text", phrases()[language]["yes" if value == "yes" else "no"][0])
        if question.type == "choice":
            option = next(o for o in question.options if o.id == value)
            return ("text", option.label.get(language, option.id))
        return ("text", str(value))
    return ("button", str(value))
