"""PACE s.46 (RULES.md, v2): a charged child kept in custody goes before the court at its
first sitting."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import Severity
from custody_watch.rules import describe
from custody_watch.rules.assessment import Assessment
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import later
from custody_watch.rules.policy import Policy


def court_production_overdue(facts: Facts, policy: Policy) -> Assessment | None:
    """Charged, with the first sitting recorded (``court_due_time``, used as given: it is a
    date set in advance, not an event): ``high`` from that sitting, ``critical`` 4h on."""
    d = facts.detention
    due = d.court_due_time
    if due is None or not facts.charged:
        return None

    def detail(_severity: Severity, _since: datetime) -> str:
        sitting = describe.deadline("court sitting", due, facts.now, policy.zone)
        return f"charged and still held: {sitting}"

    return Assessment(
        (
            (Severity.HIGH, due),
            (Severity.CRITICAL, later(due, policy.court_production_overdue.critical_after)),
        ),
        detail,
    )
