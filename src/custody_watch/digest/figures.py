"""The digest's figures: pure counting over plain inputs, in the shape of ``shared/spec/cli.md``
("The daily digest as data"), plus extra keys for the email.

Rules followed, and the readings chosen where the contract leaves room:

- Records are taken as the store holds them now (the current version of each), not "as of"
  the window: a release recorded after the window closed still says when the child left.
- "In the window" is ``start <= t < end``. "In custody at T" is ``arrival <= T`` and no
  release at or before T (``shared/domain/RULES.md``), so a child released exactly at the
  window's start was not in custody during it, and one arriving exactly at its end neither.
  A record whose release is not after its arrival was never in custody.
- A child is under 18 on the local date of arrest (else of arrival), or has no date of birth.
- ``children_arrived``, ``children_released`` and ``charged_refused_bail`` count by their own
  time alone: a child released exactly at the window's start is released in it, though not
  in custody during it.
- ``suites`` lists every suite with someone (child or adult) in custody during the window, or
  with an alert, failed send, arrival, release or refusal of bail in it; ``forces`` likewise,
  a suite's rows going to the force its records name (``(no force given)`` otherwise).
- Overnight means the rules' overnight window (``[rules.child_overnight]``, by default
  22:00 included to 07:00 excluded, local). "Before charge" and "after charge" split a
  child's overnight custody at ``charged_time``; a child can be counted in both.
- Durations are whole minutes rounded down. ``median`` and ``p90`` are nearest-rank: the
  value at rank ceil(p*n) of the sorted values (p = 1/2, 9/10), ``null`` when there are none.
- ``ack_minutes`` skips an alert acknowledged in the window that was never notified (no
  first notification to measure from).
- ``alerts_raised`` in ``totals`` counts every alert, including those about the system
  (``feed_stale``, ``delivery_failed``); a suite or force counts the alerts that name it.
- ``quarantined_rows`` in a suite counts rejected rows that could be traced to that suite
  (see ``collect``); ``totals`` counts every rejected row, traced or not.
- Extra figures: ``children_held_over_8h`` (in custody at some instant of the window at least
  8 hours after arrival: ``[rules.child_detention_duration] warning_after``),
  ``appropriate_adult_delays`` (any basis but police protection; no appropriate adult arrived
  by arrival + 3 hours, ``[rules.appropriate_adult] high_after``, and the delay lasted into
  the window), ``reviews_late`` (PACE detentions with a review overdue at some instant of the
  window; first due 6h after authorisation, then 9h after the latest review),
  ``place_of_safety_adults`` (adults under ``mha_s135``/``mha_s136`` in custody during the
  window), ``delivery_failures`` (outbox messages that failed for good, dated by their last
  due time), ``alerts_never_acknowledged`` (alerts raised in the window with no
  acknowledgement in the store).
- The previous 7 and 28 days are the digest windows of the 7 (28) dates before D. Their
  figures are daily averages of ``totals`` (time in custody pooled over all releases), and
  ``change`` says whether D's figure is ``up``, ``down`` or the ``same`` against them.
  Adults at a station are not carried into history (only children's records are read for
  earlier days)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from custody_watch.domain import PACE_BASES, PLACE_OF_SAFETY_BASES, Detention, LegalBasis
from custody_watch.domain.detention import ReleaseReason
from custody_watch.rules.facts import age_of, authorised_time
from custody_watch.rules.policy import Policy
from custody_watch.times import utc_z

from .window import Window, digest_window, overlaps_any, overnight_intervals

SEVERITIES = ("warning", "high", "critical")
AGE_BANDS = ("under_10", "10_11", "12_13", "14_15", "16_17", "unknown")
NO_FORCE = "(no force given)"
HISTORY_DAYS = (7, 28)
# Figures averaged over earlier days and compared with the day's own.
HISTORY_KEYS = (
    "children_in_custody",
    "children_arrived",
    "children_held_overnight",
    "children_released",
    "children_held_over_8h",
    "charged_refused_bail",
    "transferred_la",
    "certified",
    "place_of_safety_children",
    "police_protection_at_station",
    "appropriate_adult_delays",
    "reviews_late",
    "alerts_total",
    "delivery_failures",
    "quarantined_rows",
)


@dataclass(frozen=True, slots=True)
class AlertFact:
    id: int
    subject: str
    custody_ref: str | None
    suite: str | None
    force: str | None
    opened_at: datetime
    opened_severity: str
    first_notified_at: datetime | None
    first_acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    at: datetime
    person_id: str
    channel: str
    suite: str | None = None
    force: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRow:
    received_at: datetime
    source: str
    suite: str | None = None  # when the row could be traced to a suite


@dataclass(frozen=True, slots=True)
class FailedPoll:
    source: str
    at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class SilentPeriod:
    """A ``feed_stale`` alert: the source delivered nothing from ``start`` to ``end``."""

    source: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    first_poll_at: datetime | None


@dataclass(frozen=True, slots=True)
class DigestInputs:
    detentions: Sequence[Detention] = ()
    alerts: Sequence[AlertFact] = ()
    delivery_failures: Sequence[DeliveryFailure] = ()
    rejected: Sequence[RejectedRow] = ()
    failed_polls: Sequence[FailedPoll] = ()
    silent_periods: Sequence[SilentPeriod] = ()
    sources: Sequence[SourceInfo] = ()
    # Stored records that could not be read back (counted, never silently dropped).
    unreadable_records: int = 0


def nearest_rank(values: Sequence[int], numerator: int, denominator: int) -> int | None:
    """The value at rank ceil(n * numerator / denominator) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * numerator // denominator))
    return ordered[rank - 1]


