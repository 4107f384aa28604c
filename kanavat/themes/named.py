"""The ``themes`` table: officials' named and seeded themes of a free-text question.

The only module that writes it. A theme is kept as its name and the sum and count of its
examples' embeddings; what a theme means is re-derived from those at every run, so new
answers are assigned to it (:mod:`kanavat.themes.seeded`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

import numpy as np

from kanavat.store import Store
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
    return [
        NamedTheme(
            r["id"],
            r["name"],
            np.asarray(json.loads(r["example_sum"]), dtype=np.float32),
            r["example_count"],
        )
        for r in rows
    ]


def add(
    store: Store,
    campaign_id: str,
    question: str,
    name: str,
    example_sum: np.ndarray,
    example_count: int,
    origin: str,
) -> int:
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
    return int(cursor.lastrowid or 0)


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
        store.execute("DELETE FROM themes WHERE id = ?", (theme_id,))
