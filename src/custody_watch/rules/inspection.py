"""What the inspection asked for beyond Code C (RULES.md, v2): repeat detentions (cumulative
and repeat low-level risk) and referrals to children's social care after release."""

from __future__ import annotations

from datetime import datetime

from custody_watch.domain import Severity
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import earlier, later
from custody_watch.rules.policy import Policy
from custody_watch.times import format_local


def repeat_detention(facts: Facts, policy: Policy) -> Assessment | None:
    """At least two other records of the same ``person_ref`` arrived in the 90 days before
    this arrival (the window includes its start, excludes the arrival itself). The other
    records come from the caller (``Facts.same_person_arrivals``), whatever their state."""
    d = facts.detention
    if d.person_ref is None:
        return None
    rules = policy.repeat_detention
    start = earlier(d.arrival_time, rules.lookback)
    count = sum(1 for at in facts.same_person_arrivals if start <= at < d.arrival_time)
    if count < rules.other_detentions:
        return None
    days = rules.lookback.days
    return single(
        Severity.WARNING,
        d.arrival_time,
        f"detained {count} other times in the {days} days before this arrival",
    )


def referral_missing(facts: Facts, policy: Policy) -> Assessment | None:
    """A released child with no referral to children's social care, shown for 72 hours after
    release (digest and ``evaluate`` only, never an alert: Precise reading 12). Fires on an
    absence, so only where the feed carries the field (Precise reading 15)."""
    d = facts.detention
    released = d.released_time
    if (
        released is None
        or not facts.reached(released)
        or not d.carries("social_care_referral_time")
        or facts.reached(d.social_care_referral_time)
    ):
        return None
    ends = later(released, policy.referral_missing.shown_for)
    if ends <= facts.now:
        return None

    def detail(_severity: Severity, _since: datetime) -> str:
        at = format_local(released, policy.zone)
        return f"released {at} with no referral to children's social care"

    return Assessment(((Severity.INFO, released),), detail, ends=ends)
