"""A finding's words and limit as of the moment a message is sent.

A finding's ``detail`` is stored when it is raised ("held 7h since arrival"); a page that
goes out later (a repeat, an escalation) must say what is true when it is read. So the rules
that raised an alert's findings are asked again, as of the send, for their detail and for
their limit ("PACE limit 21:30", ``limit_of``). Pure: no store, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from custody_watch.alerts.snooze import is_breach
from custody_watch.domain import Detention, Severity
from custody_watch.rules.engine import RULES
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import NEVER
from custody_watch.rules.policy import Policy


@dataclass(frozen=True, slots=True)
class Fresh:
    detail: str
    # When the law is broken (a statutory breach), else when the rule reaches its highest
    # severity (``limit_of``); None when it never will without new data.
    limit: datetime | None


def limit_of(rule: str, steps: Sequence[tuple[Severity, datetime]]) -> datetime | None:
    """The instant a message calls the rule's limit: when the law is broken (the first step
    that is a statutory breach: a PACE review at its due time, a PACE limit at its critical
    step), else the rule's top step; None when it never comes."""
    breach = [at for severity, at in steps if is_breach(rule, severity.value)]
    at = min(breach) if breach else max(steps, key=lambda step: step[0].rank)[1]
    return at if at < NEVER else None


def fresh_findings(
    detention: Detention, policy: Policy, now: datetime, rules: Collection[str]
) -> dict[str, Fresh]:
    """Rule id -> its detail and limit as of ``now``, for the named rules that still hold.

    A rule that fails here is left out: the caller keeps the stored detail, since a message
    about a child must go out even when one rule cannot be asked again."""
    try:
        facts = Facts.of(detention, policy, now)
    except Exception:  # the same breadth as the engine: no facts, nothing fresh to say
        return {}
    out: dict[str, Fresh] = {}
    for rule in RULES:
        if rule.id not in rules:
            continue
        try:
            assessment = rule.check(facts, policy)
            if assessment is None:
                continue
            reached = assessment.reached(now)
            if reached is None:
                continue
            out[rule.id] = Fresh(assessment.detail(*reached), limit_of(rule.id, assessment.steps))
        except Exception:  # one rule's failure keeps only that rule's stored detail
            continue
    return out
