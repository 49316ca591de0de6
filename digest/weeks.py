"""ISO weeks: parse `YYYY-Www`, give its UTC window, name the current one."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from digest.errors import InputError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

# The weeks a command may name. Each has room around it inside the datetime range (years 1 to 9999): the
# week before (collect reads 3 days back, late_items the whole week) and the week after.
FIRST_WEEK, LAST_WEEK = "0001-W02", "9999-W50"


def _year_and_number(text: str) -> tuple[int, int]:
    """The (year, week) of a well-formed ISO week that the calendar has; any week, in range or not."""
    m = _WEEK.match(text.strip())
    if not m:
        raise InputError(f"--week: {text!r} is not an ISO week (expected YYYY-Www, e.g. 2026-W06)")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(f"--week: {text!r} does not exist ({year} has no week {week})") from None
    return year, week


def _out_of_range(text: str) -> InputError:
    return InputError(f"--week: {text!r} is out of range (weeks {FIRST_WEEK} to {LAST_WEEK} can be used)")


def parse_week(text: str) -> str:
    """Validate and normalise an ISO week string; a bad one is one line saying what is expected."""
    year, num = _year_and_number(text)
    week = f"{year:04d}-W{num:02d}"
    if not FIRST_WEEK <= week <= LAST_WEEK:  # same width, so string order is calendar order
        raise _out_of_range(text)
    return week


def week_window(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00 UTC, next Monday 00:00 UTC) of an ISO week.

    Also the week just outside FIRST_WEEK..LAST_WEEK (the one before the first, the one after the last);
    one whose window leaves the datetime range is an InputError, not an OverflowError.
    """
    year, num = _year_and_number(week)
    start = datetime.combine(date.fromisocalendar(year, num, 1), time(0), tzinfo=timezone.utc)
    try:
        return start, start + timedelta(days=7)
    except OverflowError:
        raise _out_of_range(week) from None


def week_of(when: datetime) -> str:
    iso = when.astimezone(timezone.utc).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def current_week(now: datetime | None = None) -> str:
    """The ISO week of today's date on the local calendar, which `--week last` and `current` name.

    The date is the machine's (its time zone), or `now`'s own wall-clock date: a Monday 06:00 cron job
    in Tokyo is still on Sunday in UTC, yet "last week" means the week that just ended where it runs.
    Only the naming is local; week windows stay Monday to Monday in UTC.
    """
    iso = (now.date() if now is not None else date.today()).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def previous_week(week: str) -> str:
    start, _ = week_window(week)
    try:
        return week_of(start - timedelta(days=1))
    except OverflowError:
        raise _out_of_range(week) from None