def whole_minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 10:
        return "under_10"
    low = age - age % 2
    return f"{low}_{low + 1}"


def in_custody_span(detention: Detention, window: Window) -> tuple[datetime, datetime] | None:
    """The part of the window the detention was in custody, ``[from, to)``, or None."""
    start = max(detention.arrival_time, window.start)
    released = detention.released_time
    end = window.end if released is None else min(released, window.end)
    return (start, end) if start < end else None


@dataclass(slots=True)
class _Tally:
    """The figures of one group (all, a suite, a force) for one window."""

    in_custody: int = 0
    arrived: int = 0
    overnight: int = 0
    overnight_before_charge: int = 0
    overnight_after_charge: int = 0
    released_minutes: list[int] = field(default_factory=list)
    refused_bail: int = 0
    transferred_la: int = 0
    certified: int = 0
    grounds: Counter[str] = field(default_factory=Counter)
    neither: int = 0
    place_of_safety_children: int = 0
    place_of_safety_adults: int = 0
    police_protection: int = 0
    over_8h: int = 0
    aa_delays: int = 0
    reviews_late: int = 0
    missing_dob: int = 0
    bands: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    alerts_total: int = 0
    never_acked: int = 0
    ack_minutes: list[int] = field(default_factory=list)
    delivery_failures: int = 0
    quarantined: int = 0

    def as_dict(self) -> dict[str, Any]:
        minutes = self.released_minutes
        return {
            # The contract's keys (shared/spec/cli.md), in its order.
            "children_in_custody": self.in_custody,
            "children_arrived": self.arrived,
            "children_held_overnight": self.overnight,
            "children_released": len(minutes),
            "time_in_custody_minutes": {
                "median": nearest_rank(minutes, 1, 2),
                "p90": nearest_rank(minutes, 9, 10),
                "max": max(minutes) if minutes else None,
            },
            "charged_refused_bail": self.refused_bail,
            "transferred_la": self.transferred_la,
            "certified": self.certified,
            "place_of_safety_children": self.place_of_safety_children,
            "police_protection_at_station": self.police_protection,
            "alerts_raised": {s: self.alerts[s] for s in SEVERITIES},
            "ack_minutes": {
                "median": nearest_rank(self.ack_minutes, 1, 2),
                "p90": nearest_rank(self.ack_minutes, 9, 10),
            },
            "quarantined_rows": self.quarantined,
            # Extra figures.
            "age_bands": {band: self.bands[band] for band in AGE_BANDS},
            "children_held_over_8h": self.over_8h,
            "held_overnight_before_charge": self.overnight_before_charge,
            "held_overnight_after_charge": self.overnight_after_charge,
            "refused_bail_neither": self.neither,
            "certificate_grounds": {
                g: self.grounds[g] for g in ("impracticable", "no_secure_accommodation", "none")
            },
            "place_of_safety_adults": self.place_of_safety_adults,
            "appropriate_adult_delays": self.aa_delays,
            "reviews_late": self.reviews_late,
            "missing_dob": self.missing_dob,
            "alerts_total": self.alerts_total,
            "alerts_never_acknowledged": self.never_acked,
            "delivery_failures": self.delivery_failures,
        }


