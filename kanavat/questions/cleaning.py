"""Text cleaning shared by the normaliser and the phrase tables: case, width, punctuation."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w'’#*]+", re.UNICODE)
_MINUS = re.compile(r"[-−](?=\d)")  # at a word's start a sign, not a hyphen: "-2", not "3-4"
_UNIT = re.compile(r"(\d)(?=[^\W\d_])")  # "15v", "3krt": a number with a unit stuck on


def clean(text: str) -> str:
    """Lower-case, NFC, punctuation to spaces: ``" 4 "``, ``"3."``, ``"5)"`` all become digits.

    A minus sign before a number is kept ("-2" is out of range, not 2), and a unit written
    against a number is split off ("15v" is "15 v").
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    text = _UNIT.sub(r"\1 ", text)
    chunks = []
    for chunk in text.split():
        sign = "-" if _MINUS.match(chunk) else ""
        chunks.append(sign + _PUNCT.sub(" ", chunk[len(sign) :]))
    return " ".join(" ".join(chunks).replace("_", " ").split())


def tokens_of(text: str) -> list[str]:
    words = clean(text).split()
    collapsed: list[str] = []
    for w in words:  # "ei ei ei" is one "ei"
        if not collapsed or collapsed[-1] != w:
            collapsed.append(w)
    return collapsed
