"""Shared helpers for the rules tests: instants, a default record, and reading findings.

Everything here is plain Python so that hypothesis tests (which cannot take function-scoped
fixtures) and ordinary tests build records the same way. ``conftest.py`` exposes
``make_detention`` as a fixture on top of ``build_detention``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custody_watch.domain import Detention, Finding, LegalBasis, Severity
from custody_watch.rules import People, Policy, evaluate

LONDON = ZoneInfo("Europe/London")

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
DAY = timedelta(days=1)

WARNING = Severity.WARNING
HIGH = Severity.HIGH
CRITICAL = Severity.CRITICAL

CHILDREN_ONLY = Policy()
EVERYONE = Policy(people=People.ALL)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    """A Europe/London wall-clock time, returned as the UTC instant the engine works with."""
    wall = datetime(year, month, day, hour, minute, tzinfo=LONDON, fold=fold)
    return wall.astimezone(UTC)


# A Wednesday in January at 10:00 GMT: daytime, far from any clock change, so the only rules
# that fire in the first hours are the ones a test is about.
ARRIVAL = utc(2026, 1, 14, 10, 0)
# Fifteen on the day of ARRIVAL (and for months either side of it).
DOB_15 = date(2010, 6, 1)
DOB_ADULT = date(1990, 3, 3)

PACE_BASES = (LegalBasis.PACE_ARREST, LegalBasis.BAIL_RETURN, LegalBasis.WARRANT)
NON_PACE_BASES = tuple(basis for basis in LegalBasis if basis not in PACE_BASES)
PLACE_OF_SAFETY_BASES = (LegalBasis.MHA_S136, LegalBasis.MHA_S135)

# The severities each rule may report (RULES.md, table).
DOCUMENTED_SEVERITIES: dict[str, frozenset[Severity]] = {
    "pace_limit": frozenset({WARNING, HIGH, CRITICAL}),
    "review_overdue": frozenset({WARNING, HIGH, CRITICAL}),
    "child_detention_duration": frozenset({WARNING, HIGH, CRITICAL}),
    "post_charge_transfer": frozenset({HIGH, CRITICAL}),
    "invalid_s38_certificate": frozenset({CRITICAL}),
    "place_of_safety_child": frozenset({CRITICAL}),
    "place_of_safety_limit": frozenset({WARNING, CRITICAL}),
    "police_protection_at_station": frozenset({HIGH, CRITICAL}),
    "police_protection_limit": frozenset({WARNING, HIGH, CRITICAL}),
    "appropriate_adult": frozenset({WARNING, HIGH}),
    "child_overnight": frozenset({WARNING, HIGH}),
    "age_below_criminal_responsibility": frozenset({CRITICAL}),
    "missing_dob": frozenset({WARNING}),
    "welfare_not_informed": frozenset({WARNING, HIGH}),
    "interview_without_aa": frozenset({HIGH, CRITICAL}),
    "strip_search_without_aa": frozenset({HIGH, CRITICAL}),
    "child_in_cell": frozenset({HIGH}),
    "child_with_adult_in_cell": frozenset({CRITICAL}),
    "cell_visit_overdue": frozenset({WARNING, HIGH}),
    "court_production_overdue": frozenset({HIGH, CRITICAL}),
    "repeat_detention": frozenset({WARNING}),
    "referral_missing": frozenset({Severity.INFO}),
}
ADULT_RULES = frozenset({"pace_limit", "review_overdue", "place_of_safety_limit"})

State = tuple[Severity, datetime]


def build_detention(**overrides: Any) -> Detention:
    """A 15-year-old arrested under PACE who arrived at ARRIVAL; override any field."""
    fields: dict[str, Any] = {
        "custody_ref": "C-1",
        "suite": "S1",
        "arrival_time": ARRIVAL,
        "date_of_birth": DOB_15,
        "legal_basis": LegalBasis.PACE_ARREST,
    }
    fields.update(overrides)
    return Detention(**fields)


def born_years_before(years: int, on: datetime) -> date:
    """A date of birth that makes someone exactly ``years`` old on the local date of ``on``
    (their birthday is that very day)."""
    local = on.astimezone(LONDON).date()
    return local.replace(year=local.year - years)


def state(
    detention: Detention, rule: str, now: datetime, policy: Policy = CHILDREN_ONLY
) -> State | None:
    """(severity, since) of ``rule``'s finding for ``detention`` as of ``now``, or None."""
    found = [f for f in evaluate(detention, policy, now) if f.rule == rule]
    assert len(found) <= 1, f"{rule} reported more than once: {found}"
    return (found[0].severity, found[0].since) if found else None


def states(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY) -> dict[str, State]:
    """Every active finding as {rule: (severity, since)}."""
    return {f.rule: (f.severity, f.since) for f in evaluate(detention, policy, now)}


def rules_of(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


def ladder(*steps: tuple[str, datetime, Severity], start: State | None = None) -> list[Any]:
    """Parameters (now, expected) one second before, exactly at and one second after each
    threshold of a severity ladder. ``steps`` are (label, threshold, severity) in order;
    before the first threshold the expected state is ``start``."""
    cases = []
    previous = start
    for label, at, severity in steps:
        reached = (severity, at)
        cases += [
            pytest.param(at - S, previous, id=f"1s-before-{label}"),
            pytest.param(at, reached, id=f"at-{label}"),
            pytest.param(at + S, reached, id=f"1s-after-{label}"),
        ]
        previous = reached
    return cases
