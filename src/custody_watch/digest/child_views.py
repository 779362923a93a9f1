"""What the digest says about each child: the facts of one detention in one window, the
child's JSON (with events in order of time), and the list of children refused bail.

- Overnight means the rules' overnight window (``[rules.child_overnight]``, by default
  22:00 included to 07:00 excluded, local). "Before charge" and "after charge" split a
  child's overnight custody at ``charged_time``; a child can be counted in both.
- Extra figures: ``children_held_over_8h`` (in custody at some instant of the window at least
  8 hours after arrival: ``[rules.child_detention_duration] warning_after``),
  ``appropriate_adult_delays`` (any basis but police protection; no appropriate adult arrived
  by arrival + 3 hours, ``[rules.appropriate_adult] high_after``, and the delay lasted into
  the window), ``reviews_late`` (PACE detentions with a review overdue at some instant of the
  window; first due 6h after authorisation, then 9h after the latest review)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from custody_watch.domain import PACE_BASES, Detention, LegalBasis
from custody_watch.domain.detention import ReleaseReason
from custody_watch.rules.facts import authorised_time
from custody_watch.rules.policy import Policy
from custody_watch.times import utc_z, utc_z_or_none

from .tally import age_band, whole_minutes
from .window import Window, overlaps_any, overnight_intervals


def in_custody_span(detention: Detention, window: Window) -> tuple[datetime, datetime] | None:
    """The part of the window the detention was in custody, ``[from, to)``, or None."""
    start = max(detention.arrival_time, window.start)
    released = detention.released_time
    end = window.end if released is None else min(released, window.end)
    return (start, end) if start < end else None


@dataclass(frozen=True, slots=True)
class ChildView:
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
    # v2
    looked_after: bool = False
    repeat_detention: bool = False
    released_without_referral: bool = False


def child_view(
    detention: Detention,
    age: int | None,
    window: Window,
    policy: Policy,
    *,
    repeat: bool = False,
) -> ChildView:
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
    return ChildView(
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
        looked_after=span is not None and detention.looked_after,
        repeat_detention=span is not None and repeat,
        released_without_referral=released_without_referral(detention, window),
    )


def released_without_referral(detention: Detention, window: Window) -> bool:
    """Released in the window, from a feed that carries ``social_care_referral_time`` (a feed
    that does not export it says nothing about referrals: RULES.md, Precise reading 15), and
    no referral at or before the window's end (cli.md)."""
    referral = detention.social_care_referral_time
    return (
        window.contains(detention.released_time)
        and detention.carries("social_care_referral_time")
        and (referral is None or referral > window.end)
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


def by_arrival(children: Iterable[ChildView]) -> list[ChildView]:
    return sorted(children, key=lambda v: (v.detention.arrival_time, v.detention.custody_ref))


def child_json(view: ChildView) -> dict[str, Any]:
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
        "released_time": utc_z_or_none(d.released_time),
        "release_reason": None if d.release_reason is None else d.release_reason.value,
        "in_custody_at_window_end": d.released_time is None or d.released_time >= window_end,
        # To release, or to the window's end for a child still held then.
        "held_minutes": whole_minutes(d.arrival_time, view.span[1]),
        "held_over_8h": view.over_8h,
        "held_overnight": view.overnight,
        "held_overnight_after_charge": view.overnight_after_charge,
        "appropriate_adult_delay": view.aa_delay,
        "review_late": view.review_late,
        "looked_after": view.looked_after,
        "repeat_detention": view.repeat_detention,
        "events": _events(d),
    }


_EVENTS = (
    ("arrested", "arrest_time"),
    ("arrived", "arrival_time"),
    ("welfare_person_informed", "welfare_person_informed_time"),
    ("appropriate_adult_requested", "appropriate_adult_requested_time"),
    ("appropriate_adult_arrived", "appropriate_adult_arrived_time"),
    ("charged", "charged_time"),
    ("bail_refused", "bail_refused_time"),
    ("la_accommodation_requested", "la_accommodation_requested_time"),
    ("s38_certificate", "s38_certificate_time"),
    ("placed_in_cell", "cell_time"),
    ("released", "released_time"),
    ("social_care_referral", "social_care_referral_time"),
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


def refused_bail_list(
    aged: Sequence[tuple[Detention, int | None]], window: Window
) -> list[dict[str, Any]]:
    """The children refused bail in the window, by time of refusal, with what became of each."""
    ordered = sorted(
        aged, key=lambda item: (item[0].bail_refused_time or window.end, item[0].custody_ref)
    )
    return [
        _refused_bail_json(d)
        for d, age in ordered
        if (age is None or age < 18) and window.contains(d.bail_refused_time)
    ]


def _refused_bail_json(d: Detention) -> dict[str, Any]:
    assert d.bail_refused_time is not None
    if d.release_reason is ReleaseReason.TRANSFERRED_LA:
        outcome = "transferred_la"
    elif d.s38_certificate_time is not None:
        outcome = "certified"
    else:
        outcome = "neither"
    return {
        "custody_ref": d.custody_ref,
        "suite": d.suite,
        "force": d.force,
        "bail_refused_time": utc_z(d.bail_refused_time),
        "outcome": outcome,
        "transferred_la": d.release_reason is ReleaseReason.TRANSFERRED_LA,
        "la_accommodation_requested_time": utc_z_or_none(d.la_accommodation_requested_time),
        "s38_certificate_time": utc_z_or_none(d.s38_certificate_time),
        "s38_certificate_ground": (
            None if d.s38_certificate_ground is None else d.s38_certificate_ground.value
        ),
        "released_time": utc_z_or_none(d.released_time),
        "release_reason": None if d.release_reason is None else d.release_reason.value,
    }


def released_without_referral_list(
    aged: Sequence[tuple[Detention, int | None]], window: Window
) -> list[dict[str, Any]]:
    """The children released in the window without a referral to children's social care, by
    time of release."""
    out = [
        (d, age)
        for d, age in aged
        if (age is None or age < 18) and released_without_referral(d, window)
    ]
    out.sort(key=lambda item: (item[0].released_time or window.end, item[0].custody_ref))
    return [
        {
            "custody_ref": d.custody_ref,
            "suite": d.suite,
            "force": d.force,
            "age_band": age_band(age),
            "looked_after": d.looked_after,
            "released_time": utc_z_or_none(d.released_time),
            "release_reason": None if d.release_reason is None else d.release_reason.value,
        }
        for d, age in out
    ]
