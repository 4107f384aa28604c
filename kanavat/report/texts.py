"""The report's own words (headings, explanations, labels) per language, kept as data.

Councils read these, so they live in ``texts/<lang>.toml`` where a translator can edit them
without touching code. A language without a file falls back to English.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).with_name("texts")
FALLBACK = "en"


def available() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def report_language(language: str) -> str:
    """The language a report can be written in: the one asked for, else English."""
    return language if (FOLDER / f"{language}.toml").is_file() else FALLBACK


@cache
def texts(language: str) -> dict[str, Any]:
    return tomllib.loads((FOLDER / f"{report_language(language)}.toml").read_text("utf-8"))
