"""Short texts for people inside findings (``detail``). Local times, human durations."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from custody_watch.times import format_duration, format_local


def deadline(what: str, due: datetime, now: datetime, zone: tzinfo) -> str:
    """``PACE limit passed 1h ago (Sun 25 Oct 09:00 BST)`` or ``... due in 2h 30m (...)``."""
    when = format_local(due, zone)
    if due <= now:
        if now - due < timedelta(minutes=1):
            return f"{what} reached now ({when})"
        return f"{what} passed {format_duration(now - due)} ago ({when})"
    return f"{what} due in {format_duration(due - now)} ({when})"


def held_for(start: datetime, now: datetime, zone: tzinfo, since_what: str = "arrival") -> str:
    return f"held {format_duration(now - start)} since {since_what} at {format_local(start, zone)}"
