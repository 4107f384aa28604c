"""The chat page's own texts (``texts/<lang>.toml``) and choosing the visitor's language.

The page greets in the language the visitor asked for (``?lang=``), else the one they chose
before (a cookie), else the browser's ``Accept-Language``, else the county's first language.
Only the county's languages are ever chosen: the questions exist in those and no others.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "texts"


@cache
def texts(language: str) -> dict[str, Any]:
    """The page texts of a language; a missing language falls back to English, then Finnish."""
    for code in (language, "en", "fi"):
        path = HERE / f"{code}.toml"
        if path.is_file():
            return tomllib.loads(path.read_text(encoding="utf-8"))
    raise LookupError("no chat texts at all")  # pragma: no cover - the package ships fi


def accepted(header: str | None) -> list[str]:
    """Primary language subtags of an ``Accept-Language`` header, best first (RFC 9110 12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag.split("-")[0]))
    return list(dict.fromkeys(tag for _, _, tag in sorted(weighted)))


def choose(
    languages: list[str], asked: str | None, remembered: str | None, accept: str | None
) -> str:
    """The visitor's language among the county's ``languages`` (the first is the default)."""
    for candidate in (asked, remembered):
        if candidate and candidate.lower() in languages:
            return candidate.lower()
    for tag in accepted(accept):
        if tag in languages:
            return tag
    return languages[0]


def moment(language: str, when: datetime) -> str:
    """A date and time as people write it in the language ("1.3.2027 klo 8.00")."""
    t = texts(language)
    months = t.get("months") or [""] * 12
    return t["date"].format(
        day=when.day,
        month=when.month,
        month_name=months[when.month - 1],
        year=when.year,
        hour=when.hour,
        minute=when.minute,
    )
