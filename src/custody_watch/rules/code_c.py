"""PACE Code C duties to a child that v1 did not watch (RULES.md, v2): the person responsible
for the child's welfare told of the arrest, no interview and no strip search without the
appropriate adult.

Words here reach SMS (the lead finding's detail): they never say whether a child is looked
after, and never name anyone."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import PACE_BASES, Severity
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import later
from custody_watch.rules.policy import Policy
from custody_watch.times import format_duration, format_local


def welfare_not_informed(facts: Facts, policy: Policy) -> Assessment | None:
    """Code C 3.13 (CA 1989 s.46(3)-(4) for police protection): the person responsible for
    the child's welfare told of the arrest as soon as practicable. Fires on an absence, so
    only where the feed carries the field (Precise reading 15)."""
    d = facts.detention
    if not d.carries("welfare_person_informed_time") or facts.reached(
        d.welfare_person_informed_time
    ):
        return None
    rules = policy.welfare_not_informed

    def detail(_severity: Severity, _since: datetime) -> str:
        waited = format_duration(facts.now - d.arrival_time)
        return f"person responsible for the child's welfare not told after {waited} in custody"

    return Assessment(
        (
            (Severity.WARNING, later(d.arrival_time, rules.warning_after)),
            (Severity.HIGH, later(d.arrival_time, rules.high_after)),
        ),
        detail,
    )


def interview_without_aa(facts: Facts, policy: Policy) -> Assessment | None:
    """Code C 11.15: no interview of a child without the appropriate adult; 11.18: unless a
    superintendent authorised an urgent one. An adult who arrives later does not undo an
    interview already held (Precise reading 14)."""
    d = facts.detention
    if d.legal_basis not in PACE_BASES:
        return None
    alone = _without_adult(facts, facts.so_far(d.interview_times))
    if not alone:
        return None
    urgent = d.urgent_interview_authorised_time
    unauthorised = [at for at in alone if urgent is None or urgent > at]
    steps: list[tuple[Severity, datetime]] = [(Severity.HIGH, alone[0])]
    if unauthorised:
        steps.append((Severity.CRITICAL, unauthorised[0]))

    def detail(severity: Severity, since: datetime) -> str:
        at = format_local(since, policy.zone, with_date=False)
        if severity is Severity.CRITICAL:
            return f"interviewed without an appropriate adult at {at}"
        return f"interviewed without an appropriate adult at {at} (urgent interview authorised)"

    return Assessment(tuple(steps), detail)


def strip_search_without_aa(facts: Facts, policy: Policy) -> Assessment | None:
    """Code C Annex A para 11(c): a child is strip-searched only with the appropriate adult
    present, unless urgency (risk of serious harm) is recorded."""
    d = facts.detention
    alone = _without_adult(facts, facts.so_far(d.strip_search_times))
    if not alone:
        return None
    at = format_local(alone[0], policy.zone, with_date=False)
    if d.strip_search_urgent:
        return single(
            Severity.HIGH,
            alone[0],
            f"strip-searched without an appropriate adult at {at} (urgency recorded)",
        )
    return single(
        Severity.CRITICAL, alone[0], f"strip-searched without an appropriate adult at {at}"
    )


def _without_adult(facts: Facts, times: tuple[datetime, ...]) -> list[datetime]:
    """Those of ``times`` (already reached) with no appropriate adult arrived at or before
    them, earliest first."""
    arrived = facts.detention.appropriate_adult_arrived_time
    return sorted(at for at in times if arrived is None or arrived > at)
