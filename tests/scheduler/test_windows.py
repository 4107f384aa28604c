"""Call hours, quiet hours and Finnish holidays, in Helsinki time, across weekends and DST."""

from __future__ import annotations

import pytest
from clockwork import local

from kanavat.outreach.windows import (
    DEFAULT_CALL_HOURS,
    DEFAULT_SMS_HOURS,
    Schedule,
    is_holiday,
    parse,
)

CALLS = Schedule.of(DEFAULT_CALL_HOURS, "Europe/Helsinki")
TEXTS = Schedule.of(DEFAULT_SMS_HOURS, "Europe/Helsinki")


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (local(2026, 11, 24, 11, 0), local(2026, 11, 24, 11, 0)),  # Tuesday, open
        (local(2026, 11, 24, 9, 59), local(2026, 11, 24, 10, 0)),  # before opening
        (local(2026, 11, 24, 18, 0), local(2026, 11, 25, 10, 0)),  # 18:00 is closed
        (local(2026, 11, 27, 19, 0), local(2026, 11, 28, 10, 0)),  # Friday night: Saturday
        (local(2026, 11, 28, 14, 30), local(2026, 11, 30, 10, 0)),  # Saturday after 14: Monday
        (local(2026, 11, 29, 12, 0), local(2026, 11, 30, 10, 0)),  # Sunday: Monday
    ],
)
def test_call_hours(moment, opening) -> None:
    assert CALLS.next_opening(moment) == opening
    assert CALLS.is_open(moment) == (moment == opening)


def test_no_calls_on_finnish_holidays() -> None:
    # Christmas Eve (Thu), Christmas Day (Fri), Boxing Day (Sat), then Sunday: Monday 28th.
    assert is_holiday(local(2026, 12, 24, 12).date())
    assert CALLS.next_opening(local(2026, 12, 24, 11, 0)) == local(2026, 12, 28, 10, 0)
    # Midsummer Eve is a Friday in 2027; Midsummer Day a Saturday.
    assert CALLS.next_opening(local(2027, 6, 24, 18, 30)) == local(2027, 6, 28, 10, 0)
    lenient = Schedule.of(DEFAULT_CALL_HOURS, "Europe/Helsinki", holidays=False)
    assert lenient.is_open(local(2026, 12, 24, 11, 0))


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (local(2026, 11, 24, 21, 30), local(2026, 11, 25, 9, 0)),  # quiet from 21
        (local(2026, 11, 25, 8, 59), local(2026, 11, 25, 9, 0)),  # until 09
        (local(2026, 11, 29, 12, 0), local(2026, 11, 29, 12, 0)),  # Sunday is fine for texts
        (local(2026, 11, 24, 20, 59), local(2026, 11, 24, 20, 59)),
    ],
)
def test_sms_quiet_hours(moment, opening) -> None:
    assert TEXTS.next_opening(moment) == opening


def test_opening_stays_at_local_time_across_dst() -> None:
    # Summer time ends on Sunday 25 October 2026: 10:00 is 07:00 UTC before, 08:00 after.
    before = CALLS.next_opening(local(2026, 10, 23, 19, 0))
    after = CALLS.next_opening(local(2026, 10, 24, 15, 0))
    assert (before.hour, after.hour) == (7, 8)
    assert after == local(2026, 10, 26, 10, 0)


def test_rehearsal_opens_every_hour_and_wrapping_day_ranges() -> None:
    always = Schedule.of(["mon-sun 00:00-24:00"], "Europe/Helsinki", holidays=False)
    for hour in (0, 3, 23):
        assert always.is_open(local(2026, 12, 25, hour, 59))
    assert parse("fri-mon 10:00-12:00").days == frozenset({4, 5, 6, 0})
    assert parse("sat 10:00-14:00").days == frozenset({5})
    assert parse("mon-sun 00:00-24:00").end == 24 * 60


def test_no_window_at_all_is_a_clear_error() -> None:
    never = Schedule.of(["sun 10:00-11:00"], "Europe/Helsinki")
    # Only Sundays, and holidays kept: still opens on a plain Sunday.
    assert never.next_opening(local(2026, 11, 24, 12)) == local(2026, 11, 29, 10, 0)
    empty = Schedule((), never.zone)
    with pytest.raises(ValueError, match="no call or message window"):
        empty.next_opening(local(2026, 11, 24, 12))