@dataclass(frozen=True, slots=True)
class _Child:
    """What the digest says about one child detention in one window."""

    detention: Detention
    age: int | None
    window_end: datetime
    span: tuple[datetime, datetime] | None
    arrived: bool
    released: bool
    refused_bail: bool
    overnight: bool
    overnight_before_charge: bool
    overnight_after_charge: bool
    over_8h: bool
    aa_delay: bool
    review_late: bool


class _Groups:
    """Tallies for the totals, each suite and each force."""

    def __init__(self, suite_forces: dict[str, str]) -> None:
        self.totals = _Tally()
        self.suites: defaultdict[str, _Tally] = defaultdict(_Tally)
        self.forces: defaultdict[str, _Tally] = defaultdict(_Tally)
        self._suite_forces = suite_forces

    def of(self, suite: str | None, force: str | None) -> list[_Tally]:
        tallies = [self.totals]
        if suite is not None:
            tallies.append(self.suites[suite])
            force = force or self._suite_forces.get(suite)
        if suite is not None or force is not None:
            tallies.append(self.forces[force or NO_FORCE])
        return tallies


def _child_view(detention: Detention, age: int | None, window: Window, policy: Policy) -> _Child:
    span = in_custody_span(detention, window)
    nights: list[tuple[datetime, datetime]] = []
    if span is not None:
        overnight = policy.child_overnight
        nights = overnight_intervals(
            span[0], span[1], policy.zone, overnight.window_start, overnight.window_end
        )
    charged = detention.charged_time
    before = after = False
    if span is not None and nights:
        cut = charged if charged is not None else span[1]
        before = overlaps_any(span[0], min(span[1], cut), nights)
        after = charged is not None and overlaps_any(max(span[0], charged), span[1], nights)
    return _Child(
        detention=detention,
        age=age,
        window_end=window.end,
        span=span,
        arrived=window.contains(detention.arrival_time),
        released=window.contains(detention.released_time),
        refused_bail=window.contains(detention.bail_refused_time),
        overnight=bool(nights),
        overnight_before_charge=before,
        overnight_after_charge=after,
        over_8h=span is not None
        and max(span[0], detention.arrival_time + policy.child_detention_duration.warning_after)
        < span[1],
        aa_delay=span is not None and _aa_delayed(detention, span, policy),
        review_late=span is not None and _review_late(detention, span, policy),
    )


def _aa_delayed(detention: Detention, span: tuple[datetime, datetime], policy: Policy) -> bool:
    if detention.legal_basis is LegalBasis.POLICE_PROTECTION:
        return False
    due = detention.arrival_time + policy.appropriate_adult.high_after
    arrived = detention.appropriate_adult_arrived_time
    if arrived is not None and arrived <= due:
        return False
    until = span[1] if arrived is None else min(span[1], arrived)
    return max(span[0], due) < until


def _review_late(detention: Detention, span: tuple[datetime, datetime], policy: Policy) -> bool:
    """PACE s.40: overdue from each due time until the next review (or release)."""
    if detention.legal_basis not in PACE_BASES:
        return False
    rules = policy.review_overdue
    due = authorised_time(detention) + rules.first_review_after
    for review in sorted(detention.reviews):
        if review > due and max(span[0], due) < min(span[1], review):
            return True
        due = review + rules.review_interval  # the latest review sets the next due time
    return max(span[0], due) < span[1]


def _count(
    groups: _Groups,
    window: Window,
    policy: Policy,
    detentions: Iterable[tuple[Detention, int | None]],
    inputs: DigestInputs,
) -> list[_Child]:
    """Fill ``groups`` for ``window``; returns the children in custody during it."""
    children: list[_Child] = []
    for detention, age in detentions:
        child = age is None or age < 18
        span = in_custody_span(detention, window)
        basis = detention.legal_basis
        if not child:
            if span is not None and basis in PLACE_OF_SAFETY_BASES:
                for tally in groups.of(detention.suite, detention.force):
                    tally.place_of_safety_adults += 1
            elif span is not None:
                groups.of(detention.suite, detention.force)  # the suite was open
            continue
        view = _child_view(detention, age, window, policy)
        if span is None and not (view.arrived or view.released or view.refused_bail):
            continue
        tallies = groups.of(detention.suite, detention.force)
        for tally in tallies:
            _add_child(tally, view)
        if span is not None:
            children.append(view)
    for alert in inputs.alerts:
        opened = window.contains(alert.opened_at)
        acked = window.contains(alert.first_acknowledged_at)
        if not (opened or acked):
            continue
        for tally in groups.of(alert.suite, alert.force):
            if opened:
                tally.alerts_total += 1
                if alert.opened_severity in SEVERITIES:
                    tally.alerts[alert.opened_severity] += 1
                if alert.first_acknowledged_at is None:
                    tally.never_acked += 1
            if acked and alert.first_notified_at is not None:
                assert alert.first_acknowledged_at is not None
                tally.ack_minutes.append(
                    whole_minutes(alert.first_notified_at, alert.first_acknowledged_at)
                )
    for failure in inputs.delivery_failures:
        if window.contains(failure.at):
            for tally in groups.of(failure.suite, failure.force):
                tally.delivery_failures += 1
    for rejected in inputs.rejected:
        if window.contains(rejected.received_at):
            for tally in groups.of(rejected.suite, None):
                tally.quarantined += 1
    return children


