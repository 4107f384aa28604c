"""Quotes that may be shown: contact details and personal names taken out.

Phone numbers and e-mail addresses go as in the report's free-text list
(``kanavat.report.questions.redact``). Names: a word libvoikko knows only as a first name or
surname ("maija", "Korhonen"), a capitalised word inside a sentence that can be one ("Sari",
"Matti"), and a capitalised word inside a sentence the Finnish dictionary does not know at
all (Swedish and foreign names: "Karin", "Lindqvist"). Place names stay. This errs on taking
out too much; a name at the start of a sentence that is also a common word can slip through,
which is why quotes come only from themes of at least ``min_cell`` people and never with who
said them.
"""

from __future__ import annotations

import re

from kanavat.questions.morphology import finnish_analyses, voikko_available
from kanavat.report.questions import redact as redact_contacts

NAME_CLASSES = frozenset({"etunimi", "sukunimi"})
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?:;]\s*$")


def _is_name(word: str, starts_sentence: bool) -> bool:
    classes = {a.get("CLASS") for a in finnish_analyses(word)}
    if classes and classes <= NAME_CLASSES:
        return True
    capitalised = word[:1].isupper() and not word.isupper()
    if not capitalised or starts_sentence:
        return False
    if classes & NAME_CLASSES:
        return True
    return not classes and voikko_available()


def redact(text: str, replacement: str) -> str:
    """``text`` with phone numbers, e-mail addresses and personal names replaced."""
    text = redact_contacts(text, replacement)
    out = []
    last = 0
    for match in WORD.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        starts = not text[: match.start()].strip() or bool(SENTENCE_END.search(before))
        out.append(text[last : match.start()])
        word = match.group(0)
        out.append(replacement if _is_name(word, starts) else word)
        last = match.end()
    out.append(text[last:])
    return "".join(out)
