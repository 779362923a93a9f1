"""The engine: which rules run for whom (scope), the contract's sort order, ``next_change``,
and "as of T" (events recorded for after T have not happened yet). See RULES.md."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, time
from typing import NamedTuple

import pytest

from custody_watch.domain import CertificateGround, Detention, LegalBasis, Severity
from custody_watch.rules import (
    RULE_IDS,
    Evaluation,
    People,
    Policy,
    assess,
    evaluate,
    evaluate_all,
)

from .support import (
    ADULT_RULES,
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    DOB_ADULT,
    DOCUMENTED_SEVERITIES,
    EVERYONE,
    HIGH,
    WARNING,
    H,
    M,
    S,
    born_years_before,
    rules_of,
    states,
)

CONTRACT_RULES = (
    "pace_limit",
    "review_overdue",
    "child_detention_duration",
    "post_charge_transfer",
    "invalid_s38_certificate",
    "place_of_safety_child",
    "place_of_safety_limit",
    "police_protection_at_station",
    "police_protection_limit",
    "appropriate_adult",
    "child_overnight",
    "age_below_criminal_responsibility",
    "missing_dob",
    # v2
    "welfare_not_informed",
    "interview_without_aa",
    "strip_search_without_aa",
    "child_in_cell",
    "child_with_adult_in_cell",
    "cell_visit_overdue",
    "court_production_overdue",
    "repeat_detention",
    "referral_missing",
)


def test_the_engine_has_exactly_the_contract_rules():
    assert set(RULE_IDS) == set(CONTRACT_RULES)
    assert len(RULE_IDS) == len(CONTRACT_RULES)
    assert set(DOCUMENTED_SEVERITIES) == set(CONTRACT_RULES)


def test_the_default_policy_has_exactly_the_contract_thresholds():
    policy = Policy()
    assert policy.people is People.CHILDREN
    assert str(policy.zone) == "Europe/London"
    assert (
        policy.pace_limit.basic_limit,
        policy.pace_limit.extension_cap,
        policy.pace_limit.warrant_cap,
        policy.pace_limit.warning_before,
        policy.pace_limit.high_before,
    ) == (24 * H, 36 * H, 96 * H, 3 * H, 1 * H)
    assert (
        policy.review_overdue.first_review_after,
        policy.review_overdue.review_interval,
        policy.review_overdue.warning_before,
        policy.review_overdue.critical_after,
    ) == (6 * H, 9 * H, 30 * M, 2 * H)
    duration = policy.child_detention_duration
    assert (duration.warning_after, duration.high_after, duration.critical_after) == (
        8 * H,
        16 * H,
        24 * H,
    )
    assert (
        policy.post_charge_transfer.high_after,
        policy.post_charge_transfer.critical_after,
    ) == (1 * H, 4 * H)
    assert (
        policy.place_of_safety_limit.limit,
        policy.place_of_safety_limit.extension_cap,
        policy.place_of_safety_limit.warning_before,
    ) == (24 * H, 36 * H, 4 * H)
    assert policy.police_protection_at_station.critical_after == 2 * H
    protection = policy.police_protection_limit
    assert (protection.warning_after, protection.high_after, protection.critical_after) == (
        48 * H,
        66 * H,
        72 * H,
    )
    assert (policy.appropriate_adult.warning_after, policy.appropriate_adult.high_after) == (
        1 * H,
        3 * H,
    )
    assert (policy.child_overnight.window_start, policy.child_overnight.window_end) == (
        time(22, 0),
        time(7, 0),
    )


# ---------------------------------------------------------------------------------------------
# Scope: children (default) or all
# ---------------------------------------------------------------------------------------------

A_DAY_IN = ARRIVAL + 24 * H


def test_with_the_default_scope_an_adult_produces_no_findings(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert evaluate(adult, CHILDREN_ONLY, A_DAY_IN) == []


def test_with_scope_all_an_adult_gets_the_pace_rules(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert states(adult, A_DAY_IN, EVERYONE) == {
        "pace_limit": (CRITICAL, A_DAY_IN),
        "review_overdue": (CRITICAL, ARRIVAL + 8 * H),
    }


def test_with_scope_all_an_adult_at_a_place_of_safety_gets_only_the_limit(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT, legal_basis=LegalBasis.MHA_S136)
    assert states(adult, A_DAY_IN, EVERYONE) == {"place_of_safety_limit": (CRITICAL, A_DAY_IN)}


@pytest.mark.parametrize("basis", list(LegalBasis))
def test_child_only_rules_never_fire_for_adults_even_with_scope_all(make_detention, basis):
    adult = make_detention(
        date_of_birth=DOB_ADULT,
        legal_basis=basis,
        charged_time=ARRIVAL + 1 * H,
        bail_refused_time=ARRIVAL + 2 * H,
        s38_certificate_time=ARRIVAL + 3 * H,
        s38_certificate_ground=CertificateGround.NO_SECURE_ACCOMMODATION,
    )
    for now in (ARRIVAL, ARRIVAL + 7 * H, A_DAY_IN, ARRIVAL + 80 * H):
        assert rules_of(evaluate(adult, EVERYONE, now)) <= ADULT_RULES


def test_a_child_gets_the_same_findings_with_either_scope(make_detention):
    child = make_detention()
    assert evaluate(child, CHILDREN_ONLY, A_DAY_IN) == evaluate(child, EVERYONE, A_DAY_IN)


def test_a_child_a_day_in_has_every_rule_that_applies(make_detention):
    assert states(make_detention(), A_DAY_IN) == {
        "pace_limit": (CRITICAL, A_DAY_IN),
        "review_overdue": (CRITICAL, ARRIVAL + 8 * H),
        "child_detention_duration": (CRITICAL, A_DAY_IN),
        "appropriate_adult": (HIGH, ARRIVAL + 3 * H),
        "child_overnight": (WARNING, ARRIVAL + 12 * H),
    }


def test_someone_arrested_on_their_18th_birthday_is_an_adult(make_detention):
    eighteen = make_detention(date_of_birth=born_years_before(18, ARRIVAL))
    assert evaluate(eighteen, CHILDREN_ONLY, A_DAY_IN) == []


def test_someone_arrested_the_day_before_their_18th_birthday_stays_a_child(make_detention):
    # Age is fixed at arrest: turning 18 in custody does not end the child rules.
    seventeen = make_detention(date_of_birth=born_years_before(18, ARRIVAL + 24 * H))
    assert "child_detention_duration" in states(seventeen, ARRIVAL + 30 * H)


def test_a_record_without_a_date_of_birth_gets_the_child_rules(make_detention):
    unknown = make_detention(date_of_birth=None)
    found = states(unknown, A_DAY_IN)
    assert found["missing_dob"] == (WARNING, ARRIVAL)
    assert found["child_detention_duration"] == (CRITICAL, A_DAY_IN)


# ---------------------------------------------------------------------------------------------
# In custody at T
# ---------------------------------------------------------------------------------------------


def test_nothing_is_reported_before_arrival(make_detention):
    detention = make_detention(prior_detention_minutes=30 * 60, date_of_birth=None)
    assert evaluate(detention, CHILDREN_ONLY, ARRIVAL - S) == []
    assert evaluate(detention, CHILDREN_ONLY, ARRIVAL) != []


def test_nothing_is_reported_from_the_release_time_on(make_detention):
    released = ARRIVAL + 30 * H
    detention = make_detention(released_time=released)
    assert evaluate(detention, CHILDREN_ONLY, released - S) != []
    assert evaluate(detention, CHILDREN_ONLY, released) == []
    assert evaluate(detention, CHILDREN_ONLY, released + 100 * H) == []


def test_findings_name_their_record_and_say_something(make_detention):
    findings = evaluate(make_detention(custody_ref="CR-77"), CHILDREN_ONLY, A_DAY_IN)
    assert findings
    for finding in findings:
        assert finding.custody_ref == "CR-77"
        assert isinstance(finding.severity, Severity)
        assert isinstance(finding.detail, str) and finding.detail.strip()


def test_evaluate_returns_the_findings_of_assess(make_detention):
    detention = make_detention()
    evaluation = assess(detention, CHILDREN_ONLY, A_DAY_IN)
    assert isinstance(evaluation, Evaluation)
    assert evaluate(detention, CHILDREN_ONLY, A_DAY_IN) == list(evaluation.findings)


# ---------------------------------------------------------------------------------------------
# Sort order of evaluate_all
# ---------------------------------------------------------------------------------------------


def test_evaluate_all_sorts_by_severity_then_since_then_ref_then_rule(make_detention):
    detentions = [
        make_detention(custody_ref="C-2"),
        make_detention(custody_ref="C-3", date_of_birth=DOB_ADULT),
        make_detention(custody_ref="C-10"),
    ]
    found = [
        (f.severity, f.since, f.custody_ref, f.rule)
        for f in evaluate_all(detentions, EVERYONE, A_DAY_IN)
    ]
    eight = ARRIVAL + 8 * H
    assert found == [
        (CRITICAL, eight, "C-10", "review_overdue"),
        (CRITICAL, eight, "C-2", "review_overdue"),
        (CRITICAL, eight, "C-3", "review_overdue"),
        (CRITICAL, A_DAY_IN, "C-10", "child_detention_duration"),
        (CRITICAL, A_DAY_IN, "C-10", "pace_limit"),
        (CRITICAL, A_DAY_IN, "C-2", "child_detention_duration"),
        (CRITICAL, A_DAY_IN, "C-2", "pace_limit"),
        (CRITICAL, A_DAY_IN, "C-3", "pace_limit"),
        (HIGH, ARRIVAL + 3 * H, "C-10", "appropriate_adult"),
        (HIGH, ARRIVAL + 3 * H, "C-2", "appropriate_adult"),
        (WARNING, ARRIVAL + 12 * H, "C-10", "child_overnight"),
        (WARNING, ARRIVAL + 12 * H, "C-2", "child_overnight"),
    ]


def test_evaluate_all_puts_an_earlier_since_first_within_a_severity(make_detention):
    late = make_detention(custody_ref="A-late", arrival_time=ARRIVAL + 1 * H)
    early = make_detention(custody_ref="Z-early")
    found = evaluate_all([late, early], CHILDREN_ONLY, ARRIVAL + 3 * H + 30 * M)
    highs = [(f.custody_ref, f.rule) for f in found if f.severity is HIGH]
    assert highs == [("Z-early", "appropriate_adult")]
    warnings = [(f.custody_ref, f.since) for f in found if f.severity is WARNING]
    assert warnings == [("A-late", ARRIVAL + 2 * H)]


def test_evaluate_all_does_not_depend_on_input_order(make_detention):
    detentions = [
        make_detention(custody_ref="C-1"),
        make_detention(custody_ref="C-2", date_of_birth=None, arrival_time=ARRIVAL + 2 * H),
        make_detention(custody_ref="C-3", legal_basis=LegalBasis.POLICE_PROTECTION),
        make_detention(custody_ref="C-4", date_of_birth=DOB_ADULT),
    ]
    expected = evaluate_all(detentions, EVERYONE, A_DAY_IN)
    for order in itertools.permutations(detentions):
        assert evaluate_all(order, EVERYONE, A_DAY_IN) == expected


def test_evaluate_all_of_nothing_is_empty():
    assert evaluate_all([], CHILDREN_ONLY, ARRIVAL) == []


# ---------------------------------------------------------------------------------------------
# next_change
# ---------------------------------------------------------------------------------------------


def next_change(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY):
    return assess(detention, policy, now).next_change


def test_next_change_walks_through_every_threshold_of_a_child_held_for_a_day(make_detention):
    detention = make_detention()
    wakes = []
    now = ARRIVAL
    while (now := next_change(detention, now)) is not None:
        wakes.append(now - ARRIVAL)
    assert wakes == [
        1 * H,  # appropriate_adult warning
        3 * H,  # appropriate_adult high
        5 * H + 30 * M,  # review_overdue warning
        6 * H,  # review_overdue high
        8 * H,  # review_overdue critical, child_detention_duration warning
        12 * H,  # child_overnight at 22:00 GMT
        16 * H,  # child_detention_duration high
        21 * H,  # pace_limit warning
        23 * H,  # pace_limit high
        24 * H,  # pace_limit and child_detention_duration critical
    ]


def test_next_change_between_thresholds_is_the_next_threshold(make_detention):
    assert next_change(make_detention(), ARRIVAL + 1 * H + S) == ARRIVAL + 3 * H
    assert next_change(make_detention(), ARRIVAL + 3 * H - S) == ARRIVAL + 3 * H


def test_next_change_is_a_future_event_when_it_comes_first(make_detention):
    detention = make_detention(appropriate_adult_arrived_time=ARRIVAL + 40 * M)
    assert next_change(detention, ARRIVAL) == ARRIVAL + 40 * M


def test_next_change_before_arrival_is_the_arrival(make_detention):
    evaluation = assess(make_detention(), CHILDREN_ONLY, ARRIVAL - 5 * H)
    assert evaluation == Evaluation((), ARRIVAL)


def test_next_change_is_the_release_when_it_comes_first(make_detention):
    detention = make_detention(released_time=ARRIVAL + 30 * M)
    assert next_change(detention, ARRIVAL) == ARRIVAL + 30 * M


def test_next_change_after_release_with_nothing_recorded_later_is_none(make_detention):
    detention = make_detention(released_time=ARRIVAL + 30 * M)
    assert assess(detention, CHILDREN_ONLY, ARRIVAL + 30 * M) == Evaluation((), None)


def test_next_change_after_the_last_threshold_is_none(make_detention):
    assert next_change(make_detention(), A_DAY_IN) is None
    assert next_change(make_detention(), A_DAY_IN + 100 * H) is None


def test_next_change_for_an_adult_out_of_scope_is_only_a_recorded_event(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert next_change(adult, ARRIVAL) is None
    released = replace(adult, released_time=ARRIVAL + 5 * H)
    assert next_change(released, ARRIVAL) == ARRIVAL + 5 * H


def test_next_change_for_an_adult_with_scope_all_is_the_next_pace_threshold(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert next_change(adult, ARRIVAL, EVERYONE) == ARRIVAL + 5 * H + 30 * M


def test_next_change_is_strictly_after_now_at_a_threshold(make_detention):
    assert next_change(make_detention(), ARRIVAL + 1 * H) == ARRIVAL + 3 * H


# ---------------------------------------------------------------------------------------------
# As of T: events recorded for after T have not happened yet
# ---------------------------------------------------------------------------------------------

REFUSED_BAIL = {"charged_time": ARRIVAL + 2 * H, "bail_refused_time": ARRIVAL + 3 * H}


class Event(NamedTuple):
    """An event recorded at ``at`` (the fields in ``records``) on a record that otherwise
    has ``context``; ``rule``'s state just before the event and from its time on."""

    at: datetime
    records: dict[str, object]
    rule: str
    before: tuple[Severity, datetime] | None
    after: tuple[Severity, datetime] | None
    context: dict[str, object] = {}  # noqa: RUF012 (never mutated)


