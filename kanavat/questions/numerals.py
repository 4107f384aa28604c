"""Numerals in a resident's words: digits, number words (by their baseforms too) and numerals
written as one word ("kaksikymmentäviisi", "tjugofem"), read with the language's lexicon."""

from __future__ import annotations

import re

from kanavat.questions.lexicon import Lexicon


def joins(left: int, right: int) -> bool:
    """Whether two adjacent numbers form one ("twenty five") rather than a list ("3 4")."""
    if left >= 100 and left % 100 == 0:
        return right < 100
    return left >= 20 and left % 10 == 0 and right < 10


def number_word(token: str, keys: frozenset[str], lex: Lexicon) -> tuple[int, float] | None:
    if re.fullmatch(r"-?\d+", token):
        return int(token), 1.0
    if token in lex.numbers:
        return lex.numbers[token], 1.0
    if len(token) >= 3:
        for key in keys:
            if key in lex.numbers:
                return lex.numbers[key], 0.95
    whole = compound(token, lex)
    if whole is not None:
        return whole, 1.0
    return None


def compound(token: str, lex: Lexicon) -> int | None:
    """Read a numeral written as one word by splitting it into known parts, longest first."""
    parts = {**lex.numbers, **lex.multipliers}
    if lex.teen_suffix:
        parts[lex.teen_suffix] = -1  # marks "+10" after a unit: "kolmetoista" = 13
    pieces: list[tuple[str, int]] = []
    rest = token
    while rest:
        for size in range(len(rest), 1, -1):
            head = rest[:size]
            if head in parts:
                pieces.append((head, parts[head]))
                rest = rest[size:]
                break
        else:
            return None
    if len(pieces) < 2:
        return None
    total, current = 0, 0
    for word, value in pieces:
        if value == -1:
            current += 10
        elif word in lex.multipliers:
            current = max(current, 1) * value
            if value >= 100:
                total, current = total + current, 0
        else:
            current += value
    return total + current
