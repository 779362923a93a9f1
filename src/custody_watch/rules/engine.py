"""Every rule (v1 and v2) over one detention as of one instant: pure, deterministic, no I/O.

``assess`` is the one entry point. It returns the active findings and the next instant at
which they could change without any new data arriving (a threshold, or a recorded event time
that is still in the future), so a daemon can wake exactly then instead of polling.

Each rule runs on its own: a rule that raises on one record (a bug, a value no rule
foresaw) gives no finding and is named in ``Evaluation.failed``, and every other rule still
gives its findings, so one broken rule never hides the rest of a child's alerts. What to do
about a failure (tell operations) is the caller's business; the engine stays pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Detention, Finding
from custody_watch.rules import cells, children, code_c, court, inspection, pace, safety
from custody_watch.rules.assessment import Assessment
from custody_watch.rules.facts import Facts
from custody_watch.rules.policy import People, Policy

RuleFn = Callable[[Facts, Policy], Assessment | None]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: RuleFn
    child_only: bool = True
    # Runs for a released child instead of one in custody (referral_missing alone).
    after_release: bool = False


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
    # v2 (RULES.md, "v2 rules"): all for children only.
    Rule("welfare_not_informed", code_c.welfare_not_informed),
    Rule("interview_without_aa", code_c.interview_without_aa),
    Rule("strip_search_without_aa", code_c.strip_search_without_aa),
    Rule("child_in_cell", cells.child_in_cell),
    Rule("child_with_adult_in_cell", cells.child_with_adult_in_cell),
    Rule("cell_visit_overdue", cells.cell_visit_overdue),
    Rule("court_production_overdue", court.court_production_overdue),
    Rule("repeat_detention", inspection.repeat_detention),
    Rule("referral_missing", inspection.referral_missing, after_release=True),
)
RULE_IDS = tuple(rule.id for rule in RULES)
# Precise reading 12: a finding about a released child, for evaluate and the digest only.
NOT_ALERTED = frozenset(rule.id for rule in RULES if rule.after_release)


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


def assess(
    detention: Detention,
    policy: Policy,
    now: datetime,
    *,
    same_person_arrivals: Sequence[datetime] = (),
    wake_times: bool = True,
) -> Evaluation:
    """``same_person_arrivals``: the arrival times of the other records with this record's
    ``person_ref`` (one per custody_ref, this one excluded), for ``repeat_detention``; the
    caller finds them (the file for ``evaluate``, the store for the daemon).

    ``wake_times=False`` leaves out the recorded event times still to come from
    ``next_change`` (only the rules' own next steps count): ``evaluate`` over a file wants
    the findings alone, and looking at twenty times of every record cost a fifth of it."""
    wake = _future_event_times(detention, now) if wake_times else []
    try:
        facts = Facts.of(detention, policy, now, same_person_arrivals)
        in_custody = facts.in_custody
        released = facts.released
    except Exception as exc:
        # Without the shared facts no rule can run: every rule that could apply has failed.
        return Evaluation((), min(wake, default=None), tuple(_failed(r.id, exc) for r in RULES))
    if in_custody:
        rules = _rules_for(facts, policy)
    elif released and facts.is_child:
        rules = _after_release()
    else:
        return Evaluation((), min(wake, default=None))
    # The looked-after raise (RULES.md, v2) is for child-only rules; info is never raised.
    looked_after = policy.looked_after_raise and detention.looked_after
    findings = []
    failed = []
    for rule in rules:
        raise_ = looked_after and rule.child_only
        try:
            assessment = rule.check(facts, policy)
            if assessment is None:
                continue
            finding = assessment.finding(detention.custody_ref, rule.id, now, raise_=raise_)
            upcoming = assessment.next_step(now, raise_=raise_)
        except Exception as exc:  # one rule's failure must not hide the others' findings
            failed.append(_failed(rule.id, exc))
            continue
        if finding is not None:
            findings.append(finding)
        if upcoming is not None:
            wake.append(upcoming)
    return Evaluation(tuple(findings), min(wake, default=None), tuple(failed))


def may_find(
    arrival: datetime, released: datetime | None, is_child: bool, policy: Policy, now: datetime
) -> bool:
    """Whether ``assess`` can give a finding (or a failure) for a record that arrived and was
    released then, of a child or not (``Facts.is_child``: under 18 by ``facts.age_from``, or
    of unknown age): ``assess``'s own first test, for a caller that would rather not build a
    ``Detention`` for every record of a file when most have left custody, or not arrived, by
    ``now``."""
    if arrival <= now and (released is None or released > now):  # in custody
        return is_child or policy.people is People.ALL
    return released is not None and released <= now and is_child


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
    """The rules for a person in custody (RULES read here, not copied at import, so that
    the list is the one place rules are named)."""
    if facts.is_child:
        return tuple(rule for rule in RULES if not rule.after_release)
    if policy.people is People.ALL:
        return tuple(rule for rule in RULES if not rule.child_only and not rule.after_release)
    return ()


def _after_release() -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.after_release)


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
        d.welfare_person_informed_time,
        d.urgent_interview_authorised_time,
        d.cell_time,
        d.adult_in_cell_time,
        d.social_care_referral_time,
        *d.interview_times,
        *d.strip_search_times,
        *d.cell_visit_times,
    ]
    return [at for at in times if at is not None and at > now]
