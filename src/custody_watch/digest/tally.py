"""The figures of one group (all, a suite, a force) for one window, in the contract's shape,
and the measures they are made of.

- Durations are whole minutes rounded down. ``median`` and ``p90`` are nearest-rank: the
  value at rank ceil(p*n) of the sorted values (p = 1/2, 9/10), ``null`` when there are none."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from custody_watch.domain import Detention

SEVERITIES = ("warning", "high", "critical")
# The supervisors' case review grades, on the inspection's own scale (RULES.md, Digest (v2)).
GRADES = ("good", "requires_improvement", "inadequate")
AGE_BANDS = ("under_10", "10_11", "12_13", "14_15", "16_17", "unknown")
NO_FORCE = "(no force given)"


def nearest_rank(values: Sequence[int], numerator: int, denominator: int) -> int | None:
    """The value at rank ceil(n * numerator / denominator) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * numerator // denominator))
    return ordered[rank - 1]


def whole_minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 10:
        return "under_10"
    low = age - age % 2
    return f"{low}_{low + 1}"


def json_number(value: float) -> float | int:
    """Rounded to two places; an int when that is whole."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


@dataclass(slots=True)
class Tally:
    """The figures of one group (all, a suite, a force) for one window."""

    in_custody: int = 0
    arrived: int = 0
    overnight: int = 0
    overnight_before_charge: int = 0
    overnight_after_charge: int = 0
    released_minutes: list[int] = field(default_factory=list)
    refused_bail: int = 0
    transferred_la: int = 0
    certified: int = 0
    grounds: Counter[str] = field(default_factory=Counter)
    neither: int = 0
    place_of_safety_children: int = 0
    place_of_safety_adults: int = 0
    police_protection: int = 0
    over_8h: int = 0
    aa_delays: int = 0
    reviews_late: int = 0
    missing_dob: int = 0
    bands: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    alerts_total: int = 0
    never_acked: int = 0
    ack_minutes: list[int] = field(default_factory=list)
    delivery_failures: int = 0
    quarantined: int = 0
    # v2 (RULES.md, "Digest (v2)")
    looked_after: int = 0
    repeat_detention: int = 0
    released_without_referral: int = 0
    case_reviews: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        minutes = self.released_minutes
        return {
            # The contract's keys (shared/spec/cli.md), in its order.
            "children_in_custody": self.in_custody,
            "children_arrived": self.arrived,
            "children_held_overnight": self.overnight,
            "children_released": len(minutes),
            "time_in_custody_minutes": {
                "median": nearest_rank(minutes, 1, 2),
                "p90": nearest_rank(minutes, 9, 10),
                "max": max(minutes) if minutes else None,
            },
            "charged_refused_bail": self.refused_bail,
            "transferred_la": self.transferred_la,
            "certified": self.certified,
            "place_of_safety_children": self.place_of_safety_children,
            "police_protection_at_station": self.police_protection,
            "alerts_raised": {s: self.alerts[s] for s in SEVERITIES},
            "ack_minutes": {
                "median": nearest_rank(self.ack_minutes, 1, 2),
                "p90": nearest_rank(self.ack_minutes, 9, 10),
            },
            "quarantined_rows": self.quarantined,
            "looked_after_in_custody": self.looked_after,
            "repeat_detention_children": self.repeat_detention,
            "released_without_referral": self.released_without_referral,
            "case_reviews": {grade: self.case_reviews[grade] for grade in GRADES},
            # Extra figures.
            "age_bands": {band: self.bands[band] for band in AGE_BANDS},
            "children_held_over_8h": self.over_8h,
            "held_overnight_before_charge": self.overnight_before_charge,
            "held_overnight_after_charge": self.overnight_after_charge,
            "refused_bail_neither": self.neither,
            "certificate_grounds": {
                g: self.grounds[g] for g in ("impracticable", "no_secure_accommodation", "none")
            },
            "place_of_safety_adults": self.place_of_safety_adults,
            "appropriate_adult_delays": self.aa_delays,
            "reviews_late": self.reviews_late,
            "missing_dob": self.missing_dob,
            "alerts_total": self.alerts_total,
            "alerts_never_acknowledged": self.never_acked,
            "delivery_failures": self.delivery_failures,
        }


class Groups:
    """Tallies for the totals, each suite and each force."""

    def __init__(self, suite_forces: dict[str, str]) -> None:
        self.totals = Tally()
        self.suites: defaultdict[str, Tally] = defaultdict(Tally)
        self.forces: defaultdict[str, Tally] = defaultdict(Tally)
        self._suite_forces = suite_forces

    def of(self, suite: str | None, force: str | None) -> list[Tally]:
        tallies = [self.totals]
        if suite is not None:
            tallies.append(self.suites[suite])
            force = force or self._suite_forces.get(suite)
        if suite is not None or force is not None:
            tallies.append(self.forces[force or NO_FORCE])
        return tallies


def suite_forces(aged: Iterable[tuple[Detention, int | None]]) -> dict[str, str]:
    """Each suite's force (the first one given), for rows that name a suite but no force."""
    out: dict[str, str] = {}
    for detention, _age in aged:
        if detention.force and detention.suite not in out:
            out[detention.suite] = detention.force
    return out
