"""Every v1 rule over one detention as of one instant: pure, deterministic, no I/O.

``assess`` is the one entry point. It returns the active findings and the next instant at
which they could change without any new data arriving (a threshold, or a recorded event time
that is still in the future), so a daemon can wake exactly then instead of polling.

Each rule runs on its own: a rule that raises on one record (a bug, a value no rule
foresaw) gives no finding and is named in ``Evaluation.failed``, and every other rule still
gives its findings, so one broken rule never hides the rest of a child's alerts. What to do
about a failure (tell operations) is the caller's business; the engine stays pure."""

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
class RuleFailure:
    """A rule that raised for one record: its id and the error, as ``Class: message``."""

    rule: str
    error: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[Finding, ...]
    next_change: datetime | None
    # Rules that could not be evaluated for this record (empty when all ran).
    failed: tuple[RuleFailure, ...] = ()


def assess(detention: Detention, policy: Policy, now: datetime) -> Evaluation:
    wake = _future_event_times(detention, now)
    try:
        facts = Facts.of(detention, policy, now)
        in_custody = facts.in_custody
    except Exception as exc:
        # Without the shared facts no rule can run: every rule that could apply has failed.
        return Evaluation((), min(wake, default=None), tuple(_failed(r.id, exc) for r in RULES))
    if not in_custody:
        return Evaluation((), min(wake, default=None))
    findings = []
    failed = []
    for rule in _rules_for(facts, policy):
        try:
            assessment = rule.check(facts, policy)
            if assessment is None:
                continue
            finding = assessment.finding(detention.custody_ref, rule.id, now)
            upcoming = assessment.next_step(now)
        except Exception as exc:  # one rule's failure must not hide the others' findings
            failed.append(_failed(rule.id, exc))
            continue
        if finding is not None:
            findings.append(finding)
        if upcoming is not None:
            wake.append(upcoming)
    return Evaluation(tuple(findings), min(wake, default=None), tuple(failed))


def _failed(rule: str, exc: Exception) -> RuleFailure:
    message = str(exc).strip().splitlines()
    return RuleFailure(
        rule, f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    )


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