EVENTS = {
    "review": Event(
        ARRIVAL + 7 * H,
        {"reviews": (ARRIVAL + 7 * H,)},
        "review_overdue",
        before=(HIGH, ARRIVAL + 6 * H),
        after=None,
    ),
    "charge": Event(
        ARRIVAL + 23 * H + 30 * M,
        {"charged_time": ARRIVAL + 23 * H + 30 * M},
        "pace_limit",
        before=(HIGH, ARRIVAL + 23 * H),
        after=None,
    ),
    "release": Event(
        ARRIVAL + 9 * H,
        {"released_time": ARRIVAL + 9 * H},
        "child_detention_duration",
        before=(WARNING, ARRIVAL + 8 * H),
        after=None,
    ),
    "bail refusal": Event(
        ARRIVAL + 13 * H,
        {"bail_refused_time": ARRIVAL + 13 * H},
        "child_overnight",
        before=(WARNING, ARRIVAL + 12 * H),
        after=(HIGH, ARRIVAL + 13 * H),
        context={"charged_time": ARRIVAL + 12 * H},
    ),
    "la accommodation request": Event(
        ARRIVAL + 4 * H + 30 * M,
        {"la_accommodation_requested_time": ARRIVAL + 4 * H + 30 * M},
        "post_charge_transfer",
        before=(HIGH, ARRIVAL + 4 * H),
        after=None,
        context=REFUSED_BAIL,
    ),
    "s38 certificate": Event(
        ARRIVAL + 8 * H,
        {"s38_certificate_time": ARRIVAL + 8 * H},
        "post_charge_transfer",
        before=(CRITICAL, ARRIVAL + 7 * H),
        after=None,
        context={**REFUSED_BAIL, "s38_certificate_ground": CertificateGround.IMPRACTICABLE},
    ),
    "invalid s38 certificate": Event(
        ARRIVAL + 8 * H,
        {"s38_certificate_time": ARRIVAL + 8 * H},
        "invalid_s38_certificate",
        before=None,
        after=(CRITICAL, ARRIVAL + 8 * H),
        context={
            **REFUSED_BAIL,
            "date_of_birth": date(2015, 1, 1),
            "s38_certificate_ground": CertificateGround.NO_SECURE_ACCOMMODATION,
        },
    ),
    "superintendent extension": Event(
        ARRIVAL + 23 * H + 30 * M,
        {
            "superintendent_extension_time": ARRIVAL + 23 * H + 30 * M,
            "superintendent_extension_until": ARRIVAL + 30 * H,
        },
        "pace_limit",
        before=(HIGH, ARRIVAL + 23 * H),
        after=None,
    ),
    "warrant": Event(
        ARRIVAL + 35 * H + 30 * M,
        {"warrant_time": ARRIVAL + 35 * H + 30 * M, "warrant_until": ARRIVAL + 60 * H},
        "pace_limit",
        before=(HIGH, ARRIVAL + 35 * H),
        after=None,
        context={"superintendent_extension_until": ARRIVAL + 36 * H},
    ),
    "mha extension": Event(
        ARRIVAL + 22 * H,
        {"mha_extension_time": ARRIVAL + 22 * H, "mha_extension_until": ARRIVAL + 30 * H},
        "place_of_safety_limit",
        before=(WARNING, ARRIVAL + 20 * H),
        after=None,
        context={"legal_basis": LegalBasis.MHA_S136},
    ),
    "appropriate adult requested": Event(
        ARRIVAL + 2 * H,
        {"appropriate_adult_requested_time": ARRIVAL + 2 * H},
        "appropriate_adult",
        before=(WARNING, ARRIVAL + 1 * H),
        after=None,
    ),
    "appropriate adult arrived": Event(
        ARRIVAL + 4 * H,
        {"appropriate_adult_arrived_time": ARRIVAL + 4 * H},
        "appropriate_adult",
        before=(HIGH, ARRIVAL + 3 * H),
        after=None,
    ),
}
EACH_EVENT = pytest.mark.parametrize(
    "event", [pytest.param(event, id=name) for name, event in EVENTS.items()]
)


