"""The digest's window: 07:00 local on D-1 to 07:00 local on D, 23 or 25 hours across a
clock change."""

from __future__ import annotations

from datetime import date, time

import pytest

from custody_watch.digest.window import (
    digest_window,
    due_instant,
    latest_due_day,
    overnight_intervals,
)
from custody_watch.times import LONDON, parse_instant

SEVEN = time(7, 0)


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        ("2026-06-11", "2026-06-10T06:00:00Z", "2026-06-11T06:00:00Z", 24),
        ("2026-01-15", "2026-01-14T07:00:00Z", "2026-01-15T07:00:00Z", 24),
        # Clocks go forward at 01:00 GMT on 29 March 2026: 23 hours.
        ("2026-03-29", "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z", 23),
        # Clocks go back at 01:00 GMT on 25 October 2026: 25 hours.
        ("2026-10-25", "2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z", 25),
    ],
)
def test_the_window_runs_from_seven_to_seven_local(
    day: str, start: str, end: str, hours: int
) -> None:
    window = digest_window(date.fromisoformat(day), SEVEN, LONDON)
    assert window.start == parse_instant(start)
    assert window.end == parse_instant(end)
    assert window.hours == hours


def test_in_the_window_includes_the_start_and_excludes_the_end() -> None:
    window = digest_window(date(2026, 6, 11), SEVEN, LONDON)
    assert window.contains(window.start)
    assert not window.contains(window.end)
    assert not window.contains(None)


def test_another_digest_time_moves_the_window() -> None:
    window = digest_window(date(2026, 6, 11), time(6, 30), LONDON)
    assert window.start == parse_instant("2026-06-10T05:30:00Z")


def test_a_time_the_clocks_skip_starts_at_the_jump() -> None:
    window = digest_window(date(2026, 3, 30), time(1, 30), LONDON)
    assert window.start == parse_instant("2026-03-29T01:00:00Z")


@pytest.mark.parametrize(
    ("now", "day"),
    [
        ("2026-06-11T05:59:59Z", "2026-06-10"),
        ("2026-06-11T06:00:00Z", "2026-06-11"),
        ("2026-06-11T22:00:00Z", "2026-06-11"),
        ("2026-10-25T06:59:00Z", "2026-10-24"),  # 06:59 GMT: not yet
        ("2026-10-25T07:00:00Z", "2026-10-25"),
    ],
)
def test_the_latest_due_day(now: str, day: str) -> None:
    assert latest_due_day(parse_instant(now), SEVEN, LONDON) == date.fromisoformat(day)


def test_due_is_the_end_of_the_window() -> None:
    assert due_instant(date(2026, 6, 11), SEVEN, LONDON) == parse_instant("2026-06-11T06:00:00Z")


def test_nights_are_local_and_follow_clock_changes() -> None:
    window = digest_window(date(2026, 10, 25), SEVEN, LONDON)
    nights = overnight_intervals(window.start, window.end, LONDON, time(22), time(7))
    # 22:00 BST on 24 Oct (21:00Z) to 07:00 GMT on 25 Oct (07:00Z): ten hours that night.
    assert nights == [
        (parse_instant("2026-10-24T21:00:00Z"), parse_instant("2026-10-25T07:00:00Z"))
    ]
