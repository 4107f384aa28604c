"""Durations written the way officials read them: ``"2h 1d"``, ``"30min"``, ``"90s"``."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
TOKEN = re.compile(r"^(\d+)(s|min|m|h|d|w)$")


def parse(text: str) -> list[timedelta]:
    out = []
    for token in text.split():
        match = TOKEN.match(token)
        if not match:
            raise ValueError(f"'{token}' is not a duration; write e.g. 2h, 1d, 30min")
        out.append(timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)]))
    return out


def parse_one(text: str) -> timedelta:
    return sum(parse(text), timedelta())
