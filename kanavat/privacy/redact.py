"""Free text as it may appear in a report: contact details and personal names taken out.

One redaction for every place a resident's words are shown to officials (the report's
free-text list, theme quotes). Phone numbers and e-mail addresses go by pattern. Names: a
word libvoikko knows only as a first name or surname ("maija", "Korhonen"), a capitalised
word inside a sentence that can be one ("Sari", "Matti"), and a capitalised word inside a
sentence the Finnish dictionary does not know at all (Swedish and foreign names: "Karin",
"Lindqvist"). Place names stay. This errs on taking out too much; a name at the start of a
sentence that is also a common word can slip through, which is why quotes come only from
themes of at least ``min_cell`` people and a listed answer is shown with a pseudonym only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kanavat.questions.morphology import finnish_analyses, voikko_available

PHONE = r"(?<![\w/])\+?\d[\d \-().]{5,}\d"
PHONE_OR_EMAIL = re.compile(rf"{PHONE}|[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
"""Anything that looks like a phone number or an e-mail address."""
PHONE_ONLY = re.compile(PHONE, re.UNICODE)
"""The same without e-mail addresses, for a text with no @ (the e-mail part is the slow one)."""
NAME_CLASSES = frozenset({"etunimi", "sukunimi"})
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?:;]\s*$")


CONTACT_MARK = re.compile(r"[\d@]", re.UNICODE)
"""What every phone number (a digit) and e-mail address (an @) has: most texts have neither."""


def redact_contacts(text: str, replacement: str) -> str:
    """``text`` with phone numbers and e-mail addresses replaced."""
    if "@" in text:
        return PHONE_OR_EMAIL.sub(replacement, text)
    if not CONTACT_MARK.search(text):
        return text
    return PHONE_ONLY.sub(replacement, text)


@lru_cache(maxsize=200_000)
def _classes(word: str) -> frozenset[str | None]:
    """libvoikko's word classes of ``word`` (answers repeat their words: analyse each once)."""
    return frozenset(a.get("CLASS") for a in finnish_analyses(word))


@lru_cache(maxsize=200_000)
def _is_name(word: str, starts_sentence: bool) -> bool:
    classes = _classes(word)
    if classes and classes <= NAME_CLASSES:
        return True
    capitalised = word[:1].isupper() and not word.isupper()
    if not capitalised or starts_sentence:
        return False
    if classes & NAME_CLASSES:
        return True
    return not classes and voikko_available()


@lru_cache(maxsize=200_000)
def _verdicts(word: str) -> tuple[bool, bool]:
    """Whether ``word`` is taken for a name inside a sentence, and at its start."""
    return _is_name(word, False), _is_name(word, True)


_PLAIN: set[str] = set()
"""Words seen that are no name wherever they stand (most words of most answers)."""


def _no_names(words: list[str]) -> bool:
    """Whether none of ``words`` is taken for a name, wherever it stands."""
    unseen = set(words).difference(_PLAIN)
    if any(any(_verdicts(word)) for word in unseen):
        return False
    if len(_PLAIN) > 200_000:
        _PLAIN.clear()
    _PLAIN.update(unseen)
    return True


def redact(text: str, replacement: str) -> str:
    """``text`` with phone numbers, e-mail addresses and personal names replaced."""
    text = redact_contacts(text, replacement)
    if _no_names(WORD.findall(text)):
        return text  # most answers name nobody: nothing rebuilt
    first = len(text) - len(text.lstrip())  # words up to here start the text

    def checked(match: re.Match[str]) -> str:
        word = match.group(0)
        inside, opening = _verdicts(word)
        if inside != opening:
            # A sentence starts at the text's start or after an end mark (within 12 characters).
            start = match.start()
            starts = start <= first or bool(SENTENCE_END.search(text[max(0, start - 12) : start]))
            inside = opening if starts else inside
        return replacement if inside else word

    return WORD.sub(checked, text)
