"""When a campaign may call or text: weekly time windows in the county's time zone, and
Finnish public holidays.

Officials write windows the way they say them: ``"mon-fri 10:00-18:00"``, ``"sat 10:00-14:00"``
(``24:00`` ends a day). A moment outside every window is not an error: the contact waits for
the next opening (``next_opening``), so nobody due is dropped, only postponed. Holidays come
from the ``holidays`` package (country FI, including Midsummer Eve and Christmas Eve, when
calling a stranger is as unwelcome as on the public holidays themselves).

This module knows calendars only: nothing of the store, the provider or the campaigns' state.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from kanavat.config import Config

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Defaults when neither the campaign nor the county sets them (the policy: calls
# Mon-Fri 10-18 and Sat 10-14, no texts 21-09, nothing on public holidays).
DEFAULT_CALL_HOURS = ("mon-fri 10:00-18:00", "sat 10:00-14:00")
DEFAULT_SMS_HOURS = ("mon-sun 09:00-21:00",)
SEARCH_DAYS = 400  # a year and a bit: enough to find the next opening of any weekly schedule


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int  # exclusive; 1440 = 24:00


def parse(text: str) -> Window:
    """``"mon-fri 10:00-18:00"`` → Window; config.py has already checked the form."""
    day_part, hours = text.split(" ", 1)
    first, _, last = day_part.partition("-")
    a, b = DAYS.index(first), DAYS.index(last or first)
    days = frozenset(range(a, b + 1)) if a <= b else frozenset([*range(a, 7), *range(0, b + 1)])
    start, end = hours.split("-")
    return Window(days, _minutes(start), _minutes(end))


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@functools.lru_cache(maxsize=64)
def _holiday_dates(year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays("FI", years=[year]).keys())


def is_holiday(day: date) -> bool:
    return day in _holiday_dates(day.year)


@dataclass(frozen=True)
class Schedule:
    """The windows of one channel of one campaign, in one time zone."""

    windows: tuple[Window, ...]
    zone: ZoneInfo
    holidays: bool = True

    @classmethod
    def of(cls, texts: list[str] | tuple[str, ...], zone: str, holidays: bool = True) -> Schedule:
        return cls(tuple(parse(t) for t in texts), ZoneInfo(zone), holidays)

    def is_open(self, moment: datetime) -> bool:
        return self.next_opening(moment) == moment

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself if a window is open then, else the start of the next one (aware,
        in UTC when it moved). Raises ValueError if no window opens within a year."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        local = aware.astimezone(self.zone)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if self.holidays and is_holiday(day):
                continue
            now_min = local.hour * 60 + local.minute if offset == 0 else -1
            starts = []
            for w in self.windows:
                if day.weekday() not in w.days:
                    continue
                if offset == 0 and w.start <= now_min < w.end:
                    return moment
                if w.start > now_min:
                    starts.append(w.start)
            if starts:
                first = min(starts)
                opening = datetime.combine(day, time(first // 60, first % 60), self.zone)
                return opening.astimezone(UTC)
        raise ValueError("no call or message window opens within a year; check the hours")


def setting(config: Config, campaign_id: str, name: str):  # type: ignore[no-untyped-def]
    """A pacing setting: the campaign's own, else the county's, else None."""
    campaign = config.campaigns.get(campaign_id)
    value = getattr(campaign, name, None) if campaign is not None else None
    return value if value is not None else getattr(config.county, name, None)


def schedule_for(config: Config, campaign_id: str, channel: str) -> Schedule | None:
    """The windows a channel keeps for a campaign; None for chat (residents come themselves)."""
    if channel == "voice":
        hours = setting(config, campaign_id, "call_hours") or DEFAULT_CALL_HOURS
    elif channel == "sms":
        hours = setting(config, campaign_id, "sms_hours") or DEFAULT_SMS_HOURS
    else:
        return None
    keep_holidays = setting(config, campaign_id, "holidays")
    return Schedule.of(
        tuple(hours), config.county.timezone, True if keep_holidays is None else keep_holidays
    )


def next_opening(config: Config, campaign_id: str, channel: str, moment: datetime) -> datetime:
    schedule = schedule_for(config, campaign_id, channel)
    return moment if schedule is None else schedule.next_opening(moment)
