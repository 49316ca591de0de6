"""ISO weeks: parse `YYYY-Www`, give its UTC window, name the current one."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from digest.errors import InputError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> str:
    """Validate and normalise an ISO week string; a bad one is one line saying what is expected."""
    m = _WEEK.match(text.strip())
    if not m:
        raise InputError(f"--week: {text!r} is not an ISO week (expected YYYY-Www, e.g. 2026-W06)")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(f"--week: {text!r} does not exist ({year} has no week {week})") from None
    return f"{year:04d}-W{week:02d}"


def week_window(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00 UTC, next Monday 00:00 UTC) of an ISO week."""
    week = parse_week(week)
    year, num = int(week[:4]), int(week[6:])
    monday = date.fromisocalendar(year, num, 1)
    start = datetime.combine(monday, time(0), tzinfo=timezone.utc)
    return start, start + timedelta(days=7)


def week_of(when: datetime) -> str:
    iso = when.astimezone(timezone.utc).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def current_week(now: datetime | None = None) -> str:
    return week_of(now or datetime.now(timezone.utc))


def previous_week(week: str) -> str:
    start, _ = week_window(week)
    return week_of(start - timedelta(days=1))
