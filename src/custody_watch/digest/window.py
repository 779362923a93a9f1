"""The digest's window and the local-time intervals inside it. Pure: no store, no clock.

The digest for date D covers ``[at on D-1, at on D)`` in local time (``[digest] at``,
07:00 by default): 24 hours on most days, 23 across the March clock change and 25 across the
October one. A wall-clock time that the clocks skip is read as the instant of the jump, and
one that happens twice as its first occurrence (``rules.children.first_instant_at``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from custody_watch.rules.children import first_instant_at

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Window:
    """``[start, end)`` in UTC: "in the window" means at or after start and before end."""

    day: date
    start: datetime
    end: datetime

    def contains(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def digest_window(day: date, at: time, zone: tzinfo) -> Window:
    """The window of the digest dated ``day``."""
    return Window(
        day=day,
        start=first_instant_at(day - ONE_DAY, at, zone),
        end=first_instant_at(day, at, zone),
    )


def due_instant(day: date, at: time, zone: tzinfo) -> datetime:
    """When the digest dated ``day`` is due: the end of its window."""
    return first_instant_at(day, at, zone)


def latest_due_day(now: datetime, at: time, zone: tzinfo) -> date:
    """The latest date whose digest is due at ``now`` (its window has ended)."""
    today = now.astimezone(zone).date()
    if due_instant(today, at, zone) <= now:
        return today
    return today - ONE_DAY


def overnight_intervals(
    start: datetime, end: datetime, zone: tzinfo, night_start: time, night_end: time
) -> list[tuple[datetime, datetime]]:
    """Every local "night" (``night_start`` included to ``night_end`` excluded, e.g.
    22:00-07:00, which wraps midnight) that meets ``[start, end)``, as UTC intervals."""
    if end <= start:
        return []
    wraps = night_start > night_end
    first = start.astimezone(zone).date() - ONE_DAY
    last = end.astimezone(zone).date()
    out: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        night_from = first_instant_at(day, night_start, zone)
        night_to = first_instant_at(day + ONE_DAY if wraps else day, night_end, zone)
        if night_from < end and night_to > start and night_from < night_to:
            out.append((night_from, night_to))
        day += ONE_DAY
    return out


def overlaps_any(
    start: datetime, end: datetime, intervals: list[tuple[datetime, datetime]]
) -> bool:
    """Whether ``[start, end)`` shares an instant with any of ``intervals``."""
    return any(max(start, s) < min(end, e) for s, e in intervals)
