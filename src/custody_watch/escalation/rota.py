"""Who holds a role at an instant: shifts in local time, by force or suite, and dated
overrides (cover for sickness or leave), which replace the shifts while they apply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Shift:
    role: str
    person: str
    days: tuple[str, ...] | None = None  # None: every day
    start: time | None = None  # local; None with end None: all day
    end: time | None = None
    force: str | None = None
    suite: str | None = None
    override_from: datetime | None = None
    override_until: datetime | None = None

    @property
    def is_override(self) -> bool:
        return self.override_from is not None or self.override_until is not None


@dataclass(frozen=True, slots=True)
class Rota:
    shifts: tuple[Shift, ...]
    zone: tzinfo

    def roles(self) -> set[str]:
        return {shift.role for shift in self.shifts}

    def on_call(
        self, role: str, at: datetime, *, suite: str | None = None, force: str | None = None
    ) -> list[str]:
        """The people holding ``role`` at ``at``, most specific scope first: a suite's own
        rota beats its force's, which beats the general one."""
        candidates = [s for s in self.shifts if s.role == role and _covers(s, suite, force)]
        overrides = [s for s in candidates if s.is_override and _override_applies(s, at)]
        active = overrides or [
            s for s in candidates if not s.is_override and _shift_applies(s, at, self.zone)
        ]
        if not active:
            return []
        best = max(_specificity(s) for s in active)
        return _unique(s.person for s in active if _specificity(s) == best)


def _covers(shift: Shift, suite: str | None, force: str | None) -> bool:
    return (shift.suite is None or shift.suite == suite) and (
        shift.force is None or shift.force == force
    )


def _specificity(shift: Shift) -> int:
    return (2 if shift.suite else 0) + (1 if shift.force else 0)


def _override_applies(shift: Shift, at: datetime) -> bool:
    starts = shift.override_from is None or shift.override_from <= at
    ends = shift.override_until is None or at < shift.override_until
    return starts and ends


def _shift_applies(shift: Shift, at: datetime, zone: tzinfo) -> bool:
    local = at.astimezone(zone)
    today = DAY_NAMES[local.weekday()]
    yesterday = DAY_NAMES[(local - timedelta(days=1)).weekday()]
    days = shift.days or DAY_NAMES
    if shift.start is None or shift.end is None:
        return today in days
    wall = local.time()
    if shift.start < shift.end:
        return today in days and shift.start <= wall < shift.end
    # Across midnight: the shift belongs to the day it started on.
    return (today in days and wall >= shift.start) or (yesterday in days and wall < shift.end)


def _unique(people: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(people))
