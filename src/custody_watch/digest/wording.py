"""How the digest says things to a reader: local times, dates, durations and age bands."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from custody_watch.times import format_duration, format_local

AGE_LABELS = {
    "under_10": "under 10",
    "10_11": "10-11",
    "12_13": "12-13",
    "14_15": "14-15",
    "16_17": "16-17",
    "unknown": "age not known",
}


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def when(at: datetime, zone: tzinfo, *, with_date: bool = True) -> str:
    """``Wed 10 Jun 09:00 BST``: a local time for a reader, as everywhere else."""
    return format_local(at, zone, with_date=with_date)


def minutes_text(value: int | None) -> str:
    """A duration in whole minutes for a reader, ``-`` when there is none."""
    return "-" if value is None else format_duration(timedelta(minutes=value))
