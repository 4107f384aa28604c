"""The example county, open around the clock: these tests must not depend on the hour."""

from __future__ import annotations

import re

from harness import EXAMPLE_CONFIG


def always_open(erasure: str | None = None, retention_days: int | None = None) -> str:
    """The example config with calls and texts allowed at any hour, any day."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"^call_hours = .*$", 'call_hours = ["mon-sun 00:00-24:00"]', text, flags=re.M)
    text = re.sub(r"^sms_hours = .*$", 'sms_hours = ["mon-sun 00:00-24:00"]', text, flags=re.M)
    text = re.sub(r"^holidays = true", "holidays = false", text, flags=re.M)
    if erasure:
        text = re.sub(r'^erasure = "\w+"', f'erasure = "{erasure}"', text, flags=re.M)
    if retention_days is not None:
        text = re.sub(
            r"^retention_days = \d+", f"retention_days = {retention_days}", text, flags=re.M
        )
    return text
