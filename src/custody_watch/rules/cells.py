"""A child in a cell (RULES.md, v2): Code C 8.8 (no cell unless nothing else will do, and
never with a detained adult) and 9.3 with Note 9B (frequent visits)."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import Severity
from custody_watch.rules import describe
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import later
from custody_watch.rules.policy import Policy
from custody_watch.times import format_local


def child_in_cell(facts: Facts, policy: Policy) -> Assessment | None:
    """Code C 8.8: placed in a cell with none of the reasons that allow it recorded."""
    d = facts.detention
    if d.cell_time is None or not facts.reached(d.cell_time) or d.cell_reason is not None:
        return None
    at = format_local(d.cell_time, policy.zone, with_date=False)
    return single(Severity.HIGH, d.cell_time, f"placed in a cell at {at} with no reason recorded")


def child_with_adult_in_cell(facts: Facts, policy: Policy) -> Assessment | None:
    """Code C 8.8: never in a cell with a detained adult."""
    d = facts.detention
    if d.adult_in_cell_time is None or not facts.reached(d.adult_in_cell_time):
        return None
    at = format_local(d.adult_in_cell_time, policy.zone, with_date=False)
    return single(
        Severity.CRITICAL, d.adult_in_cell_time, f"a detained adult put in the child's cell at {at}"
    )


def cell_visit_overdue(facts: Facts, policy: Policy) -> Assessment | None:
    """Visits at least every 30 minutes (local policy under Note 9B), counted from the
    latest visit since the child was put in the cell, else from that placing."""
    d = facts.detention
    placed = d.cell_time
    if placed is None or not facts.reached(placed):
        return None
    rules = policy.cell_visit_overdue
    visits = [at for at in facts.so_far(d.cell_visit_times) if at >= placed]
    last = max(visits) if visits else placed
    due = later(last, rules.visit_interval)

    def detail(_severity: Severity, _since: datetime) -> str:
        since = format_local(last, policy.zone, with_date=False)
        what = f"last visit {since}" if visits else f"in a cell since {since}, not visited"
        return f"{describe.deadline('cell visit', due, facts.now, policy.zone)}; {what}"

    return Assessment(
        ((Severity.WARNING, due), (Severity.HIGH, later(due, rules.high_after))), detail
    )
