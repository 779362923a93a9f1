"""The escalation timing contract (shared/spec/cli.md, "Escalation timing") as the pure
ladder functions see it: ``start`` when an alert opens, ``step`` each time the next action
falls due, ``catch_up`` after a pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custody_watch.escalation import steps as steps
from custody_watch.escalation.ladders import Ladder, Level, from_json, to_json
from custody_watch.escalation.steps import Notify

M = timedelta(minutes=1)
H = timedelta(hours=1)

# A Wednesday morning in January, far from any clock change.
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)

CHANNELS = ("sms", "email")
# The example config's ladders (shared/spec/config-example.toml).
HIGH = Ladder(
    levels=(
        Level(notify=("duty_inspector",), channels=CHANNELS, wait=15 * M),
        Level(notify=("superintendent",), channels=CHANNELS, wait=30 * M),
    ),
    repeat_every=30 * M,
)
CRITICAL = Ladder(
    levels=(
        Level(notify=("duty_inspector",), channels=CHANNELS, wait=10 * M),
        Level(notify=("duty_inspector", "superintendent"), channels=CHANNELS, wait=15 * M),
    ),
    repeat_every=15 * M,
)
WARNING = Ladder(levels=(Level(notify=("duty_inspector",), channels=CHANNELS),))


def timetable(ladder: Ladder, opened: datetime, count: int) -> list[tuple[datetime, int]]:
    """(when, 1-based level) for the first ``count`` notifications, stepping as a daemon
    does: each step is taken exactly when the previous one said it falls due."""
    first = steps.start(ladder, opened, "alert opened")
    out = [(opened, first.level + 1)]
    current, at = first, first.next_at
    while len(out) < count:
        assert at is not None, f"the ladder stopped after {len(out)} notifications"
        current = steps.step(ladder, current.position, at)
        out.append((at, current.level + 1))
        at = current.next_at
    return out


def test_the_high_ladder_notifies_level_one_at_once_and_level_two_after_fifteen_minutes():
    assert timetable(HIGH, T0, 2) == [(T0, 1), (T0 + 15 * M, 2)]


def test_the_high_ladder_repeats_level_two_after_its_wait_then_every_thirty_minutes():
    assert timetable(HIGH, T0, 6) == [
        (T0, 1),
        (T0 + 15 * M, 2),
        (T0 + 45 * M, 2),
        (T0 + 75 * M, 2),
        (T0 + 105 * M, 2),
        (T0 + 135 * M, 2),
    ]


def test_the_critical_ladder_escalates_after_ten_minutes_and_repeats_every_fifteen():
    assert timetable(CRITICAL, T0, 5) == [
        (T0, 1),
        (T0 + 10 * M, 2),
        (T0 + 25 * M, 2),
        (T0 + 40 * M, 2),
        (T0 + 55 * M, 2),
    ]


def test_start_names_level_one_position_zero_and_the_reason():
    first = steps.start(HIGH, T0, "alert opened")
    assert first == Notify(level=0, position=0, next_at=T0 + 15 * M, reason="alert opened")


def test_step_reasons_say_whether_the_alert_escalated_or_repeated():
    to_two = steps.step(HIGH, 0, T0 + 15 * M)
    again = steps.step(HIGH, 1, T0 + 45 * M)
    assert "escalated to level 2" in to_two.reason
    assert "level 2 notified again" in again.reason


def test_a_single_level_ladder_without_wait_or_repeat_notifies_once():
    first = steps.start(WARNING, T0, "alert opened")
    assert (first.level, first.next_at) == (0, None)
    assert steps.catch_up(WARNING, 0, T0, T0 + 24 * H) == [
        Notify(level=0, position=1, next_at=None, reason=steps.step(WARNING, 0, T0).reason)
    ]


def test_a_single_level_ladder_with_repeat_every_repeats_level_one():
    repeating = Ladder(levels=WARNING.levels, repeat_every=20 * M)
    assert timetable(repeating, T0, 4) == [
        (T0, 1),
        (T0 + 20 * M, 1),
        (T0 + 40 * M, 1),
        (T0 + 60 * M, 1),
    ]


def test_a_last_level_without_a_wait_repeats_after_repeat_every():
    ladder = Ladder(
        levels=(
            Level(notify=("duty_inspector",), channels=CHANNELS, wait=15 * M),
            Level(notify=("superintendent",), channels=CHANNELS),
        ),
        repeat_every=40 * M,
    )
    assert timetable(ladder, T0, 4) == [
        (T0, 1),
        (T0 + 15 * M, 2),
        (T0 + 55 * M, 2),
        (T0 + 95 * M, 2),
    ]


def test_catch_up_after_a_long_pause_returns_every_due_step_in_order_timed_from_the_schedule():
    first = steps.start(HIGH, T0, "alert opened")
    resumed = T0 + 2 * H  # the daemon was down from T0 + 1 minute until T0 + 2 hours
    caught = steps.catch_up(HIGH, first.position, first.next_at, resumed)
    assert [(s.level + 1, s.position, s.next_at) for s in caught] == [
        (2, 1, T0 + 45 * M),
        (2, 2, T0 + 75 * M),
        (2, 3, T0 + 105 * M),
        (2, 4, T0 + 135 * M),
    ]
    # The ladder goes on from its own timetable, not from the moment it resumed.
    assert caught[-1].next_at != resumed + 30 * M


def test_catch_up_includes_a_step_due_exactly_now_and_nothing_due_later():
    caught = steps.catch_up(HIGH, 0, T0 + 15 * M, T0 + 15 * M)
    assert [(s.level, s.next_at) for s in caught] == [(1, T0 + 45 * M)]
    assert steps.catch_up(HIGH, 0, T0 + 15 * M, T0 + 15 * M - timedelta(seconds=1)) == []


def test_catch_up_gives_the_same_steps_as_stepping_one_at_a_time():
    first = steps.start(CRITICAL, T0, "alert opened")
    caught = steps.catch_up(CRITICAL, first.position, first.next_at, T0 + 3 * H)
    one_by_one = timetable(CRITICAL, T0, len(caught) + 1)[1:]
    due_times = [first.next_at] + [s.next_at for s in caught[:-1]]
    assert [(at, s.level + 1) for at, s in zip(due_times, caught, strict=True)] == one_by_one


@pytest.mark.parametrize("ladder", [HIGH, CRITICAL, WARNING], ids=["high", "critical", "warning"])
def test_the_json_snapshot_round_trips_a_ladder(ladder: Ladder):
    from custody_watch.domain import Severity

    assert from_json(to_json({Severity.HIGH: ladder})) == {Severity.HIGH: ladder}
