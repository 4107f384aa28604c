"""A clock that stands still until the test moves it: given to the Store (and through
``kanavat.server.Options`` to the scheduler) wherever time matters in a test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A Wednesday in February, 12:00 in Helsinki (10:00 UTC): inside every default window.
WEDNESDAY_NOON = datetime(2027, 2, 3, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = WEDNESDAY_NOON) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime | str) -> datetime:
        self.now = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return self.now