def _add_child(tally: _Tally, view: _Child) -> None:
    d = view.detention
    if view.span is not None:
        tally.in_custody += 1
        tally.bands[age_band(view.age)] += 1
        tally.overnight += view.overnight
        tally.overnight_before_charge += view.overnight_before_charge
        tally.overnight_after_charge += view.overnight_after_charge
        tally.over_8h += view.over_8h
        tally.aa_delays += view.aa_delay
        tally.reviews_late += view.review_late
        tally.missing_dob += d.date_of_birth is None
        if d.legal_basis in PLACE_OF_SAFETY_BASES:
            tally.place_of_safety_children += 1
        if d.legal_basis is LegalBasis.POLICE_PROTECTION:
            tally.police_protection += 1
    tally.arrived += view.arrived
    if view.released:
        assert d.released_time is not None
        tally.released_minutes.append(whole_minutes(d.arrival_time, d.released_time))
    if view.refused_bail:
        tally.refused_bail += 1
        moved = d.release_reason is ReleaseReason.TRANSFERRED_LA
        certified = d.s38_certificate_time is not None
        tally.transferred_la += moved
        tally.certified += certified
        if certified:
            ground = d.s38_certificate_ground
            tally.grounds[ground.value if ground is not None else "none"] += 1
        tally.neither += not (moved or certified)


def _ages(detentions: Iterable[Detention], policy: Policy) -> list[tuple[Detention, int | None]]:
    return [(d, age_of(d, policy)) for d in detentions]


def window_totals(
    window: Window,
    policy: Policy,
    detentions: Sequence[tuple[Detention, int | None]],
    inputs: DigestInputs,
) -> dict[str, Any]:
    """The totals alone for one window (the history uses this)."""
    groups = _Groups(suite_forces(detentions))
    _count(groups, window, policy, detentions, inputs)
    totals = groups.totals.as_dict()
    totals["_released_minutes"] = sorted(groups.totals.released_minutes)
    return totals


def digest_figures(
    day: date,
    at: time,
    policy: Policy,
    inputs: DigestInputs,
    *,
    now: datetime | None = None,
    history: bool = True,
) -> dict[str, Any]:
    """The figures of the digest dated ``day`` (JSON-ready: times are UTC ``...Z`` text).

    ``now`` is only used to say whether the window has ended yet (data still to come)."""
    window = digest_window(day, at, policy.zone)
    aged = _ages(inputs.detentions, policy)
    forces = suite_forces(aged)
    groups = _Groups(forces)
    children = _count(groups, window, policy, aged, inputs)
    totals = groups.totals.as_dict()
    figures: dict[str, Any] = {
        "date": day.isoformat(),
        "window_start": utc_z(window.start),
        "window_end": utc_z(window.end),
        "totals": totals,
        "suites": {name: groups.suites[name].as_dict() for name in sorted(groups.suites)},
        # Extra keys.
        "window_hours": _number(window.hours),
        "forces": {name: groups.forces[name].as_dict() for name in sorted(groups.forces)},
        "suite_forces": {s: forces[s] for s in sorted(groups.suites) if s in forces},
        "children": [_child_json(view, policy) for view in _by_arrival(children)],
        "children_over_8h": [v.detention.custody_ref for v in _by_arrival(children) if v.over_8h],
        "charged_refused_bail_children": _refused_bail_list(aged, window),
        "data_quality": _data_quality(window, inputs, totals, now),
    }
    figures["quiet"] = (
        totals["children_in_custody"] == 0
        and totals["children_arrived"] == 0
        and totals["children_released"] == 0
        and totals["charged_refused_bail"] == 0
        and totals["alerts_total"] == 0
    )
    if history:
        series = _history(day, at, policy, aged, inputs, max(HISTORY_DAYS))
        for days in HISTORY_DAYS:
            figures[f"previous_{days}_days"] = _period(series[-days:], totals)
        figures["trend"] = [
            {
                "date": item["date"],
                "children_held_overnight": item["children_held_overnight"],
                "charged_refused_bail": item["charged_refused_bail"],
                "transferred_la": item["transferred_la"],
            }
            for item in [*series, {"date": day.isoformat(), **totals}]
        ]
    return figures


