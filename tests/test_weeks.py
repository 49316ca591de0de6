"""ISO weeks: parsing, windows and clear errors."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.cli import main
from digest.errors import InputError
from digest.pipeline import LATE_DAYS
from digest.weeks import FIRST_WEEK, LAST_WEEK, current_week, parse_week, previous_week, week_of, week_window


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


@pytest.mark.parametrize("extreme", ["9999-W52", "9999-W51", "0001-W01", " 0001-W01"])
def test_weeks_at_the_ends_of_the_calendar_are_refused_in_one_line(extreme: str) -> None:
    with pytest.raises(InputError) as e:
        parse_week(extreme)
    line = str(e.value)
    assert f"{extreme!r} is out of range" in line and "0001-W02 to 9999-W50" in line and "\n" not in line


def test_the_first_and_last_weeks_have_room_for_what_the_pipeline_reads() -> None:
    """collect reads LATE_DAYS before the window, late_items the week before, and the week after exists."""
    assert (FIRST_WEEK, LAST_WEEK) == ("0001-W02", "9999-W50")
    for week in (FIRST_WEEK, LAST_WEEK):
        start, end = week_window(parse_week(week))
        assert end - start == timedelta(days=7)
        assert week_of(start - timedelta(days=LATE_DAYS)) == previous_week(week)
        assert week_window(previous_week(week))[1] == start
        assert week_window(week_of(end))[0] == end


def test_window_arithmetic_that_leaves_the_calendar_is_an_input_error() -> None:
    for call, extreme in [
        (week_window, "9999-W52"),
        (previous_week, "9999-W52"),
        (previous_week, "0001-W01"),
    ]:
        with pytest.raises(InputError, match=f"'{extreme}' is out of range"):
            call(extreme)
    assert week_window("0001-W01")[0] == datetime(1, 1, 1, tzinfo=timezone.utc)  # late_items of 0001-W02


@pytest.mark.parametrize("command", ["build", "collect", "export"])
@pytest.mark.parametrize("extreme", ["9999-W52", "0001-W01"])
def test_the_cli_refuses_extreme_weeks_with_exit_2(
    command: str, extreme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "digest.toml"
    cfg.write_text('[store]\npath = "d.db"\n[archive]\npath = "site"\n')
    assert main(["--config", str(cfg), command, "--week", extreme]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digest: --week: ") and f"'{extreme}'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "d.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("week", ["0001-W02", "9999-W50"])
def test_the_cli_handles_the_first_and_last_weeks(
    week: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "digest.toml"
    cfg.write_text(
        '[store]\npath = "d.db"\n[archive]\npath = "site"\n'
        "[sources.arxiv]\nenabled = false\n[sources.reddit]\nenabled = false\n[sources.rss]\nfeeds = []\n"
    )
    assert main(["--config", str(cfg), "collect", "--week", week]) == 0
    assert main(["--config", str(cfg), "export", "--week", week]) == 0
    assert main(["--config", str(cfg), "build", "--week", week]) == 2  # nothing stored, said as such
    assert f"no items stored for {week}" in capsys.readouterr().err


TOKYO = timezone(timedelta(hours=9))
LOS_ANGELES = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("now", "current", "last"),
    [
        # the README's Monday 06:00 cron job in Tokyo: still Sunday 21:00 in UTC
        (datetime(2026, 2, 9, 6, 0, tzinfo=TOKYO), "2026-W07", "2026-W06"),
        # Sunday evening in Los Angeles is Monday in UTC: the local week has not ended yet
        (datetime(2026, 2, 8, 20, 0, tzinfo=LOS_ANGELES), "2026-W06", "2026-W05"),
        (datetime(2025, 12, 29, 6, 0, tzinfo=TOKYO), "2026-W01", "2025-W52"),  # across the ISO year
        (datetime(2026, 2, 9, 6, 0, tzinfo=timezone.utc), "2026-W07", "2026-W06"),
    ],
)
def test_current_and_last_week_follow_the_local_calendar_date(now: datetime, current: str, last: str) -> None:
    assert current_week(now) == current
    assert previous_week(current_week(now)) == last  # what `--week last` resolves to
