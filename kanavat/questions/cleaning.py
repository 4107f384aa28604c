"""Text cleaning shared by the normaliser and the phrase tables: case, width, punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_PUNCT = re.compile(r"[^\w'’#*]+", re.UNICODE)
_MINUS = re.compile(r"[-−](?=\d)")  # at a word's start a sign, not a hyphen: "-2", not "3-4"
_UNIT = re.compile(r"(\d)(?=[^\W\d_])")  # "15v", "3krt": a number with a unit stuck on


SHORT = 24  # characters: a text this short is remembered cleaned (digits, yes, a word or two)


def clean(text: str) -> str:
    """Lower-case, NFC, punctuation to spaces: ``" 4 "``, ``"3."``, ``"5)"`` all become digits.

    A minus sign before a number is kept ("-2" is out of range, not 2), and a unit written
    against a number is split off ("15v" is "15 v"). A short text's is remembered: one
    message is cleaned several times in its turn, and most answers are the same few words
    (a long one, free text, is personal data and is not kept).
    """
    return _clean_short(text) if len(text) <= SHORT else _clean(text)


@lru_cache(maxsize=2048)
def _clean_short(text: str) -> str:
    return _clean(text)


def _clean(text: str) -> str:
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
