"""clock.py: the only place the wall clock is read."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from custody_watch.clock import FixedClock, StartedClock, SystemClock

START = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_fixed_clock_reads_the_instant_it_was_given() -> None:
    clock = FixedClock(START)
    assert clock.now() == START
    time.sleep(0.01)
    assert clock.now() == START


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(START)
    clock.advance(timedelta(hours=2))
    assert clock.now() == START + timedelta(hours=2)
    later = datetime(2026, 12, 1, tzinfo=UTC)
    clock.set(later)
    assert clock.now() == later


def test_a_fixed_clock_reads_in_utc_whatever_offset_it_was_given() -> None:
    bst = timezone(timedelta(hours=1))
    clock = FixedClock(datetime(2026, 10, 25, 1, 30, tzinfo=bst))
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)


def test_advancing_across_the_october_clock_change_is_elapsed_time() -> None:
    clock = FixedClock(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))  # 00:00 BST
    clock.advance(timedelta(hours=3))
    assert clock.now() == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)  # 02:00 GMT


def test_a_fixed_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 10, 25, 0, 30))
    clock = FixedClock(START)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 10, 25, 0, 30))


def test_a_started_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        StartedClock(datetime(2026, 10, 25, 0, 30))


@pytest.mark.parametrize("speed", [0, -1, -0.5])
def test_a_started_clock_refuses_a_speed_that_is_not_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        StartedClock(START, speed=speed)


def test_a_started_clock_starts_at_its_time_and_runs_on() -> None:
    clock = StartedClock(START)
    first = clock.now()
    assert START <= first < START + timedelta(seconds=5)
    time.sleep(0.02)
    second = clock.now()
    assert second > first
    assert second.utcoffset() == timedelta(0)


def test_a_started_clock_runs_speed_times_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [1000.0]
    monkeypatch.setattr("custody_watch.clock.time.monotonic", lambda: fake[0])
    clock = StartedClock(START, speed=60)
    assert clock.now() == START
    fake[0] += 10  # ten real seconds
    assert clock.now() == START + timedelta(minutes=10)
    normal = StartedClock(START)
    fake[0] += 10
    assert normal.now() == START + timedelta(seconds=10)


def test_a_started_clock_reads_utc_whatever_offset_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custody_watch.clock.time.monotonic", lambda: 5.0)
    bst = timezone(timedelta(hours=1))
    clock = StartedClock(datetime(2026, 10, 25, 1, 30, tzinfo=bst))
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_the_system_clock_reads_aware_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after
