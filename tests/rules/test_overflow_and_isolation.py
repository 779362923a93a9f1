"""Values at the ends of the calendar never crash the rules, and one rule that fails never
hides the others: it is named in ``Evaluation.failed`` and gives no finding."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody_watch.domain import LegalBasis
from custody_watch.rules import RULE_IDS, Policy, RuleFailure, assess, engine
from custody_watch.rules.engine import Rule
from custody_watch.rules.instants import LONG_AGO, NEVER, earlier, later, minutes
from custody_watch.rules.policy import ChildDurationPolicy, PaceLimitPolicy
from custody_watch.times import format_local

from .support import (
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    EVERYONE,
    HIGH,
    WARNING,
    H,
    M,
    build_detention,
)


@pytest.mark.parametrize("prior", [5_256_000_000, 10**30, 1e308])
def test_a_prior_detention_beyond_any_limit_is_a_passed_pace_limit_not_a_crash(
    prior: float,
) -> None:
    detention = build_detention(prior_detention_minutes=prior)
    evaluation = assess(detention, CHILDREN_ONLY, ARRIVAL + M)
    assert evaluation.failed == ()
    [pace] = [f for f in evaluation.findings if f.rule == "pace_limit"]
    # The limit ran out before any instant that can be named: critical at once.
    assert pace.severity is CRITICAL
    assert pace.since == LONG_AGO
    assert "PACE limit passed" in pace.detail


def test_a_prior_detention_of_a_day_and_a_bit_still_counts_exactly() -> None:
    detention = build_detention(prior_detention_minutes=24 * 60 + 30)
    [pace] = [
        f for f in assess(detention, CHILDREN_ONLY, ARRIVAL).findings if f.rule == "pace_limit"
    ]
    assert (pace.severity, pace.since) == (CRITICAL, ARRIVAL - 30 * M)


def test_a_threshold_of_a_million_days_is_never_reached_and_never_wakes_the_daemon() -> None:
    huge = timedelta(days=99_999_999)
    policy = replace(
        CHILDREN_ONLY,
        child_detention_duration=ChildDurationPolicy(
            warning_after=8 * H, high_after=16 * H, critical_after=huge
        ),
        pace_limit=replace(PaceLimitPolicy(), basic_limit=huge),
    )
    evaluation = assess(build_detention(), policy, ARRIVAL + 20 * H)
    assert evaluation.failed == ()
    found = {f.rule: f.severity for f in evaluation.findings}
    assert found["child_detention_duration"] is HIGH
    assert "pace_limit" not in found
    # Every other threshold is behind it, and one past the calendar's end is no wake-up.
    assert evaluation.next_change is None


@pytest.mark.parametrize(
    "arrival",
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
        datetime(1, 1, 1, 23, 0, tzinfo=UTC),
    ],
    ids=["an-hour-before-the-end", "the-last-instant", "the-first-instant", "the-first-day"],
)
@pytest.mark.parametrize("basis", list(LegalBasis))
def test_a_record_at_either_end_of_the_calendar_is_evaluated_without_failing(
    arrival: datetime, basis: LegalBasis
) -> None:
    detention = build_detention(
        arrival_time=arrival,
        arrest_time=arrival,
        date_of_birth=date(1, 1, 1) if arrival.year == 1 else date(9990, 1, 1),
        legal_basis=basis,
        bail_refused_time=arrival,
        police_protection_start=arrival,
    )
    for now in (arrival, datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)):
        for policy in (CHILDREN_ONLY, EVERYONE):
            evaluation = assess(detention, policy, now)
            assert evaluation.failed == ()
            for finding in evaluation.findings:
                format_local(finding.since, policy.zone)  # and each can be shown


def test_an_arrival_in_the_last_hour_has_no_threshold_past_the_end() -> None:
    arrival = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    evaluation = assess(build_detention(arrival_time=arrival), CHILDREN_ONLY, arrival)
    assert evaluation.failed == ()
    assert evaluation.next_change is None or evaluation.next_change < NEVER


def test_instant_arithmetic_saturates_at_never_and_long_ago() -> None:
    assert later(datetime(9999, 12, 31, tzinfo=UTC), timedelta(days=2)) == NEVER
    assert earlier(datetime(1, 1, 2, tzinfo=UTC), timedelta(days=5)) == LONG_AGO
    assert earlier(NEVER, timedelta(hours=3)) == NEVER  # never, less a warning, is never
    assert later(ARRIVAL, 2 * H) == ARRIVAL + 2 * H
    assert earlier(ARRIVAL, 2 * H) == ARRIVAL - 2 * H
    assert minutes(1e308) == timedelta.max
    assert minutes(90) == 90 * M


def _broken(*_args: object) -> None:
    raise ArithmeticError("a rule that cannot cope")


def test_a_rule_that_raises_is_named_and_the_other_rules_still_give_their_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = tuple(
        Rule(r.id, _broken, r.child_only) if r.id == "appropriate_adult" else r
        for r in engine.RULES
    )
    monkeypatch.setattr(engine, "RULES", rules)
    detention = build_detention()
    evaluation = assess(detention, CHILDREN_ONLY, ARRIVAL + 22 * H)

    assert evaluation.failed == (
        RuleFailure("appropriate_adult", "ArithmeticError: a rule that cannot cope"),
    )
    found = {f.rule: f.severity for f in evaluation.findings}
    assert "appropriate_adult" not in found
    assert found["child_detention_duration"] is HIGH
    assert found["pace_limit"] is WARNING
    assert "review_overdue" in found and "child_overnight" in found


def test_facts_that_cannot_be_worked_out_fail_every_rule_and_raise_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_facts(*_args: object) -> None:
        raise ValueError("no facts")

    monkeypatch.setattr(engine.Facts, "of", no_facts)
    evaluation = assess(build_detention(), CHILDREN_ONLY, ARRIVAL + H)
    assert evaluation.findings == ()
    assert [f.rule for f in evaluation.failed] == list(RULE_IDS)
    assert {f.error for f in evaluation.failed} == {"ValueError: no facts"}


def test_a_detention_with_no_failure_reports_none() -> None:
    assert assess(build_detention(), Policy(), ARRIVAL + 5 * H).failed == ()


INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
).map(lambda at: at.replace(tzinfo=UTC))
THRESHOLDS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=366))


@settings(max_examples=300, deadline=None, database=None)
@given(
    arrival=INSTANTS,
    events=st.lists(INSTANTS, min_size=6, max_size=6),
    now=INSTANTS,
    prior=st.one_of(st.integers(min_value=0, max_value=10**20), st.floats(0, 1e308)),
    threshold=THRESHOLDS,
    basis=st.sampled_from(list(LegalBasis)),
    born=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
)
def test_no_record_anywhere_in_the_calendar_makes_a_rule_fail(
    arrival: datetime,
    events: list[datetime],
    now: datetime,
    prior: float,
    threshold: timedelta,
    basis: LegalBasis,
    born: date,
) -> None:
    """Whatever the reader lets through (and more: any instant from year 1 to 9999, any
    prior detention, any threshold up to the config's bound of 366 days), every rule
    answers."""
    detention = build_detention(
        arrival_time=arrival,
        arrest_time=events[0],
        relevant_time=events[1],
        date_of_birth=born,
        legal_basis=basis,
        prior_detention_minutes=prior,
        reviews=(events[2],),
        superintendent_extension_until=events[3],
        warrant_until=events[3],
        mha_extension_until=events[3],
        police_protection_start=events[4],
        bail_refused_time=events[5],
    )
    policy = replace(
        EVERYONE,
        child_detention_duration=ChildDurationPolicy(threshold, threshold, threshold),
        pace_limit=replace(PaceLimitPolicy(), basic_limit=threshold, warning_before=threshold),
    )
    evaluation = assess(detention, policy, now)
    assert evaluation.failed == ()
    assert evaluation.next_change is None or now < evaluation.next_change < NEVER
