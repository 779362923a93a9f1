"""Short texts for people inside findings (``detail``). Local times, human durations."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from custody_watch.times import human_duration, local_label


def deadline(what: str, due: datetime, now: datetime, zone: tzinfo) -> str:
    """``PACE limit passed 1h ago (09:00 BST, 25 Oct)`` or ``... due in 2h 30m (...)``."""
    when = local_label(due, zone)
    if due <= now:
        if now - due < timedelta(minutes=1):
            return f"{what} reached now ({when})"
        return f"{what} passed {human_duration(now - due)} ago ({when})"
    return f"{what} due in {human_duration(due - now)} ({when})"


def held_for(start: datetime, now: datetime, zone: tzinfo, since_what: str = "arrival") -> str:
    return f"held {human_duration(now - start)} since {since_what} at {local_label(start, zone)}"
