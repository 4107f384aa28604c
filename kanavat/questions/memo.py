"""Per-question memo: what is derived from a question and a lexicon once, not per answer.

Questionnaires and lexicons are frozen and shared by every session, so their derived tables
(phrase words and keys, option meanings, filler keys) are kept per object identity. The
objects are held with the entry, so an id is never reused while its entry lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
MAX_ENTRIES = 2048
_entries: dict[tuple[str, int, int], tuple[object, object, object]] = {}


def memo(kind: str, question: object, lex: object, build: Callable[[], T]) -> T:
    """``build()`` once per (kind, question, lexicon), then the kept result."""
    key = (kind, id(question), id(lex))
    hit = _entries.get(key)
    if hit is not None and hit[0] is question and hit[1] is lex:
        return hit[2]  # type: ignore[return-value]
    value = build()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (question, lex, value)
    return value
