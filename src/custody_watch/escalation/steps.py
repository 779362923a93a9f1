"""The escalation ladder as a pure function.

Timing (``shared/spec/cli.md``, "Escalation timing"):

1. Level 1 is notified when an alert opens, and again when its severity rises.
2. Level k+1 is notified when level k's ``wait`` has passed without an acknowledgement.
3. After the last level, the last level is notified again after its ``wait`` (or
   ``repeat_every`` if it has none), then every ``repeat_every``, until acknowledged.
4. An acknowledgement stops the ladder; when it times out while the alert is still live, the
   alert returns to ``open`` and the ladder starts again at level 1.

``position`` counts notifications made on the ladder since it (re)started: 0 is level 1, and
positions past the last level are repeats of the last level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from custody_watch.escalation.ladders import Ladder


@dataclass(frozen=True, slots=True)
class Notify:
    """Notify ``level`` (0-based) now; the next step falls due at ``next_at`` (None: never)."""

    level: int
    position: int
    next_at: datetime | None
    reason: str


def start(ladder: Ladder, now: datetime, reason: str) -> Notify:
    """The first step of a (re)started ladder: level 1, now."""
    return Notify(0, 0, _after(ladder, 0, now), reason)


def step(ladder: Ladder, position: int, due_at: datetime) -> Notify:
    """The step that falls due at ``due_at`` after ``position`` was notified."""
    nxt = position + 1
    level = min(nxt, ladder.last)
    if nxt <= ladder.last:
        reason = f"no acknowledgement: escalated to level {level + 1}"
    else:
        reason = f"no acknowledgement: level {level + 1} notified again"
    return Notify(level, nxt, _after(ladder, nxt, due_at), reason)


def catch_up(ladder: Ladder, position: int, due_at: datetime, now: datetime) -> list[Notify]:
    """Every step due by ``now`` (after a restart or a long pause), in order.

    Each step is timed from the previous one's due time, not from ``now``, so the ladder's
    timetable survives a restart; a caller notifies each distinct level once."""
    steps: list[Notify] = []
    at: datetime | None = due_at
    while at is not None and at <= now and len(steps) < 1000:
        current = step(ladder, position, at)
        steps.append(current)
        position, at = current.position, current.next_at
    return steps


def _after(ladder: Ladder, position: int, at: datetime) -> datetime | None:
    gap = _gap(ladder, position)
    return None if gap is None else at + gap


def _gap(ladder: Ladder, position: int) -> timedelta | None:
    if position < ladder.last:
        # A level without a wait hands on at once: both levels are told together.
        return ladder.levels[position].wait or timedelta(0)
    if position == ladder.last:
        return ladder.levels[-1].wait or ladder.repeat_every
    return ladder.repeat_every or ladder.levels[-1].wait
