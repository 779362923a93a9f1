"""Who is on call: always-on entries, local-time shifts (across midnight and across the
clock changes), suite and force scopes, and dated overrides."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from custody_watch.escalation.rota import Rota, Shift
from custody_watch.times import LONDON

M = timedelta(minutes=1)
S = timedelta(seconds=1)
ROLE = "duty_inspector"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# Monday 12 and Tuesday 13 January 2026: GMT, so local time is UTC.
MON_JAN = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
# Wednesday 10 June 2026: BST, local time is UTC + 1.
WED_JUNE_0900_BST = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
SAT_JUNE_1200_BST = datetime(2026, 6, 13, 11, 0, tzinfo=UTC)
# Clocks go forward at 01:00 GMT on Sunday 29 March 2026 and back at 02:00 BST (01:00 UTC)
# on Sunday 25 October 2026.
SPRING_SAT_NOON = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # 12:00 GMT
AUTUMN_SAT_NOON = datetime(2026, 10, 24, 11, 0, tzinfo=UTC)  # 12:00 BST


def rota(*shifts: Shift) -> Rota:
    return Rota(shifts=shifts, zone=LONDON)


def on_call(r: Rota, at: datetime, **scope: str | None) -> list[str]:
    return r.on_call(ROLE, at, **scope)


# --- always on -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        MON_JAN,
        datetime(2026, 1, 17, 3, 0, tzinfo=UTC),  # Saturday night
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # just after the clocks went forward
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the repeated hour
    ],
)
def test_an_entry_without_days_or_hours_is_always_on_call(at: datetime):
    assert on_call(rota(Shift(ROLE, "insp-a")), at) == ["insp-a"]


def test_a_role_nobody_holds_has_nobody_on_call():
    r = rota(Shift(ROLE, "insp-a"))
    assert r.on_call("superintendent", MON_JAN) == []
    assert r.roles() == {ROLE}


def test_two_people_on_the_same_shift_are_both_on_call_in_rota_order():
    r = rota(Shift(ROLE, "insp-b"), Shift(ROLE, "insp-a"), Shift(ROLE, "insp-b"))
    assert on_call(r, MON_JAN) == ["insp-b", "insp-a"]


# --- days and hours in local time ------------------------------------------------------

OFFICE = Shift(ROLE, "insp-day", days=WEEKDAYS, start=time(9, 0), end=time(17, 0))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (WED_JUNE_0900_BST - S, []),  # 08:59:59 BST
        (WED_JUNE_0900_BST, ["insp-day"]),  # 09:00 BST is 08:00 UTC
        (WED_JUNE_0900_BST + 8 * 60 * M - S, ["insp-day"]),  # 16:59:59 BST
        (WED_JUNE_0900_BST + 8 * 60 * M, []),  # 17:00 BST, the end is excluded
        (SAT_JUNE_1200_BST, []),  # not a weekday
        (datetime(2026, 1, 14, 9, 0, tzinfo=UTC), ["insp-day"]),  # 09:00 GMT
        (datetime(2026, 1, 14, 8, 59, tzinfo=UTC), []),
    ],
)
def test_a_days_and_hours_shift_is_read_in_local_time(at: datetime, expected: list[str]):
    assert on_call(rota(OFFICE), at) == expected


def test_an_all_day_entry_with_days_covers_those_days_only():
    weekend = Shift(ROLE, "insp-w", days=("sat", "sun"))
    r = rota(weekend)
    assert on_call(r, datetime(2026, 1, 17, 0, 0, tzinfo=UTC)) == ["insp-w"]  # Sat 00:00
    assert on_call(r, datetime(2026, 1, 18, 23, 59, tzinfo=UTC)) == ["insp-w"]  # Sun 23:59
    assert on_call(r, datetime(2026, 1, 19, 0, 0, tzinfo=UTC)) == []  # Mon 00:00
    # In summer the local day starts at 23:00 UTC the evening before.
    assert on_call(r, datetime(2026, 6, 12, 23, 0, tzinfo=UTC)) == ["insp-w"]  # Sat 00:00 BST


# --- across midnight -------------------------------------------------------------------

MONDAY_NIGHTS = Shift(ROLE, "insp-n", days=("mon",), start=time(22, 0), end=time(7, 0))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 1, 12, 21, 59, tzinfo=UTC), []),  # Mon 21:59
        (datetime(2026, 1, 12, 22, 0, tzinfo=UTC), ["insp-n"]),  # Mon 22:00
        (datetime(2026, 1, 13, 0, 0, tzinfo=UTC), ["insp-n"]),  # Tue 00:00, Monday's shift
        (datetime(2026, 1, 13, 6, 59, tzinfo=UTC), ["insp-n"]),  # Tue 06:59
        (datetime(2026, 1, 13, 7, 0, tzinfo=UTC), []),  # Tue 07:00, the end is excluded
        (datetime(2026, 1, 13, 22, 0, tzinfo=UTC), []),  # Tue 22:00: not a Monday shift
        (datetime(2026, 1, 12, 3, 0, tzinfo=UTC), []),  # Mon 03:00 belongs to Sunday night
    ],
)
def test_a_shift_across_midnight_belongs_to_the_day_it_started(at: datetime, expected: list[str]):
    assert on_call(rota(MONDAY_NIGHTS), at) == expected


# --- the clock-change nights -----------------------------------------------------------

NIGHTS = Shift(ROLE, "insp-night", start=time(22, 0), end=time(7, 0))
DAYS = Shift(ROLE, "insp-day", start=time(7, 0), end=time(22, 0))
EARLY = Shift(ROLE, "insp-early", start=time(0, 0), end=time(8, 0))


@pytest.mark.parametrize(
    ("shift", "at", "on"),
    [
        # 28/29 March: 22:00 GMT Saturday to 07:00 BST Sunday is 22:00 to 06:00 UTC.
        (NIGHTS, datetime(2026, 3, 28, 21, 59, tzinfo=UTC), False),
        (NIGHTS, datetime(2026, 3, 28, 22, 0, tzinfo=UTC), True),
        (NIGHTS, datetime(2026, 3, 29, 0, 59, tzinfo=UTC), True),  # 00:59 GMT
        (NIGHTS, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), True),  # 02:00 BST
        (NIGHTS, datetime(2026, 3, 29, 5, 59, tzinfo=UTC), True),  # 06:59 BST
        (NIGHTS, datetime(2026, 3, 29, 6, 0, tzinfo=UTC), False),  # 07:00 BST
        # 29 March: 00:00 GMT to 08:00 BST is 00:00 to 07:00 UTC.
        (EARLY, datetime(2026, 3, 28, 23, 59, tzinfo=UTC), False),
        (EARLY, datetime(2026, 3, 29, 0, 0, tzinfo=UTC), True),
        (EARLY, datetime(2026, 3, 29, 6, 59, tzinfo=UTC), True),  # 07:59 BST
        (EARLY, datetime(2026, 3, 29, 7, 0, tzinfo=UTC), False),  # 08:00 BST
        # 24/25 October: 22:00 BST Saturday to 07:00 GMT Sunday is 21:00 to 07:00 UTC.
        (NIGHTS, datetime(2026, 10, 24, 20, 59, tzinfo=UTC), False),
        (NIGHTS, datetime(2026, 10, 24, 21, 0, tzinfo=UTC), True),
        (NIGHTS, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), True),  # 01:30 BST, first time
        (NIGHTS, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), True),  # 01:30 GMT, second time
        (NIGHTS, datetime(2026, 10, 25, 6, 59, tzinfo=UTC), True),
        (NIGHTS, datetime(2026, 10, 25, 7, 0, tzinfo=UTC), False),
        # 25 October: 00:00 BST to 08:00 GMT is 23:00 (the evening before) to 08:00 UTC.
        (EARLY, datetime(2026, 10, 24, 22, 59, tzinfo=UTC), False),
        (EARLY, datetime(2026, 10, 24, 23, 0, tzinfo=UTC), True),
        (EARLY, datetime(2026, 10, 25, 7, 59, tzinfo=UTC), True),
        (EARLY, datetime(2026, 10, 25, 8, 0, tzinfo=UTC), False),
    ],
)
def test_shifts_follow_the_local_clock_on_the_nights_the_clocks_change(
    shift: Shift, at: datetime, on: bool
):
    assert on_call(rota(shift), at) == ([shift.person] if on else [])


def minutes_on_call(r: Rota, person: str, start: datetime, hours: int) -> int:
    return sum(person in on_call(r, start + i * M) for i in range(hours * 60))


@pytest.mark.parametrize(
    ("saturday_noon", "night_hours", "early_hours"),
    [(SPRING_SAT_NOON, 8, 7), (AUTUMN_SAT_NOON, 10, 9)],
    ids=["29-march", "25-october"],
)
def test_the_clock_change_night_shift_is_an_hour_shorter_in_march_and_longer_in_october(
    saturday_noon: datetime, night_hours: int, early_hours: int
):
    assert minutes_on_call(rota(NIGHTS), "insp-night", saturday_noon, 24) == night_hours * 60
    assert minutes_on_call(rota(EARLY), "insp-early", saturday_noon, 24) == early_hours * 60


@pytest.mark.parametrize("saturday_noon", [SPRING_SAT_NOON, AUTUMN_SAT_NOON])
def test_a_day_and_a_night_shift_leave_no_gap_and_no_overlap_across_a_clock_change(
    saturday_noon: datetime,
):
    r = rota(NIGHTS, DAYS)
    holders = [tuple(on_call(r, saturday_noon + i * M)) for i in range(24 * 60)]
    assert {h for h in holders if len(h) != 1} == set()
    day_minutes = sum(h == ("insp-day",) for h in holders)
    night_minutes = sum(h == ("insp-night",) for h in holders)
    assert day_minutes + night_minutes == len(holders)


# --- suite and force scopes ------------------------------------------------------------

GENERAL = Shift(ROLE, "insp-a")
NORTH_FORCE = Shift(ROLE, "insp-f", force="north")
SUITE_A = Shift(ROLE, "insp-s", suite="suite-a")
SUITE_A_NORTH = Shift(ROLE, "insp-sf", suite="suite-a", force="north")


@pytest.mark.parametrize(
    ("suite", "force", "expected"),
    [
        ("suite-b", "south", ["insp-a"]),
        (None, None, ["insp-a"]),
        ("suite-b", "north", ["insp-f"]),
        ("suite-a", None, ["insp-s"]),
        ("suite-a", "south", ["insp-s"]),
    ],
)
def test_a_suite_entry_beats_a_force_entry_which_beats_a_general_one(
    suite: str | None, force: str | None, expected: list[str]
):
    r = rota(GENERAL, NORTH_FORCE, SUITE_A)
    assert on_call(r, MON_JAN, suite=suite, force=force) == expected


def test_an_entry_for_both_suite_and_force_beats_one_for_the_suite_alone():
    r = rota(GENERAL, NORTH_FORCE, SUITE_A, SUITE_A_NORTH)
    assert on_call(r, MON_JAN, suite="suite-a", force="north") == ["insp-sf"]
    assert on_call(r, MON_JAN, suite="suite-a", force="south") == ["insp-s"]


def test_a_specific_entry_off_shift_leaves_the_general_one_on_call():
    suite_days = Shift(ROLE, "insp-s", suite="suite-a", start=time(9, 0), end=time(17, 0))
    r = rota(GENERAL, suite_days)
    assert on_call(r, datetime(2026, 1, 12, 10, 0, tzinfo=UTC), suite="suite-a") == ["insp-s"]
    assert on_call(r, datetime(2026, 1, 12, 20, 0, tzinfo=UTC), suite="suite-a") == ["insp-a"]


# --- dated overrides -------------------------------------------------------------------

COVER_FROM = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
COVER_UNTIL = datetime(2026, 2, 4, 8, 0, tzinfo=UTC)
COVER = Shift(ROLE, "insp-c", override_from=COVER_FROM, override_until=COVER_UNTIL)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (COVER_FROM - S, ["insp-a"]),
        (COVER_FROM, ["insp-c"]),
        (COVER_FROM + 24 * 60 * M, ["insp-c"]),
        (COVER_UNTIL - S, ["insp-c"]),
        (COVER_UNTIL, ["insp-a"]),
    ],
)
def test_a_dated_override_replaces_the_shifts_only_within_its_start_and_end(
    at: datetime, expected: list[str]
):
    assert on_call(rota(GENERAL, COVER), at) == expected


def test_a_dated_override_replaces_a_more_specific_shift_and_an_hourly_one_while_it_applies():
    r = rota(OFFICE, SUITE_A, COVER)
    assert on_call(r, COVER_FROM + 2 * 60 * M, suite="suite-a") == ["insp-c"]  # Mon 10:00
    assert on_call(r, COVER_UNTIL + 2 * 60 * M, suite="suite-a") == ["insp-s"]  # Wed 10:00
    assert on_call(r, COVER_UNTIL + 2 * 60 * M) == ["insp-day"]


def test_an_override_for_one_suite_does_not_apply_to_another():
    suite_cover = Shift(
        ROLE,
        "insp-c",
        suite="suite-a",
        override_from=COVER_FROM,
        override_until=COVER_UNTIL,
    )
    r = rota(GENERAL, suite_cover)
    during = COVER_FROM + 60 * M
    assert on_call(r, during, suite="suite-a") == ["insp-c"]
    assert on_call(r, during, suite="suite-b") == ["insp-a"]
