"""The ``themes`` and ``theme_answers`` tables: officials' named and seeded themes of a
free-text question.

The only module that writes them. A theme is kept as its name, the sum and count of the
embeddings of an official's own example texts (``seed``), and the ids of the residents'
answers it was named from (``theme_answers``; name, merge, split). What a theme means is
re-derived from those at every run, its answers' embeddings read from
:mod:`kanavat.themes.stored`, so new answers are assigned to it
(:mod:`kanavat.themes.seeded`), and an erased answer no longer pulls it: erasure deletes the
answer's rows here (:func:`forget_session`) and its embedding.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

import numpy as np

from kanavat.store import Store
from kanavat.themes import stored
from kanavat.themes.analyse import NamedTheme

ORIGINS = ("named", "seeded", "merged", "split")


class ThemeNameTaken(ValueError):
    """Another theme of the same question already has this name."""


def load(store: Store, campaign_id: str, question: str) -> list[NamedTheme]:
    """The question's named themes, oldest first."""
    rows = store.query(
        "SELECT id, name, example_sum, example_count FROM themes "
        "WHERE campaign_id = ? AND question = ? ORDER BY id",
        (campaign_id, question),
    )
    out = []
    for r in rows:
        seed_sum = np.asarray(json.loads(r["example_sum"]), dtype=np.float32)
        answers_sum, answers_count = stored.stored_sum(store, answer_ids(store, r["id"]))
        out.append(
            NamedTheme(
                r["id"], r["name"], seed_sum + answers_sum, r["example_count"] + answers_count
            )
        )
    return out


def parts(store: Store, theme_id: int) -> tuple[np.ndarray, int, list[int]]:
    """A theme as kept: its official examples' sum and count, and its answers' ids."""
    row = store.one("SELECT example_sum, example_count FROM themes WHERE id = ?", [theme_id])
    if row is None:
        return np.zeros(384, np.float32), 0, []
    seed_sum = np.asarray(json.loads(row["example_sum"]), dtype=np.float32)
    return seed_sum, int(row["example_count"]), answer_ids(store, theme_id)


def answer_ids(store: Store, theme_id: int) -> list[int]:
    rows = store.query(
        "SELECT answer_id FROM theme_answers WHERE theme_id = ? ORDER BY answer_id", [theme_id]
    )
    return [int(r["answer_id"]) for r in rows]


def add(
    store: Store,
    campaign_id: str,
    question: str,
    name: str,
    example_sum: np.ndarray,
    example_count: int,
    origin: str,
    answers: Iterable[int] = (),
) -> int:
    """A new theme: ``example_sum``/``example_count`` of an official's own example texts
    only; ``answers`` the ids of residents' answers it is made of (their embeddings are
    read from the store at every run, never copied here)."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    now = store.now()
    vector = json.dumps([round(float(x), 6) for x in example_sum])
    try:
        cursor = store.execute(
            "INSERT INTO themes (campaign_id, question, name, example_sum, example_count, "
            "origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (campaign_id, question, name, vector, int(example_count), origin, now, now),
        )
    except sqlite3.IntegrityError as e:
        raise ThemeNameTaken(name) from e
    theme_id = int(cursor.lastrowid or 0)
    store.executemany(
        "INSERT INTO theme_answers (theme_id, answer_id) VALUES (?, ?) "
        "ON CONFLICT (theme_id, answer_id) DO NOTHING",
        [(theme_id, int(a)) for a in dict.fromkeys(answers)],
    )
    return theme_id


def rename(store: Store, theme_id: int, name: str) -> None:
    try:
        store.execute(
            "UPDATE themes SET name = ?, updated_at = ? WHERE id = ?",
            (name, store.now(), theme_id),
        )
    except sqlite3.IntegrityError as e:
        raise ThemeNameTaken(name) from e


def delete(store: Store, theme_ids: Iterable[int]) -> None:
    for theme_id in theme_ids:
        store.execute("DELETE FROM theme_answers WHERE theme_id = ?", (theme_id,))
        store.execute("DELETE FROM themes WHERE id = ?", (theme_id,))


def forget_session(store: Store, session_id: int) -> int:
    """Erasure: a session's answers no longer make any theme (before the answers go)."""
    return store.execute(
        "DELETE FROM theme_answers WHERE answer_id IN "
        "(SELECT id FROM answers WHERE session_id = ?)",
        [session_id],
    ).rowcount
