"""A finding's words and limit as of the moment a message is sent.

A finding's ``detail`` is stored when it is raised ("held 7h since arrival"); a page that
goes out later (a repeat, an escalation) must say what is true when it is read. So the rules
that raised an alert's findings are asked again, as of the send, for their detail and for
the instant of their top threshold (the limit: "PACE limit 21:30"). Pure: no store, no clock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from custody_watch.domain import Detention
from custody_watch.rules.engine import RULES
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import NEVER
from custody_watch.rules.policy import Policy


@dataclass(frozen=True, slots=True)
class Fresh:
    detail: str
    # When the rule reaches its highest severity (the statutory limit for the time rules);
    # None when it never will without new data.
    limit: datetime | None


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
            top = max(assessment.steps, key=lambda step: step[0].rank)[1]
            out[rule.id] = Fresh(assessment.detail(*reached), top if top < NEVER else None)
        except Exception:  # one rule's failure keeps only that rule's stored detail
            continue
    return out
