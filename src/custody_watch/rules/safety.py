"""Places of safety (Mental Health Act 1983 ss.135-136B) and police protection (Children Act
1989 s.46)."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import PLACE_OF_SAFETY_BASES, LegalBasis, Severity
from custody_watch.rules import describe
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import earlier, later
from custody_watch.rules.policy import Policy
from custody_watch.times import format_local


def place_of_safety_child(facts: Facts, policy: Policy) -> Assessment | None:
    """MHA s.136A: a child may never be kept at a police station as a place of safety."""
    d = facts.detention
    if d.legal_basis not in PLACE_OF_SAFETY_BASES:
        return None
    return single(
        Severity.CRITICAL,
        d.arrival_time,
        f"child held at a police station as a place of safety ({d.legal_basis.value}) since "
        f"{format_local(d.arrival_time, policy.zone)}; not allowed since 11 Dec 2017",
    )


def place_of_safety_limit(facts: Facts, policy: Policy) -> Assessment | None:
    """MHA s.136(2A) 24h from arrival, extendable under s.136B to at most 36h."""
    d = facts.detention
    if d.legal_basis not in PLACE_OF_SAFETY_BASES:
        return None
    rules = policy.place_of_safety_limit
    limit = later(d.arrival_time, rules.limit)
    if facts.counts(d.mha_extension_time, d.mha_extension_until):
        assert d.mha_extension_until is not None
        limit = min(d.mha_extension_until, later(d.arrival_time, rules.extension_cap))

    def detail(_severity: Severity, _since: datetime) -> str:
        return describe.deadline("place-of-safety limit", limit, facts.now, policy.zone)

    return Assessment(
        ((Severity.WARNING, earlier(limit, rules.warning_before)), (Severity.CRITICAL, limit)),
        detail,
    )


def police_protection_at_station(facts: Facts, policy: Policy) -> Assessment | None:
    """A police station is not suitable accommodation for a child in police protection."""
    d = facts.detention
    if d.legal_basis is not LegalBasis.POLICE_PROTECTION:
        return None

    def detail(_severity: Severity, _since: datetime) -> str:
        where = describe.held_for(d.arrival_time, facts.now, policy.zone)
        return f"child in police protection at a police station, {where}"

    return Assessment(
        (
            (Severity.HIGH, d.arrival_time),
            (
                Severity.CRITICAL,
                later(d.arrival_time, policy.police_protection_at_station.critical_after),
            ),
        ),
        detail,
    )


def police_protection_limit(facts: Facts, policy: Policy) -> Assessment | None:
    """Children Act 1989 s.46(6): police protection lasts at most 72 hours."""
    d = facts.detention
    if d.legal_basis is not LegalBasis.POLICE_PROTECTION:
        return None
    rules = policy.police_protection_limit
    start = d.police_protection_start or d.arrival_time

    def detail(_severity: Severity, _since: datetime) -> str:
        return describe.deadline(
            "police-protection limit", later(start, rules.critical_after), facts.now, policy.zone
        )

    return Assessment(
        (
            (Severity.WARNING, later(start, rules.warning_after)),
            (Severity.HIGH, later(start, rules.high_after)),
            (Severity.CRITICAL, later(start, rules.critical_after)),
        ),
        detail,
    )
