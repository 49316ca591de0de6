"""ISO weeks: parsing, windows and clear errors."""

from datetime import datetime, timezone

import pytest

from digest.errors import InputError
from digest.weeks import parse_week, previous_week, week_of, week_window


def test_window_is_monday_to_monday_utc() -> None:
    start, end = week_window("2026-W06")
    assert start == datetime(2026, 2, 2, tzinfo=timezone.utc)
    assert end == datetime(2026, 2, 9, tzinfo=timezone.utc)
    assert week_of(datetime(2026, 2, 8, 23, 59, tzinfo=timezone.utc)) == "2026-W06"
    assert previous_week("2026-W01") == "2025-W52"


@pytest.mark.parametrize("bad", ["2026-6", "2026W06", "last week", "2026-W54", "2025-W53"])
def test_unknown_week_strings_are_one_line(bad: str) -> None:
    with pytest.raises(InputError) as e:
        parse_week(bad)
    assert "--week" in str(e.value) and "\n" not in str(e.value)


def test_week_53_exists_when_the_calendar_has_it() -> None:
    assert parse_week("2026-W53") == "2026-W53"
