"""Child-safeguarding rules: time held, transfer after charge, appropriate adults, nights in
a cell, and records that cannot tell us a child's age."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from custody_watch.domain import CertificateGround, LegalBasis, Severity
from custody_watch.rules import describe
from custody_watch.rules.assessment import Assessment, single
from custody_watch.rules.facts import Facts
from custody_watch.rules.instants import NEVER, later
from custody_watch.rules.policy import OvernightPolicy, Policy
from custody_watch.times import format_duration, format_local


def child_detention_duration(facts: Facts, policy: Policy) -> Assessment:
    arrival = facts.detention.arrival_time
    rules = policy.child_detention_duration

    def detail(_severity: Severity, _since: datetime) -> str:
        return f"child {describe.held_for(arrival, facts.now, policy.zone)}"

    return Assessment(
        (
            (Severity.WARNING, later(arrival, rules.warning_after)),
            (Severity.HIGH, later(arrival, rules.high_after)),
            (Severity.CRITICAL, later(arrival, rules.critical_after)),
        ),
        detail,
    )


def post_charge_transfer(facts: Facts, policy: Policy) -> Assessment | None:
    """PACE s.38(6): a charged child refused bail moves to local-authority accommodation."""
    d = facts.detention
    refused = d.bail_refused_time
    if refused is None or not facts.reached(refused) or facts.reached(d.s38_certificate_time):
        return None
    rules = policy.post_charge_transfer
    requested = facts.reached(d.la_accommodation_requested_time)
    steps: list[tuple[Severity, datetime]] = []
    if not requested:
        steps.append((Severity.HIGH, later(refused, rules.high_after)))
    steps.append((Severity.CRITICAL, later(refused, rules.critical_after)))
    asked = "accommodation requested" if requested else "no accommodation requested"

    def detail(_severity: Severity, _since: datetime) -> str:
        waited = format_duration(facts.now - refused)
        return (
            f"refused bail {waited} ago ({format_local(refused, policy.zone)}), still at the "
            f"station: no s.38 certificate, {asked} from the local authority"
        )

    return Assessment(tuple(steps), detail)


def invalid_s38_certificate(facts: Facts, policy: Policy) -> Assessment | None:
    """s.38(6)(b) (no secure accommodation) applies only from age 12."""
    d = facts.detention
    at = d.s38_certificate_time
    if (
        at is None
        or d.s38_certificate_ground is not CertificateGround.NO_SECURE_ACCOMMODATION
        or not facts.known_age_below(12)
    ):
        return None
    return single(
        Severity.CRITICAL,
        at,
        f"s.38(6)(b) certificate (no secure accommodation) for a child aged {facts.age}; that "
        "ground applies only from age 12",
    )


def appropriate_adult(facts: Facts, policy: Policy) -> Assessment | None:
    """PACE Code C 3.15: an appropriate adult informed and asked to attend."""
    d = facts.detention
    if d.legal_basis is LegalBasis.POLICE_PROTECTION or facts.reached(
        d.appropriate_adult_arrived_time
    ):
        return None
    rules = policy.appropriate_adult
    requested = facts.reached(d.appropriate_adult_requested_time)
    steps: list[tuple[Severity, datetime]] = []
    if not requested:
        steps.append((Severity.WARNING, later(d.arrival_time, rules.warning_after)))
    steps.append((Severity.HIGH, later(d.arrival_time, rules.high_after)))

    def detail(_severity: Severity, _since: datetime) -> str:
        waited = format_duration(facts.now - d.arrival_time)
        if requested:
            assert d.appropriate_adult_requested_time is not None
            asked = format_local(d.appropriate_adult_requested_time, policy.zone)
            return f"appropriate adult requested at {asked}, not arrived after {waited}"
        return f"no appropriate adult requested after {waited} in custody"

    return Assessment(tuple(steps), detail)


def child_overnight(facts: Facts, policy: Policy) -> Assessment:
    """In custody at some instant of a 22:00-07:00 local window; stays until release."""
    d = facts.detention
    first = first_overnight_instant(d.arrival_time, policy.child_overnight, policy)
    steps: list[tuple[Severity, datetime]] = [(Severity.WARNING, first)]
    refused = d.bail_refused_time
    if refused is not None and facts.reached(refused):
        steps.append((Severity.HIGH, max(first, refused)))

    def detail(severity: Severity, _since: datetime) -> str:
        stage = "after charge and refusal of bail" if severity is Severity.HIGH else "held"
        return f"child in custody overnight ({stage}) since {format_local(first, policy.zone)}"

    return Assessment(tuple(steps), detail)


def first_overnight_instant(arrival: datetime, window: OvernightPolicy, policy: Policy) -> datetime:
    """Arrival if it falls in a window, else the next window start after arrival (local);
    ``NEVER`` when no window starts before the calendar ends (an arrival dated 9999)."""
    try:
        return _first_overnight_instant(arrival, window, policy)
    except OverflowError:
        return NEVER


def _first_overnight_instant(
    arrival: datetime, window: OvernightPolicy, policy: Policy
) -> datetime:
    local = arrival.astimezone(policy.zone)
    if in_window(local.time(), window):
        return arrival
    day = local.date()
    for _ in range(3):
        start = first_instant_at(day, window.window_start, policy.zone)
        if start > arrival:
            return start
        day += timedelta(days=1)
    raise AssertionError("a window start always falls within two days")


def first_instant_at(day: date, wall: time, zone: tzinfo) -> datetime:
    """The first instant at which the local clock on ``day`` reads ``wall`` or later.

    Usually that is ``wall`` itself (the first of two when the clocks go back). When the
    clocks skip over ``wall`` (spring forward), it is the instant of the jump."""
    target = datetime.combine(day, wall)
    early = target.replace(tzinfo=zone).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == target:
        return early
    # In the gap: fold=1 reads the wall time with the offset after the jump, which lands
    # before the jump; bisect to the second at which the local clock passes ``wall``.
    low = int(target.replace(tzinfo=zone, fold=1).timestamp())
    high = int(early.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def in_window(wall: time, window: OvernightPolicy) -> bool:
    """Whether a local wall-clock time falls in the window (start included, end excluded)."""
    start, end = window.window_start, window.window_end
    if start > end:  # wraps midnight, as 22:00-07:00 does
        return wall >= start or wall < end
    return start <= wall < end


def missing_dob(facts: Facts, policy: Policy) -> Assessment | None:
    d = facts.detention
    if d.date_of_birth is not None:
        return None
    return single(
        Severity.WARNING,
        d.arrival_time,
        "no date of birth recorded: treated as a child (PACE Code C 1.5) until it is",
    )
