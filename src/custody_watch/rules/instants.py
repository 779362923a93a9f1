"""Instant arithmetic that cannot overflow.

A rule adds thresholds to recorded times. Near the ends of what ``datetime`` can hold (a
record dated 9999, a prior detention of five billion minutes, a threshold of a million
days) plain ``+`` raises ``OverflowError``, and one such record would stop the rules for
everyone. Instead an instant beyond the future end is ``NEVER`` (a threshold that will not
be reached: no finding, no wake-up), and one beyond the past end is ``LONG_AGO`` (a limit
that ran out before any time we can name: reached, so the finding is raised now).

``LONG_AGO`` is a day after ``datetime.min`` so that showing it in a local time zone west
of UTC (London's 1847 local mean time is 75 seconds behind) cannot overflow either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NEVER = datetime.max.replace(tzinfo=UTC)
LONG_AGO = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)


def later(at: datetime, by: timedelta) -> datetime:
    """``at + by``, within [LONG_AGO, NEVER]; NEVER stays NEVER."""
    if at >= NEVER:
        return NEVER
    try:
        moved = at + by
    except OverflowError:
        return NEVER if by > timedelta(0) else LONG_AGO
    return max(moved, LONG_AGO)


def earlier(at: datetime, by: timedelta) -> datetime:
    """``at - by``, within [LONG_AGO, NEVER]; NEVER stays NEVER."""
    if at >= NEVER:
        return NEVER
    try:
        moved = at - by
    except OverflowError:
        return LONG_AGO if by > timedelta(0) else NEVER
    return max(moved, LONG_AGO)


def minutes(count: float) -> timedelta:
    """``count`` minutes; a count too large for a timedelta is the largest one (anything
    that long puts a limit before any instant we can name)."""
    try:
        return timedelta(minutes=count)
    except OverflowError:
        return timedelta.max if count > 0 else timedelta.min