@EACH_EVENT
def test_before_its_time_an_event_is_as_if_never_recorded(make_detention, event):
    recorded = make_detention(**event.context, **event.records)
    never = make_detention(**event.context)
    for now in (ARRIVAL, event.at - M, event.at - S):
        assert states(recorded, now) == states(never, now)
    assert states(recorded, event.at - S).get(event.rule) == event.before


@EACH_EVENT
def test_from_its_time_on_an_event_changes_the_finding(make_detention, event):
    recorded = make_detention(**event.context, **event.records)
    assert states(recorded, event.at).get(event.rule) == event.after
    assert states(recorded, event.at + S).get(event.rule) == event.after


@EACH_EVENT
def test_next_change_one_second_before_an_event_is_the_event(make_detention, event):
    recorded = make_detention(**event.context, **event.records)
    assert next_change(recorded, event.at - S) == event.at


def test_start_of_detention_times_are_used_as_given_even_after_t(make_detention):
    # relevant_time is not an "as of" time: a recorded RT after T still fixes the limit.
    rt = ARRIVAL + 2 * H
    detention = make_detention(relevant_time=rt, prior_detention_minutes=27 * 60)
    assert states(detention, ARRIVAL)["pace_limit"] == (CRITICAL, rt - 3 * H)


def test_police_protection_start_is_used_as_given(make_detention):
    start = ARRIVAL - 70 * H
    detention = make_detention(
        legal_basis=LegalBasis.POLICE_PROTECTION, police_protection_start=start
    )
    assert states(detention, ARRIVAL)["police_protection_limit"] == (HIGH, start + 66 * H)
