"""The digest's figures: pure counting over plain inputs, in the shape of ``shared/spec/cli.md``
("The daily digest as data"), plus extra keys for the email.

Rules followed, and the readings chosen where the contract leaves room (those about one
child's figures are in ``children``, about durations in ``tally``, about the previous days in
``trends``):

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
- ``ack_minutes`` skips an alert acknowledged in the window that was never notified (no
  first notification to measure from).
- ``alerts_raised`` in ``totals`` counts every alert, including those about the system
  (``feed_stale``, ``delivery_failed``); a suite or force counts the alerts that name it.
- ``quarantined_rows`` in a suite counts rejected rows that could be traced to that suite
  (see ``collect``); ``totals`` counts every rejected row, traced or not.
- Extra figures (besides each child's): ``place_of_safety_adults`` (adults under
  ``mha_s135``/``mha_s136`` in custody during the window), ``delivery_failures`` (outbox
  messages that failed for good, dated by their last due time), ``alerts_never_acknowledged``
  (alerts raised in the window with no acknowledgement in the store).
- v2 (``cli.md``, "Digest (v2)"): ``looked_after_in_custody`` and
  ``repeat_detention_children`` count children in custody during the window;
  ``released_without_referral`` counts by release time alone, like ``children_released``;
  the readings about other records and case reviews are in ``safeguards``. A suite with only
  a case review in the window is listed too. Extra: ``released_without_referral_children``
  (each such child, by time of release), and each child's ``looked_after`` and
  ``repeat_detention``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from custody_watch.domain import PLACE_OF_SAFETY_BASES, Detention, LegalBasis
from custody_watch.domain.detention import ReleaseReason
from custody_watch.rules.facts import age_of
from custody_watch.rules.policy import Policy
from custody_watch.times import utc_z

from .child_views import (
    ChildView,
    by_arrival,
    child_json,
    child_view,
    in_custody_span,
    refused_bail_list,
    released_without_referral_list,
)
from .inputs import CaseReview, DigestInputs
from .quality import data_quality
from .safeguards import (
    grade_counts,
    graded_reviews,
    inadequate_share,
    repeat_refs,
    share_start,
)
from .tally import SEVERITIES, Groups, Tally, age_band, json_number, suite_forces, whole_minutes
from .trends import history_figures
from .window import Window, digest_window


@dataclass(frozen=True, slots=True)
class _Beyond:
    """What one detention in one window cannot say alone (see ``safeguards``)."""

    repeats: frozenset[str]
    reviews: Sequence[CaseReview]


def _beyond(
    aged: Sequence[tuple[Detention, int | None]], inputs: DigestInputs, policy: Policy
) -> _Beyond:
    detentions = [d for d, _age in aged]
    return _Beyond(
        repeats=repeat_refs(detentions, inputs.earlier_arrivals, policy.repeat_detention),
        reviews=graded_reviews(detentions, inputs.case_reviews),
    )


def _count(
    groups: Groups,
    window: Window,
    policy: Policy,
    detentions: Iterable[tuple[Detention, int | None]],
    inputs: DigestInputs,
    beyond: _Beyond,
) -> list[ChildView]:
    """Fill ``groups`` for ``window``; returns the children in custody during it."""
    children = _count_detentions(groups, window, policy, detentions, beyond.repeats)
    _count_alerts(groups, window, inputs)
    for review in beyond.reviews:
        if window.contains(review.at):
            for tally in groups.of(review.suite, review.force):
                tally.case_reviews[review.grade] += 1
    for failure in inputs.delivery_failures:
        if window.contains(failure.at):
            for tally in groups.of(failure.suite, failure.force):
                tally.delivery_failures += 1
    for rejected in inputs.rejected:
        if window.contains(rejected.received_at):
            for tally in groups.of(rejected.suite, None):
                tally.quarantined += 1
    return children


def _count_detentions(
    groups: Groups,
    window: Window,
    policy: Policy,
    detentions: Iterable[tuple[Detention, int | None]],
    repeats: frozenset[str],
) -> list[ChildView]:
    children: list[ChildView] = []
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
        view = child_view(detention, age, window, policy, repeat=detention.custody_ref in repeats)
        if span is None and not (view.arrived or view.released or view.refused_bail):
            continue
        tallies = groups.of(detention.suite, detention.force)
        for tally in tallies:
            _add_child(tally, view)
        if span is not None:
            children.append(view)
    return children


def _count_alerts(groups: Groups, window: Window, inputs: DigestInputs) -> None:
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


def _add_child(tally: Tally, view: ChildView) -> None:
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
        tally.looked_after += view.looked_after
        tally.repeat_detention += view.repeat_detention
    tally.arrived += view.arrived
    tally.released_without_referral += view.released_without_referral
    if view.released:
        assert d.released_time is not None
        tally.released_minutes.append(whole_minutes(d.arrival_time, d.released_time))
    if view.refused_bail:
        _add_refused_bail(tally, d)


def _add_refused_bail(tally: Tally, d: Detention) -> None:
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
    beyond: _Beyond | None = None,
) -> dict[str, Any]:
    """The totals alone for one window (the history uses this)."""
    groups = Groups(suite_forces(detentions))
    _count(
        groups, window, policy, detentions, inputs, beyond or _beyond(detentions, inputs, policy)
    )
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
    groups = Groups(forces)
    beyond = _beyond(aged, inputs, policy)
    children = by_arrival(_count(groups, window, policy, aged, inputs, beyond))
    totals = groups.totals.as_dict()
    over_28d = grade_counts(beyond.reviews, share_start(day, at, policy.zone), window.end)
    totals["case_reviews_inadequate_share_28d"] = inadequate_share(over_28d)
    totals["case_reviews_28d"] = over_28d
    figures: dict[str, Any] = {
        "date": day.isoformat(),
        "window_start": utc_z(window.start),
        "window_end": utc_z(window.end),
        "totals": totals,
        "suites": {name: groups.suites[name].as_dict() for name in sorted(groups.suites)},
        # Extra keys.
        "window_hours": json_number(window.hours),
        "forces": {name: groups.forces[name].as_dict() for name in sorted(groups.forces)},
        "suite_forces": {s: forces[s] for s in sorted(groups.suites) if s in forces},
        "children": [child_json(view) for view in children],
        "children_over_8h": [v.detention.custody_ref for v in children if v.over_8h],
        "charged_refused_bail_children": refused_bail_list(aged, window),
        "released_without_referral_children": released_without_referral_list(aged, window),
        "data_quality": data_quality(window, inputs, totals, now),
        # Handover notes written in the window: who, when, on which alert; the text stays on
        # the alert page (free text may name a child; the digest names no one).
        "alert_notes": [
            {
                "at": utc_z(note.at),
                "author": note.author,
                "alert_id": note.alert_id,
                "custody_ref": note.custody_ref,
                "suite": note.suite,
                "ack_code": note.ack_code,
            }
            for note in inputs.notes
            if window.start <= note.at < window.end
        ],
        "quiet": _quiet(totals),
    }
    if history:
        figures |= history_figures(
            day,
            at,
            policy.zone,
            totals,
            lambda w: window_totals(w, policy, aged, inputs, beyond),
            data_since=data_since(inputs),
        )
    return figures


def data_since(inputs: DigestInputs) -> datetime | None:
    """When the store's data begins: the first poll of any source, or the earliest arrival
    read (history imported from before the first poll), whichever is earlier."""
    starts = [s.first_poll_at for s in inputs.sources if s.first_poll_at is not None]
    starts += [d.arrival_time for d in inputs.detentions]
    return min(starts, default=None)


def _quiet(totals: dict[str, Any]) -> bool:
    """Nobody in custody, arriving, leaving or refused bail, and no alert."""
    return bool(
        totals["children_in_custody"] == 0
        and totals["children_arrived"] == 0
        and totals["children_released"] == 0
        and totals["charged_refused_bail"] == 0
        and totals["alerts_total"] == 0
    )