def _history(
    day: date,
    at: time,
    policy: Policy,
    aged: Sequence[tuple[Detention, int | None]],
    inputs: DigestInputs,
    days: int,
) -> list[dict[str, Any]]:
    """Totals of each of the ``days`` dates before ``day``, oldest first."""
    out = []
    for back in range(days, 0, -1):
        earlier = day - timedelta(days=back)
        window = digest_window(earlier, at, policy.zone)
        out.append({"date": earlier.isoformat(), **window_totals(window, policy, aged, inputs)})
    return out


def _period(series: Sequence[dict[str, Any]], today: dict[str, Any]) -> dict[str, Any]:
    n = len(series)
    averages = {key: _number(sum(item[key] for item in series) / n) for key in HISTORY_KEYS}
    pooled = [m for item in series for m in item["_released_minutes"]]
    median = nearest_rank(pooled, 1, 2)
    change: dict[str, str | None] = {
        key: _direction(today[key], sum(item[key] for item in series) / n) for key in HISTORY_KEYS
    }
    today_median = today["time_in_custody_minutes"]["median"]
    change["time_in_custody_median"] = (
        None if median is None or today_median is None else _direction(today_median, median)
    )
    return {
        "days": n,
        "from": series[0]["date"],
        "to": series[-1]["date"],
        "daily_average": averages,
        "time_in_custody_minutes": {
            "median": median,
            "p90": nearest_rank(pooled, 9, 10),
            "max": max(pooled) if pooled else None,
        },
        "change": change,
    }


def _direction(value: float, reference: float) -> str:
    if abs(value - reference) < 1e-9:
        return "same"
    return "up" if value > reference else "down"


