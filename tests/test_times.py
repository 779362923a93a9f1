"""times.py: reading instants and durations, Europe/London wall clocks, output forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custody_watch.times import (
    LONDON,
    TimeValueError,
    format_duration,
    format_duration_spec,
    format_local,
    format_relative,
    from_micros,
    local_date,
    localize,
    parse_duration,
    parse_instant,
    parse_time_of_day,
    parse_zone,
    to_micros,
    utc_z,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parse_instant ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-10T12:00:00Z", utc(2026, 6, 10, 12)),
        ("2026-06-10T12:00:00+01:00", utc(2026, 6, 10, 11)),
        ("2026-06-10T12:00:00-05:30", utc(2026, 6, 10, 17, 30)),
        ("2026-06-10T12:00:00+00:00", utc(2026, 6, 10, 12)),
        ("2026-10-25T01:30:00+01:00", utc(2026, 10, 25, 0, 30)),
        ("2026-10-25T01:30:00+00:00", utc(2026, 10, 25, 1, 30)),
        ("2026-06-10T12:00:00.5Z", utc(2026, 6, 10, 12, 0, 0, 500000)),
        ("2026-06-10T12:00:00.123Z", utc(2026, 6, 10, 12, 0, 0, 123000)),
        ("2026-06-10T12:00:00.123456+02:00", utc(2026, 6, 10, 10, 0, 0, 123456)),
        ("2026-06-10t12:00:00z", utc(2026, 6, 10, 12)),
        ("2026-06-10t12:00:00+01:00", utc(2026, 6, 10, 11)),
        ("  2026-06-10T12:00:00Z  ", utc(2026, 6, 10, 12)),
    ],
)
def test_an_rfc3339_time_is_read_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo is UTC


def test_an_offset_time_ignores_the_naive_zone() -> None:
    assert parse_instant("2026-06-10T12:00:00Z", LONDON) == utc(2026, 6, 10, 12)


def test_a_time_without_an_offset_is_rejected_saying_so() -> None:
    with pytest.raises(TimeValueError, match="no UTC offset"):
        parse_instant("2026-06-10T12:00:00")


def test_a_date_alone_has_no_offset_and_is_rejected() -> None:
    with pytest.raises(TimeValueError):
        parse_instant("2026-06-10")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-06-31T00:00:00Z",
        "2026-06-10T25:00:00Z",
        "2026-06-10T12:00:00+25:00",
        "12:00",
        "2026/06/10 12:00Z",
    ],
)
def test_text_that_is_not_a_time_is_rejected(text: str) -> None:
    with pytest.raises(TimeValueError):
        parse_instant(text)


def test_time_value_error_is_a_value_error() -> None:
    assert issubclass(TimeValueError, ValueError)


def test_a_naive_summer_time_is_read_as_bst() -> None:
    assert parse_instant("2026-06-10T12:00:00", LONDON) == utc(2026, 6, 10, 11)


def test_a_naive_winter_time_is_read_as_gmt() -> None:
    assert parse_instant("2026-12-10T12:00:00", LONDON) == utc(2026, 12, 10, 12)


def test_a_naive_time_in_the_skipped_hour_is_rejected() -> None:
    with pytest.raises(TimeValueError):
        parse_instant("2026-03-29T01:30:00", LONDON)


def test_a_naive_time_in_the_skipped_hour_is_rejected_saying_it_does_not_exist() -> None:
    with pytest.raises(TimeValueError, match="does not exist"):
        parse_instant("2026-03-29T01:30:00", LONDON)


def test_a_naive_time_in_the_doubled_hour_is_ambiguous() -> None:
    with pytest.raises(TimeValueError, match="ambiguous"):
        parse_instant("2026-10-25T01:30:00", LONDON)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_whose_utc_instant_is_out_of_range_is_a_time_value_error(text: str) -> None:
    with pytest.raises(TimeValueError):
        parse_instant(text)


# --- localize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (datetime(2026, 3, 29, 0, 59), utc(2026, 3, 29, 0, 59)),  # last GMT minute
        (datetime(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1, 0)),  # first BST minute
        (datetime(2026, 10, 25, 0, 59), utc(2026, 10, 24, 23, 59)),  # still BST
        (datetime(2026, 10, 25, 2, 0), utc(2026, 10, 25, 2, 0)),  # GMT again
        (datetime(2026, 1, 15, 9, 0), utc(2026, 1, 15, 9, 0)),
        (datetime(2026, 7, 15, 9, 0), utc(2026, 7, 15, 8, 0)),
    ],
)
def test_localize_attaches_the_london_offset_either_side_of_a_clock_change(
    wall: datetime, expected: datetime
) -> None:
    assert localize(wall, LONDON) == expected


@pytest.mark.parametrize(
    "wall",
    [
        datetime(2026, 3, 29, 1, 0),
        datetime(2026, 3, 29, 1, 30),
        datetime(2026, 3, 29, 1, 59),
        datetime(2027, 3, 28, 1, 15),
    ],
)
def test_localize_refuses_every_wall_time_in_the_spring_gap(wall: datetime) -> None:
    with pytest.raises(TimeValueError):
        localize(wall, LONDON)


@pytest.mark.parametrize("wall", [datetime(2026, 3, 29, 1, 0), datetime(2027, 3, 28, 1, 15)])
def test_localize_says_a_wall_time_in_the_spring_gap_does_not_exist(wall: datetime) -> None:
    with pytest.raises(TimeValueError, match="does not exist") as caught:
        localize(wall, LONDON)
    assert "ambiguous" not in str(caught.value)


@pytest.mark.parametrize(
    "wall",
    [
        datetime(2026, 10, 25, 1, 0),
        datetime(2026, 10, 25, 1, 30),
        datetime(2026, 10, 25, 1, 59),
        datetime(2027, 10, 31, 1, 15),
    ],
)
def test_localize_refuses_every_wall_time_in_the_autumn_overlap(wall: datetime) -> None:
    with pytest.raises(TimeValueError, match="ambiguous"):
        localize(wall, LONDON)


def test_the_autumn_error_does_not_claim_the_time_does_not_exist() -> None:
    with pytest.raises(TimeValueError) as caught:
        localize(datetime(2026, 10, 25, 1, 30), LONDON)
    assert "does not exist" not in str(caught.value)


def test_the_localize_errors_tell_people_to_give_an_offset() -> None:
    for wall in (datetime(2026, 3, 29, 1, 30), datetime(2026, 10, 25, 1, 30)):
        with pytest.raises(TimeValueError, match="offset"):
            localize(wall, LONDON)


def test_parse_zone_reads_a_known_zone_and_refuses_an_unknown_one() -> None:
    assert parse_zone("Europe/London") == LONDON
    with pytest.raises(TimeValueError, match="unknown time zone"):
        parse_zone("Mars/Olympus_Mons")
    with pytest.raises(TimeValueError):
        parse_zone("")


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("36h", timedelta(hours=36)),
        (" 2h ", timedelta(hours=2)),
        ("0s", timedelta(0)),
    ],
)
def test_a_duration_is_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "h",
        "2",
        "2 h",
        "2hours",
        "-2h",
        "1.5h",
        "30m1h",
        "2H",
        "1w",
        "1h 30m",
        "PT2H",
        "m15",
    ],
)
def test_a_bad_duration_is_rejected(text: str) -> None:
    with pytest.raises(TimeValueError, match="not a duration"):
        parse_duration(text)


def test_an_absurdly_long_duration_is_a_time_value_error() -> None:
    with pytest.raises(TimeValueError):
        parse_duration("9999999999d")


@pytest.mark.parametrize("spec", ["90s", "15m", "2h", "1d", "1h30m", "1d2h3m4s"])
def test_format_duration_spec_is_the_inverse_of_parse_duration(spec: str) -> None:
    assert parse_duration(format_duration_spec(parse_duration(spec))) == parse_duration(spec)


def test_format_duration_spec_writes_zero_as_0s() -> None:
    assert format_duration_spec(timedelta(0)) == "0s"
    assert format_duration_spec(timedelta(minutes=90)) == "1h30m"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(hours=23, minutes=10), "23h 10m"),
        (timedelta(hours=8), "8h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(0), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(days=2, hours=4), "2d 4h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=1, minutes=30), "1d"),
        (timedelta(hours=1, minutes=1, seconds=59), "1h 1m"),
        (-timedelta(hours=1), "1h"),
    ],
)
def test_format_duration_reads_like_people_write(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


def test_parse_time_of_day_reads_hours_and_minutes() -> None:
    assert parse_time_of_day("07:00").hour == 7
    assert parse_time_of_day("7:05").minute == 5
    for bad in ("24:00", "07:60", "0700", "7am", ""):
        with pytest.raises(TimeValueError):
            parse_time_of_day(bad)


# --- output forms -----------------------------------------------------------------------------


def test_utc_z_writes_utc_with_z_and_whole_seconds() -> None:
    assert utc_z(utc(2026, 10, 25, 9, 0, 0, 999999)) == "2026-10-25T09:00:00Z"
    bst = timezone(timedelta(hours=1))
    assert utc_z(datetime(2026, 6, 10, 0, 30, tzinfo=bst)) == "2026-06-09T23:30:00Z"
    assert utc_z(datetime(2026, 6, 10, 12, tzinfo=LONDON)) == "2026-06-10T11:00:00Z"


def test_format_local_names_the_day_the_date_and_bst_in_summer_gmt_in_winter() -> None:
    assert format_local(utc(2026, 10, 24, 8)) == "Sat 24 Oct 09:00 BST"
    assert format_local(utc(2026, 10, 25, 8)) == "Sun 25 Oct 08:00 GMT"
    assert format_local(utc(2026, 12, 3, 21, 30)) == "Thu 3 Dec 21:30 GMT"
    assert format_local(utc(2026, 6, 10, 12), with_date=False) == "13:00 BST"


def test_format_local_tells_apart_the_two_0130s_of_the_october_clock_change() -> None:
    # Last Sunday of October 2026: 01:00-02:00 local happens twice, BST then GMT.
    assert format_local(utc(2026, 10, 25, 0, 30)) == "Sun 25 Oct 01:30 BST"
    assert format_local(utc(2026, 10, 25, 1, 30)) == "Sun 25 Oct 01:30 GMT"


def test_format_local_skips_the_missing_hour_of_the_march_clock_change() -> None:
    # Last Sunday of March 2026: 01:00 GMT is followed by 02:00 BST.
    assert format_local(utc(2026, 3, 29, 0, 59)) == "Sun 29 Mar 00:59 GMT"
    assert format_local(utc(2026, 3, 29, 1, 0)) == "Sun 29 Mar 02:00 BST"


def test_format_local_puts_midnight_on_the_new_local_day() -> None:
    assert format_local(utc(2026, 12, 31, 23, 59)) == "Thu 31 Dec 23:59 GMT"
    assert format_local(utc(2027, 1, 1, 0, 0)) == "Fri 1 Jan 00:00 GMT"
    # In summer local midnight is 23:00 UTC the day before.
    assert format_local(utc(2026, 6, 9, 23, 0)) == "Wed 10 Jun 00:00 BST"


def test_format_local_shows_the_leap_day() -> None:
    assert format_local(utc(2028, 2, 29, 12)) == "Tue 29 Feb 12:00 GMT"
    assert format_local(utc(2028, 2, 29, 23, 59, 59)) == "Tue 29 Feb 23:59 GMT"


def test_format_local_falls_back_to_utc_at_the_end_of_the_calendar() -> None:
    an_hour_ahead = timezone(timedelta(hours=1))  # its local time would be in year 10000
    last = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    assert format_local(last, an_hour_ahead) == "Fri 31 Dec 23:30 UTC"


@pytest.mark.parametrize(
    ("at", "now", "expected"),
    [
        (utc(2026, 12, 3, 21, 30), utc(2026, 12, 3, 21, 10), "in 20m"),
        (utc(2026, 12, 3, 19, 0), utc(2026, 12, 3, 21, 10), "2h 10m ago"),
        (utc(2026, 12, 3, 21, 10, 30), utc(2026, 12, 3, 21, 10), "now"),
        (utc(2026, 12, 3, 21, 9, 30), utc(2026, 12, 3, 21, 10), "now"),
        (utc(2026, 12, 3, 21, 11), utc(2026, 12, 3, 21, 10), "in 1m"),
        (utc(2026, 6, 13, 9, 0), utc(2026, 12, 3, 9, 0), "173d ago"),
    ],
)
def test_format_relative_says_in_or_ago_or_now(at: datetime, now: datetime, expected: str) -> None:
    assert format_relative(at, now) == expected


def test_format_relative_counts_elapsed_time_across_the_clock_changes() -> None:
    # 00:30 local to 03:30 local on 29 March 2026 is 2 hours (one hour skipped) ...
    spring_start = datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
    spring_end = datetime(2026, 3, 29, 3, 30, tzinfo=LONDON)
    assert format_relative(spring_start, spring_end) == "2h ago"
    # ... and 00:30 to 03:30 local on 25 October 2026 is 4 hours (one hour twice).
    autumn_start = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)
    autumn_end = datetime(2026, 10, 25, 3, 30, tzinfo=LONDON)
    assert format_relative(autumn_end, autumn_start) == "in 4h"


def test_local_date_is_the_london_calendar_date() -> None:
    assert str(local_date(utc(2026, 6, 10, 23, 30))) == "2026-06-11"
    assert str(local_date(utc(2026, 12, 10, 23, 30))) == "2026-12-10"


def test_an_instant_as_microseconds_is_the_same_whatever_its_offset_and_reads_back_in_utc() -> None:
    utc = datetime(2026, 10, 25, 1, 30, 0, 5, tzinfo=UTC)  # the October clock change
    in_london = utc.astimezone(LONDON)
    assert to_micros(in_london) == to_micros(utc) == 1_792_891_800_000_005
    assert from_micros(to_micros(in_london)) == utc
    assert from_micros(to_micros(in_london)).tzinfo is UTC
