"""May an alert be snoozed, and until when: a pure decision of (findings, request, now).

A snooze pauses paging (not the alert: it stays on the board) for at most ``MAX_SNOOZE``,
with a reason. It is refused for an alert one of whose findings is already a statutory
breach (RULES.md): a child held past a legal limit must keep someone's phone ringing until
it is acknowledged and owned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from custody_watch.domain.states import LIVE_STATES

MAX_SNOOZE = timedelta(hours=2)
# When a finding means the law has already been broken (RULES.md's "law" column): a
# statutory limit or prohibition at its critical step, and the two duties whose "due" time
# is their high step (PACE s.40 review, s.46 court production). Guidance (the Concordat,
# Home Office circulars) raises findings too, but they may be snoozed.
BREACH_AT_CRITICAL = frozenset(
    {
        "pace_limit",
        "post_charge_transfer",
        "invalid_s38_certificate",
        "place_of_safety_child",
        "place_of_safety_limit",
        "police_protection_limit",
        "age_below_criminal_responsibility",
        "interview_without_aa",
        "strip_search_without_aa",
        "child_with_adult_in_cell",
    }
)
BREACH_AT_HIGH = frozenset({"review_overdue", "court_production_overdue"})


@dataclass(frozen=True, slots=True)
class SnoozeDecision:
    ok: bool
    until: datetime | None
    reason: str  # why refused, or "" when granted


def is_breach(rule: str, severity: str) -> bool:
    if rule in BREACH_AT_HIGH:
        return severity in ("high", "critical")
    return rule in BREACH_AT_CRITICAL and severity == "critical"


def decide_snooze(
    findings: Iterable[tuple[str, str]],
    state: str,
    length: timedelta,
    reason: str,
    now: datetime,
) -> SnoozeDecision:
    """``findings``: the alert's live (rule, severity) pairs."""
    if state not in LIVE_STATES:
        return SnoozeDecision(False, None, f"the alert is {state}")
    if not reason.strip():
        return SnoozeDecision(False, None, "a snooze needs a reason")
    if length <= timedelta(0):
        return SnoozeDecision(False, None, "a snooze must last more than 0 minutes")
    if length > MAX_SNOOZE:
        return SnoozeDecision(False, None, "a snooze lasts at most 2h")
    breaches = sorted(rule for rule, severity in findings if is_breach(rule, severity))
    if breaches:
        return SnoozeDecision(
            False, None, f"not snoozed: {', '.join(breaches)} is already a statutory breach"
        )
    return SnoozeDecision(True, now + length, "")
