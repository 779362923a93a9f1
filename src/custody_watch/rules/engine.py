"""Every v1 rule over one detention as of one instant: pure, deterministic, no I/O.

``assess`` is the one entry point. It returns the active findings and the next instant at
which they could change without any new data arriving (a threshold, or a recorded event time
that is still in the future), so a daemon can wake exactly then instead of polling."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Detention, Finding
from custody_watch.rules import children, pace, safety
from custody_watch.rules.facts import Facts
from custody_watch.rules.ladder import Assessment
from custody_watch.rules.policy import People, Policy

RuleFn = Callable[[Facts, Policy], Assessment | None]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: RuleFn
    child_only: bool = True


# RULES.md, "Precise reading" 9: every rule but these three is for children only.
RULES: tuple[Rule, ...] = (
    Rule("pace_limit", pace.pace_limit, child_only=False),
    Rule("review_overdue", pace.review_overdue, child_only=False),
    Rule("child_detention_duration", children.child_detention_duration),
    Rule("post_charge_transfer", children.post_charge_transfer),
    Rule("invalid_s38_certificate", children.invalid_s38_certificate),
    Rule("place_of_safety_child", safety.place_of_safety_child),
    Rule("place_of_safety_limit", safety.place_of_safety_limit, child_only=False),
    Rule("police_protection_at_station", safety.police_protection_at_station),
    Rule("police_protection_limit", safety.police_protection_limit),
    Rule("appropriate_adult", children.appropriate_adult),
    Rule("child_overnight", children.child_overnight),
    Rule("age_below_criminal_responsibility", pace.age_below_criminal_responsibility),
    Rule("missing_dob", children.missing_dob),
)
RULE_IDS = tuple(rule.id for rule in RULES)


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[Finding, ...]
    next_change: datetime | None


def assess(detention: Detention, policy: Policy, now: datetime) -> Evaluation:
    facts = Facts.of(detention, policy, now)
    wake = _future_event_times(detention, now)
    if not facts.in_custody:
        return Evaluation((), min(wake, default=None))
    findings = []
    for rule in _rules_for(facts, policy):
        assessment = rule.check(facts, policy)
        if assessment is None:
            continue
        finding = assessment.finding(detention.custody_ref, rule.id, now)
        if finding is not None:
            findings.append(finding)
        upcoming = assessment.next_step(now)
        if upcoming is not None:
            wake.append(upcoming)
    return Evaluation(tuple(findings), min(wake, default=None))


def evaluate(detention: Detention, policy: Policy, now: datetime) -> list[Finding]:
    return list(assess(detention, policy, now).findings)


def evaluate_all(detentions: Iterable[Detention], policy: Policy, now: datetime) -> list[Finding]:
    """Findings for many detentions, in the contract's order."""
    found = [f for d in detentions for f in assess(d, policy, now).findings]
    return sorted(found, key=Finding.sort_key)


def _rules_for(facts: Facts, policy: Policy) -> tuple[Rule, ...]:
    if facts.is_child:
        return RULES
    if policy.people is People.ALL:
        return tuple(rule for rule in RULES if not rule.child_only)
    return ()


def _future_event_times(detention: Detention, now: datetime) -> list[datetime]:
    """Recorded times after ``now`` that will change what the rules see when reached."""
    d = detention
    times = [
        d.arrival_time,
        d.released_time,
        d.charged_time,
        d.bail_refused_time,
        d.la_accommodation_requested_time,
        d.s38_certificate_time,
        d.appropriate_adult_requested_time,
        d.appropriate_adult_arrived_time,
        d.superintendent_extension_time,
        d.warrant_time,
        d.mha_extension_time,
        *d.reviews,
    ]
    return [at for at in times if at is not None and at > now]
