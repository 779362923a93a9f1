"""PACE time limits: detention without charge (ss.41-44), reviews (s.40), and the age of
criminal responsibility (CYPA 1933 s.50)."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import PACE_BASES, Severity
from custody_watch.rules import describe
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts, authorised_time, relevant_time
from custody_watch.rules.instants import earlier, later, minutes
from custody_watch.rules.policy import Policy
from custody_watch.times import format_local


def pace_limit(facts: Facts, policy: Policy) -> Assessment | None:
    """Pre-charge detention limit L from the strongest authority that counts as of now."""
    d = facts.detention
    if d.legal_basis not in PACE_BASES or facts.charged:
        return None
    rules = policy.pace_limit
    rt = relevant_time(d)
    served = minutes(d.prior_detention_minutes)
    if facts.counts(d.warrant_time, d.warrant_until):
        assert d.warrant_until is not None
        limit = min(d.warrant_until, earlier(later(rt, rules.warrant_cap), served))
        authority = "warrant"
    elif facts.counts(d.superintendent_extension_time, d.superintendent_extension_until):
        assert d.superintendent_extension_until is not None
        limit = min(
            d.superintendent_extension_until, earlier(later(rt, rules.extension_cap), served)
        )
        authority = "superintendent extension"
    else:
        limit, authority = earlier(later(rt, rules.basic_limit), served), "24h limit"

    def detail(_severity: Severity, _since: datetime) -> str:
        context = f"RT {format_local(rt, policy.zone)}; {authority}"
        if served:
            context += f"; {d.prior_detention_minutes} min already served"
        return f"{describe.deadline('PACE limit', limit, facts.now, policy.zone)}, {context}"

    return Assessment(
        (
            (Severity.WARNING, earlier(limit, rules.warning_before)),
            (Severity.HIGH, earlier(limit, rules.high_before)),
            (Severity.CRITICAL, limit),
        ),
        detail,
    )


def review_overdue(facts: Facts, policy: Policy) -> Assessment | None:
    """Next review due 6h after authorisation, then 9h after the latest review."""
    d = facts.detention
    if d.legal_basis not in PACE_BASES:
        return None
    rules = policy.review_overdue
    latest = facts.latest_review()
    if latest is None:
        due, basis = later(authorised_time(d), rules.first_review_after), "first review"
    else:
        due, basis = later(latest, rules.review_interval), "next review"

    def detail(_severity: Severity, _since: datetime) -> str:
        return describe.deadline(f"PACE {basis}", due, facts.now, policy.zone)

    return Assessment(
        (
            (Severity.WARNING, earlier(due, rules.warning_before)),
            (Severity.HIGH, due),
            (Severity.CRITICAL, later(due, rules.critical_after)),
        ),
        detail,
    )


def age_below_criminal_responsibility(facts: Facts, policy: Policy) -> Assessment | None:
    d = facts.detention
    if d.legal_basis not in PACE_BASES or not facts.known_age_below(10):
        return None
    return single(
        Severity.CRITICAL,
        d.arrival_time,
        f"aged {facts.age}, below the age of criminal responsibility (10), detained under "
        f"{d.legal_basis.value} since {format_local(d.arrival_time, policy.zone)}",
    )