def _number(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def _by_arrival(children: Iterable[_Child]) -> list[_Child]:
    return sorted(children, key=lambda v: (v.detention.arrival_time, v.detention.custody_ref))


def suite_forces(aged: Iterable[tuple[Detention, int | None]]) -> dict[str, str]:
    """Each suite's force (the first one given), for rows that name a suite but no force."""
    out: dict[str, str] = {}
    for detention, _age in aged:
        if detention.force and detention.suite not in out:
            out[detention.suite] = detention.force
    return out


def _child_json(view: _Child, policy: Policy) -> dict[str, Any]:
    d = view.detention
    assert view.span is not None
    window_end = view.window_end
    return {
        "custody_ref": d.custody_ref,
        "suite": d.suite,
        "force": d.force,
        "age_band": age_band(view.age),
        "legal_basis": d.legal_basis.value,
        "arrival_time": utc_z(d.arrival_time),
        "released_time": None if d.released_time is None else utc_z(d.released_time),
        "release_reason": None if d.release_reason is None else d.release_reason.value,
        "in_custody_at_window_end": d.released_time is None or d.released_time >= window_end,
        # To release, or to the window's end for a child still held then.
        "held_minutes": whole_minutes(d.arrival_time, view.span[1]),
        "held_over_8h": view.over_8h,
        "held_overnight": view.overnight,
        "held_overnight_after_charge": view.overnight_after_charge,
        "appropriate_adult_delay": view.aa_delay,
        "review_late": view.review_late,
        "events": _events(d),
    }


_EVENTS = (
    ("arrested", "arrest_time"),
    ("arrived", "arrival_time"),
    ("appropriate_adult_requested", "appropriate_adult_requested_time"),
    ("appropriate_adult_arrived", "appropriate_adult_arrived_time"),
    ("charged", "charged_time"),
    ("bail_refused", "bail_refused_time"),
    ("la_accommodation_requested", "la_accommodation_requested_time"),
    ("s38_certificate", "s38_certificate_time"),
    ("released", "released_time"),
)


def _events(d: Detention) -> list[dict[str, Any]]:
    """What happened, in order of time (reviews are counted, not listed)."""
    out: list[tuple[datetime, int, dict[str, Any]]] = []
    for order, (name, attr) in enumerate(_EVENTS):
        at = getattr(d, attr)
        if at is None or (name == "arrested" and at == d.arrival_time):
            continue
        event: dict[str, Any] = {"event": name, "at": utc_z(at)}
        if name == "s38_certificate" and d.s38_certificate_ground is not None:
            event["ground"] = d.s38_certificate_ground.value
        if name == "released" and d.release_reason is not None:
            event["reason"] = d.release_reason.value
        out.append((at, order, event))
    return [event for _at, _order, event in sorted(out, key=lambda item: item[:2])]


def _refused_bail_list(
    aged: Sequence[tuple[Detention, int | None]], window: Window
) -> list[dict[str, Any]]:
    out = []
    ordered = sorted(
        aged, key=lambda item: (item[0].bail_refused_time or window.end, item[0].custody_ref)
    )
    for d, age in ordered:
        if not (age is None or age < 18) or not window.contains(d.bail_refused_time):
            continue
        assert d.bail_refused_time is not None
        if d.release_reason is ReleaseReason.TRANSFERRED_LA:
            outcome = "transferred_la"
        elif d.s38_certificate_time is not None:
            outcome = "certified"
        else:
            outcome = "neither"
        out.append(
            {
                "custody_ref": d.custody_ref,
                "suite": d.suite,
                "force": d.force,
                "bail_refused_time": utc_z(d.bail_refused_time),
                "outcome": outcome,
                "transferred_la": d.release_reason is ReleaseReason.TRANSFERRED_LA,
                "la_accommodation_requested_time": _z(d.la_accommodation_requested_time),
                "s38_certificate_time": _z(d.s38_certificate_time),
                "s38_certificate_ground": (
                    None if d.s38_certificate_ground is None else d.s38_certificate_ground.value
                ),
                "released_time": _z(d.released_time),
                "release_reason": None if d.release_reason is None else d.release_reason.value,
            }
        )
    return out


def _z(at: datetime | None) -> str | None:
    return None if at is None else utc_z(at)


def _data_quality(
    window: Window, inputs: DigestInputs, totals: dict[str, Any], now: datetime | None
) -> dict[str, Any]:
    by_source: Counter[str] = Counter()
    unattributed = 0
    for rejected in inputs.rejected:
        if window.contains(rejected.received_at):
            by_source[rejected.source] += 1
            unattributed += rejected.suite is None
    outages = _outages(window, inputs)
    started_late = [
        {"source": s.name, "first_poll_at": utc_z(s.first_poll_at)}
        for s in sorted(inputs.sources, key=lambda s: s.name)
        if s.first_poll_at is not None and window.start < s.first_poll_at < window.end
    ]
    not_over = now is not None and now < window.end
    return {
        "quarantined_rows": totals["quarantined_rows"],
        "quarantined_by_source": dict(sorted(by_source.items())),
        "quarantined_not_traced_to_a_suite": unattributed,
        "missing_dob": totals["missing_dob"],
        "unreadable_records": inputs.unreadable_records,
        "outages": outages,
        "sources_started_late": started_late,
        "window_not_over": not_over,
        "incomplete": bool(outages or started_late or not_over or inputs.unreadable_records),
    }


def _outages(window: Window, inputs: DigestInputs) -> list[dict[str, Any]]:
    """Failed polls in the window (per source) and silences that overlap it, by start."""
    out: list[dict[str, Any]] = []
    failed: defaultdict[str, list[FailedPoll]] = defaultdict(list)
    for poll in inputs.failed_polls:
        if window.contains(poll.at):
            failed[poll.source].append(poll)
    for source, polls in failed.items():
        polls.sort(key=lambda p: p.at)
        out.append(
            {
                "source": source,
                "kind": "failed_polls",
                "start": utc_z(polls[0].at),
                "end": utc_z(polls[-1].at),
                "ongoing": False,
                "failed_polls": len(polls),
                "last_error": polls[-1].error,
            }
        )
    for period in inputs.silent_periods:
        if period.start < window.end and (period.end is None or period.end > window.start):
            out.append(
                {
                    "source": period.source,
                    "kind": "silent",
                    "start": utc_z(period.start),
                    "end": None if period.end is None else utc_z(period.end),
                    "ongoing": period.end is None or period.end >= window.end,
                    "failed_polls": None,
                    "last_error": None,
                }
            )
    return sorted(out, key=lambda o: (o["start"], o["source"], o["kind"]))
