"""The nine v2 rules (RULES.md, "v2 rules"): each threshold one second before, at and after;
each way a finding clears; the looked-after raise on every child-only rule; the 90-day and
72-hour boundaries; a list entry given twice; Precise reading 11 to 16."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from custody_watch.domain import CellReason, CertificateGround, Detention, LegalBasis, Severity
from custody_watch.rules import Policy, assess
from custody_watch.rules.children import child_detention_duration
from custody_watch.rules.facts import Facts
from custody_watch.rules.policy import (
    CellVisitPolicy,
    CourtProductionPolicy,
    ReferralMissingPolicy,
    RepeatDetentionPolicy,
    WelfareNotInformedPolicy,
)

from .support import (
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    DOB_ADULT,
    EVERYONE,
    HIGH,
    NON_PACE_BASES,
    PACE_BASES,
    WARNING,
    H,
    M,
    S,
    build_detention,
    ladder,
    london,
    state,
    states,
)

INFO = Severity.INFO
DAY = timedelta(days=1)
WELFARE = frozenset({"welfare_person_informed_time"})
REFERRAL = frozenset({"social_care_referral_time"})
LOOKED_AFTER = {"looked_after": True}


# ---------------------------------------------------------------------------------------------
# welfare_not_informed
# ---------------------------------------------------------------------------------------------


def welfare(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY):
    return state(detention, "welfare_not_informed", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", ARRIVAL + 1 * H, WARNING), ("high", ARRIVAL + 3 * H, HIGH)),
)
def test_welfare_not_informed_climbs_at_one_and_three_hours(now, expected):
    assert welfare(build_detention(feed_carries=WELFARE), now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("high", ARRIVAL + 1 * H, HIGH), ("critical", ARRIVAL + 3 * H, CRITICAL)),
)
def test_welfare_not_informed_for_a_looked_after_child_is_high_at_one_hour_critical_at_three(
    now, expected
):
    assert welfare(build_detention(feed_carries=WELFARE, **LOOKED_AFTER), now) == expected


@pytest.mark.parametrize(("told", "expected"), [(0, None), (1, (WARNING, ARRIVAL + H))])
def test_welfare_not_informed_clears_the_second_the_person_is_told(told, expected):
    told_at = ARRIVAL + 2 * H
    detention = build_detention(feed_carries=WELFARE, welfare_person_informed_time=told_at)
    # as of T: a call recorded for 12:00 does not count at 11:59:59
    assert welfare(detention, told_at - S * told) == expected


def test_welfare_not_informed_applies_only_where_the_feed_carries_the_field():
    assert welfare(build_detention(), ARRIVAL + 10 * H) is None
    assert welfare(build_detention(feed_carries=WELFARE), ARRIVAL + 10 * H) == (
        HIGH,
        ARRIVAL + 3 * H,
    )


def test_welfare_not_informed_covers_every_basis_police_protection_included():
    for basis in LegalBasis:
        detention = build_detention(feed_carries=WELFARE, legal_basis=basis)
        assert welfare(detention, ARRIVAL + 1 * H) == (WARNING, ARRIVAL + 1 * H), basis


def test_welfare_not_informed_thresholds_come_from_the_policy():
    policy = Policy(welfare_not_informed=WelfareNotInformedPolicy(2 * H, 5 * H))
    detention = build_detention(feed_carries=WELFARE)
    assert welfare(detention, ARRIVAL + 2 * H - S, policy) is None
    assert welfare(detention, ARRIVAL + 5 * H, policy) == (HIGH, ARRIVAL + 5 * H)


def test_welfare_not_informed_clears_on_release():
    detention = build_detention(feed_carries=WELFARE, released_time=ARRIVAL + 4 * H)
    assert welfare(detention, ARRIVAL + 4 * H - S) == (HIGH, ARRIVAL + 3 * H)
    assert welfare(detention, ARRIVAL + 4 * H) is None


# ---------------------------------------------------------------------------------------------
# interview_without_aa
# ---------------------------------------------------------------------------------------------

I1 = ARRIVAL + 2 * H
I2 = ARRIVAL + 5 * H


def interview(detention: Detention, now: datetime):
    return state(detention, "interview_without_aa", now)


@pytest.mark.parametrize(("now", "expected"), ladder(("critical", I1, CRITICAL)))
def test_an_interview_with_no_appropriate_adult_is_critical_from_its_start(now, expected):
    assert interview(build_detention(interview_times=(I1,)), now) == expected


def test_an_appropriate_adult_who_arrived_at_the_start_covers_the_interview():
    detention = build_detention(interview_times=(I1,), appropriate_adult_arrived_time=I1)
    assert interview(detention, I1 + H) is None


def test_an_appropriate_adult_who_arrived_later_does_not_clear_the_breach():
    detention = build_detention(interview_times=(I1,), appropriate_adult_arrived_time=I1 + S)
    assert interview(detention, I1 + 2 * S) == (CRITICAL, I1)
    assert interview(detention, I1 + 20 * H) == (CRITICAL, I1)


@pytest.mark.parametrize(("now", "expected"), ladder(("high", I1, HIGH)))
def test_an_urgent_interview_authorised_at_or_before_its_start_is_high(now, expected):
    detention = build_detention(interview_times=(I1,), urgent_interview_authorised_time=I1)
    assert interview(detention, now) == expected


def test_an_urgent_authority_given_after_the_interview_started_does_not_cover_it():
    detention = build_detention(interview_times=(I1,), urgent_interview_authorised_time=I1 + S)
    assert interview(detention, I1 + H) == (CRITICAL, I1)


def test_one_urgent_authority_covers_every_interview_after_it():
    detention = build_detention(interview_times=(I1, I2), urgent_interview_authorised_time=I1 - H)
    assert interview(detention, I2 + H) == (HIGH, I1)


def test_the_first_uncovered_interview_gives_critical_even_after_a_covered_one():
    # The authority covers I2 only (given between the interviews); I1 is uncovered.
    detention = build_detention(interview_times=(I1, I2), urgent_interview_authorised_time=I1 + H)
    assert interview(detention, I1) == (CRITICAL, I1)
    assert interview(detention, I2 + H) == (CRITICAL, I1)


def test_an_interview_recorded_for_later_does_not_count_yet():
    detention = build_detention(interview_times=(I2,))
    assert interview(detention, I1) is None
    assert assess(detention, CHILDREN_ONLY, I1).next_change is not None


def test_interview_without_aa_covers_pace_detentions_only():
    for basis in PACE_BASES:
        assert interview(build_detention(legal_basis=basis, interview_times=(I1,)), I1) == (
            CRITICAL,
            I1,
        )
    for basis in NON_PACE_BASES:
        assert interview(build_detention(legal_basis=basis, interview_times=(I1,)), I1) is None


def test_an_interview_given_twice_counts_once():
    detention = build_detention(interview_times=(I1, I1))
    assert interview(detention, I1) == (CRITICAL, I1)


def test_interview_without_aa_clears_on_release():
    detention = build_detention(interview_times=(I1,), released_time=I1 + H)
    assert interview(detention, I1 + H - S) == (CRITICAL, I1)
    assert interview(detention, I1 + H) is None


def test_the_interview_detail_says_when_in_local_time():
    evening = london(2026, 7, 1, 21, 0)
    detention = build_detention(arrival_time=evening - 3 * H, interview_times=(evening,))
    (finding,) = [
        f
        for f in assess(detention, CHILDREN_ONLY, evening).findings
        if f.rule == "interview_without_aa"
    ]
    assert finding.detail == "interviewed without an appropriate adult at 21:00 BST"


# ---------------------------------------------------------------------------------------------
# strip_search_without_aa
# ---------------------------------------------------------------------------------------------

SEARCH = ARRIVAL + 30 * M


def search(detention: Detention, now: datetime):
    return state(detention, "strip_search_without_aa", now)


@pytest.mark.parametrize(("now", "expected"), ladder(("critical", SEARCH, CRITICAL)))
def test_a_strip_search_with_no_appropriate_adult_is_critical(now, expected):
    assert search(build_detention(strip_search_times=(SEARCH,)), now) == expected


@pytest.mark.parametrize(("now", "expected"), ladder(("high", SEARCH, HIGH)))
def test_a_strip_search_with_urgency_recorded_is_high(now, expected):
    detention = build_detention(strip_search_times=(SEARCH,), strip_search_urgent=True)
    assert search(detention, now) == expected


def test_a_strip_search_after_the_adult_arrived_is_fine_and_a_late_adult_clears_nothing():
    covered = build_detention(strip_search_times=(SEARCH,), appropriate_adult_arrived_time=SEARCH)
    late = build_detention(strip_search_times=(SEARCH,), appropriate_adult_arrived_time=SEARCH + M)
    assert search(covered, SEARCH + H) is None
    assert search(late, SEARCH + H) == (CRITICAL, SEARCH)


def test_the_first_uncovered_search_is_since_and_every_basis_is_covered():
    adult = SEARCH + H
    later_search = SEARCH + 2 * H
    detention = build_detention(
        strip_search_times=(later_search, SEARCH), appropriate_adult_arrived_time=adult
    )
    assert search(detention, later_search) == (CRITICAL, SEARCH)
    for basis in LegalBasis:
        d = build_detention(legal_basis=basis, strip_search_times=(SEARCH, SEARCH))
        assert search(d, SEARCH) == (CRITICAL, SEARCH), basis


# ---------------------------------------------------------------------------------------------
# child_in_cell, child_with_adult_in_cell
# ---------------------------------------------------------------------------------------------

CELL = ARRIVAL + 1 * H


@pytest.mark.parametrize(("now", "expected"), ladder(("high", CELL, HIGH)))
def test_a_child_in_a_cell_with_no_reason_is_high_from_the_placing(now, expected):
    assert state(build_detention(cell_time=CELL), "child_in_cell", now) == expected


@pytest.mark.parametrize("reason", list(CellReason))
def test_any_recorded_cell_reason_means_no_child_in_cell_finding(reason):
    detention = build_detention(cell_time=CELL, cell_reason=reason)
    assert state(detention, "child_in_cell", CELL + H) is None


@pytest.mark.parametrize(("now", "expected"), ladder(("critical", CELL, CRITICAL)))
def test_a_detained_adult_in_the_childs_cell_is_critical(now, expected):
    detention = build_detention(adult_in_cell_time=CELL)
    assert state(detention, "child_with_adult_in_cell", now) == expected


def test_the_cell_findings_clear_on_release_only():
    detention = build_detention(cell_time=CELL, adult_in_cell_time=CELL, released_time=CELL + 5 * H)
    found = states(detention, CELL + 5 * H - S)
    assert found["child_in_cell"] == (HIGH, CELL)
    assert found["child_with_adult_in_cell"] == (CRITICAL, CELL)
    assert states(detention, CELL + 5 * H) == {}


# ---------------------------------------------------------------------------------------------
# cell_visit_overdue
# ---------------------------------------------------------------------------------------------


def visit(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY):
    return state(detention, "cell_visit_overdue", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", CELL + 30 * M, WARNING), ("high", CELL + 60 * M, HIGH)),
)
def test_cell_visit_overdue_from_the_placing_when_no_visit_yet(now, expected):
    assert visit(build_detention(cell_time=CELL), now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", CELL + 50 * M, WARNING), ("high", CELL + 80 * M, HIGH)),
)
def test_cell_visit_overdue_counts_from_the_latest_visit(now, expected):
    detention = build_detention(cell_time=CELL, cell_visit_times=(CELL + 10 * M, CELL + 20 * M))
    assert visit(detention, now) == expected


def test_a_visit_clears_the_overdue_finding_the_second_it_is_recorded():
    visited = CELL + 45 * M
    detention = build_detention(cell_time=CELL, cell_visit_times=(visited,))
    assert visit(detention, visited - S) == (WARNING, CELL + 30 * M)
    assert visit(detention, visited) is None
    assert visit(detention, visited + 30 * M) == (WARNING, visited + 30 * M)


def test_a_visit_before_the_cell_does_not_count_and_a_visit_given_twice_counts_once():
    before = build_detention(cell_time=CELL, cell_visit_times=(CELL - 10 * M,))
    assert visit(before, CELL + 30 * M) == (WARNING, CELL + 30 * M)
    twice = build_detention(cell_time=CELL, cell_visit_times=(CELL + 5 * M, CELL + 5 * M))
    assert visit(twice, CELL + 35 * M) == (WARNING, CELL + 35 * M)


def test_no_cell_visit_finding_before_the_cell_time_and_thresholds_from_the_policy():
    detention = build_detention(cell_time=CELL)
    assert visit(detention, CELL - S) is None
    policy = Policy(cell_visit_overdue=CellVisitPolicy(15 * M, 10 * M))
    assert visit(detention, CELL + 15 * M, policy) == (WARNING, CELL + 15 * M)
    assert visit(detention, CELL + 25 * M, policy) == (HIGH, CELL + 25 * M)


# ---------------------------------------------------------------------------------------------
# court_production_overdue
# ---------------------------------------------------------------------------------------------

CHARGED = ARRIVAL + 6 * H
COURT = ARRIVAL + 24 * H


def court(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY):
    return state(detention, "court_production_overdue", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("high", COURT, HIGH), ("critical", COURT + 4 * H, CRITICAL)),
)
def test_court_production_overdue_climbs_at_the_sitting_and_four_hours_on(now, expected):
    detention = build_detention(charged_time=CHARGED, court_due_time=COURT)
    assert court(detention, now) == expected


def test_court_production_needs_a_charge_reached_and_a_sitting_recorded():
    assert court(build_detention(court_due_time=COURT), COURT + H) is None
    assert court(build_detention(charged_time=CHARGED), COURT + H) is None
    late_charge = build_detention(charged_time=COURT + 2 * H, court_due_time=COURT)
    assert court(late_charge, COURT + 2 * H - S) is None
    assert court(late_charge, COURT + 2 * H) == (HIGH, COURT)


def test_court_production_clears_on_release_and_uses_the_policy():
    detention = build_detention(charged_time=CHARGED, court_due_time=COURT, released_time=COURT + H)
    assert court(detention, COURT + H) is None
    policy = Policy(court_production_overdue=CourtProductionPolicy(2 * H))
    assert court(
        build_detention(charged_time=CHARGED, court_due_time=COURT), COURT + 2 * H, policy
    ) == (
        CRITICAL,
        COURT + 2 * H,
    )


# ---------------------------------------------------------------------------------------------
# repeat_detention
# ---------------------------------------------------------------------------------------------

PERSON = {"person_ref": "P-77"}


def repeat(others: tuple[datetime, ...], policy: Policy = CHILDREN_ONLY, **fields):
    detention = build_detention(**(PERSON | fields))
    found = [
        f
        for f in assess(detention, policy, ARRIVAL + H, same_person_arrivals=others).findings
        if f.rule == "repeat_detention"
    ]
    return (found[0].severity, found[0].since) if found else None


def test_two_other_detentions_in_the_90_days_before_arrival_give_a_warning_at_arrival():
    assert repeat((ARRIVAL - 10 * DAY, ARRIVAL - 20 * DAY)) == (WARNING, ARRIVAL)


@pytest.mark.parametrize(
    ("earliest", "expected"),
    [
        pytest.param(ARRIVAL - 90 * DAY - S, None, id="1s-before-the-window"),
        pytest.param(ARRIVAL - 90 * DAY, (WARNING, ARRIVAL), id="at-90-days"),
        pytest.param(ARRIVAL - 90 * DAY + S, (WARNING, ARRIVAL), id="1s-inside"),
    ],
)
def test_the_90_day_window_includes_its_start(earliest, expected):
    assert repeat((earliest, ARRIVAL - DAY)) == expected


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        pytest.param(ARRIVAL - S, (WARNING, ARRIVAL), id="1s-before-arrival"),
        pytest.param(ARRIVAL, None, id="at-arrival"),
        pytest.param(ARRIVAL + S, None, id="after-arrival"),
    ],
)
def test_the_window_ends_before_this_arrival(latest, expected):
    assert repeat((ARRIVAL - DAY, latest)) == expected


def test_one_other_detention_is_not_a_repeat_and_no_person_ref_is_never_one():
    assert repeat((ARRIVAL - DAY,)) is None
    assert repeat((ARRIVAL - DAY, ARRIVAL - 2 * DAY), person_ref=None) is None


def test_repeat_detention_is_raised_for_a_looked_after_child_and_clears_on_release():
    assert repeat((ARRIVAL - DAY, ARRIVAL - 2 * DAY), **LOOKED_AFTER) == (HIGH, ARRIVAL)
    assert repeat((ARRIVAL - DAY, ARRIVAL - 2 * DAY), released_time=ARRIVAL + H) is None


def test_repeat_detention_thresholds_come_from_the_policy():
    policy = Policy(repeat_detention=RepeatDetentionPolicy(lookback=30 * DAY, other_detentions=3))
    three = (ARRIVAL - DAY, ARRIVAL - 2 * DAY, ARRIVAL - 29 * DAY)
    assert repeat(three, policy) == (WARNING, ARRIVAL)
    assert repeat((*three[:2], ARRIVAL - 31 * DAY), policy) is None


# ---------------------------------------------------------------------------------------------
# referral_missing
# ---------------------------------------------------------------------------------------------

RELEASED = ARRIVAL + 5 * H


def referral(detention: Detention, now: datetime, policy: Policy = CHILDREN_ONLY):
    return state(detention, "referral_missing", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(RELEASED - S, None, id="1s-before-release"),
        pytest.param(RELEASED, (INFO, RELEASED), id="at-release"),
        pytest.param(RELEASED + S, (INFO, RELEASED), id="1s-after-release"),
        pytest.param(RELEASED + 72 * H - S, (INFO, RELEASED), id="1s-before-72h"),
        pytest.param(RELEASED + 72 * H, None, id="at-72h"),
        pytest.param(RELEASED + 72 * H + S, None, id="1s-after-72h"),
    ],
)
def test_referral_missing_is_info_from_release_for_72_hours(now, expected):
    detention = build_detention(released_time=RELEASED, feed_carries=REFERRAL)
    assert referral(detention, now) == expected


def test_referral_missing_is_never_raised_for_a_looked_after_child():
    detention = build_detention(released_time=RELEASED, feed_carries=REFERRAL, **LOOKED_AFTER)
    assert referral(detention, RELEASED + H) == (INFO, RELEASED)


@pytest.mark.parametrize(
    ("referred", "expected"),
    [
        pytest.param(ARRIVAL + H, None, id="before-release"),
        pytest.param(RELEASED + 2 * H, None, id="after-release-reached"),
    ],
)
def test_a_referral_reached_clears_it(referred, expected):
    detention = build_detention(
        released_time=RELEASED, feed_carries=REFERRAL, social_care_referral_time=referred
    )
    assert referral(detention, RELEASED + 3 * H) == expected
    # a referral recorded for later does not count yet (as of T)
    assert referral(detention, referred - S) in (None, (INFO, RELEASED))
    if referred > RELEASED:
        assert referral(detention, referred - S) == (INFO, RELEASED)


def test_referral_missing_needs_the_field_carried_a_child_and_the_72_hours_from_the_policy():
    assert referral(build_detention(released_time=RELEASED), RELEASED + H) is None
    adult = build_detention(released_time=RELEASED, feed_carries=REFERRAL, date_of_birth=DOB_ADULT)
    assert referral(adult, RELEASED + H) is None
    assert referral(adult, RELEASED + H, EVERYONE) is None
    policy = Policy(referral_missing=ReferralMissingPolicy(24 * H))
    detention = build_detention(released_time=RELEASED, feed_carries=REFERRAL)
    assert referral(detention, RELEASED + 24 * H - S, policy) == (INFO, RELEASED)
    assert referral(detention, RELEASED + 24 * H, policy) is None


def test_referral_missing_wakes_the_daemon_when_it_ends():
    detention = build_detention(released_time=RELEASED, feed_carries=REFERRAL)
    assert assess(detention, CHILDREN_ONLY, RELEASED + H).next_change == RELEASED + 72 * H


def test_a_child_still_in_custody_has_no_referral_missing():
    detention = build_detention(feed_carries=REFERRAL)
    assert referral(detention, ARRIVAL + 30 * H) is None


# ---------------------------------------------------------------------------------------------
# looked-after raise on every child-only rule
# ---------------------------------------------------------------------------------------------

# (rule, fields that make it fire, instant, unraised state, raised state)
RAISE_CASES = [
    (
        "child_detention_duration",
        {},
        ARRIVAL + 20 * H,
        (HIGH, ARRIVAL + 16 * H),
        (CRITICAL, ARRIVAL + 16 * H),
    ),
    (
        "child_detention_duration",
        {},
        ARRIVAL + 9 * H,
        (WARNING, ARRIVAL + 8 * H),
        (HIGH, ARRIVAL + 8 * H),
    ),
    (
        "post_charge_transfer",
        {"charged_time": ARRIVAL + H, "bail_refused_time": ARRIVAL + H},
        ARRIVAL + 3 * H,
        (HIGH, ARRIVAL + 2 * H),
        (CRITICAL, ARRIVAL + 2 * H),
    ),
    (
        "invalid_s38_certificate",
        {
            "date_of_birth": date(2015, 1, 1),
            "s38_certificate_time": ARRIVAL + H,
            "s38_certificate_ground": CertificateGround.NO_SECURE_ACCOMMODATION,
        },
        ARRIVAL + H,
        (CRITICAL, ARRIVAL + H),
        (CRITICAL, ARRIVAL + H),
    ),
    (
        "place_of_safety_child",
        {"legal_basis": LegalBasis.MHA_S136},
        ARRIVAL,
        (CRITICAL, ARRIVAL),
        (CRITICAL, ARRIVAL),
    ),
    (
        "police_protection_at_station",
        {"legal_basis": LegalBasis.POLICE_PROTECTION},
        ARRIVAL + H,
        (HIGH, ARRIVAL),
        (CRITICAL, ARRIVAL),
    ),
    (
        "police_protection_limit",
        {"legal_basis": LegalBasis.POLICE_PROTECTION},
        ARRIVAL + 50 * H,
        (WARNING, ARRIVAL + 48 * H),
        (HIGH, ARRIVAL + 48 * H),
    ),
    ("appropriate_adult", {}, ARRIVAL + 2 * H, (WARNING, ARRIVAL + H), (HIGH, ARRIVAL + H)),
    (
        "child_overnight",
        {},
        london(2026, 1, 14, 23, 0),
        (WARNING, london(2026, 1, 14, 22, 0)),
        (HIGH, london(2026, 1, 14, 22, 0)),
    ),
    (
        "age_below_criminal_responsibility",
        {"date_of_birth": ARRIVAL.date().replace(year=2018)},
        ARRIVAL,
        (CRITICAL, ARRIVAL),
        (CRITICAL, ARRIVAL),
    ),
    ("missing_dob", {"date_of_birth": None}, ARRIVAL, (WARNING, ARRIVAL), (HIGH, ARRIVAL)),
    (
        "welfare_not_informed",
        {"feed_carries": WELFARE},
        ARRIVAL + 2 * H,
        (WARNING, ARRIVAL + H),
        (HIGH, ARRIVAL + H),
    ),
    (
        "interview_without_aa",
        {"interview_times": (I1,), "urgent_interview_authorised_time": I1},
        I1,
        (HIGH, I1),
        (CRITICAL, I1),
    ),
    (
        "strip_search_without_aa",
        {"strip_search_times": (SEARCH,), "strip_search_urgent": True},
        SEARCH,
        (HIGH, SEARCH),
        (CRITICAL, SEARCH),
    ),
    ("child_in_cell", {"cell_time": CELL}, CELL, (HIGH, CELL), (CRITICAL, CELL)),
    (
        "child_with_adult_in_cell",
        {"adult_in_cell_time": CELL},
        CELL,
        (CRITICAL, CELL),
        (CRITICAL, CELL),
    ),
    (
        "cell_visit_overdue",
        {"cell_time": CELL},
        CELL + 40 * M,
        (WARNING, CELL + 30 * M),
        (HIGH, CELL + 30 * M),
    ),
    (
        "court_production_overdue",
        {"charged_time": CHARGED, "court_due_time": COURT},
        COURT + H,
        (HIGH, COURT),
        (CRITICAL, COURT),
    ),
]


@pytest.mark.parametrize(
    ("rule", "fields", "now", "plain", "raised"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(RAISE_CASES)],
)
def test_a_looked_after_child_gets_every_child_only_finding_one_step_higher(
    rule, fields, now, plain, raised
):
    assert state(build_detention(**fields), rule, now) == plain
    assert state(build_detention(**fields, **LOOKED_AFTER), rule, now) == raised
    off = Policy(looked_after_raise=False)
    assert state(build_detention(**fields, **LOOKED_AFTER), rule, now, off) == plain


def test_the_raised_since_is_when_the_raised_severity_was_first_reached():
    # RULES.md: for warning 8h / high 16h / critical 24h, looked-after is high at 8h and
    # critical at 16h; at 24h it stays critical since 16h.
    detention = build_detention(**LOOKED_AFTER)
    for now, expected in [
        (ARRIVAL + 8 * H - S, None),
        (ARRIVAL + 8 * H, (HIGH, ARRIVAL + 8 * H)),
        (ARRIVAL + 16 * H - S, (HIGH, ARRIVAL + 8 * H)),
        (ARRIVAL + 16 * H, (CRITICAL, ARRIVAL + 16 * H)),
        (ARRIVAL + 24 * H + S, (CRITICAL, ARRIVAL + 16 * H)),
    ]:
        assert state(detention, "child_detention_duration", now) == expected, now


def test_a_raised_ladder_wakes_only_for_a_step_that_can_raise_it():
    # critical since 16h: the 24h step changes nothing, so the rule asks for no wake then
    facts = Facts.of(build_detention(**LOOKED_AFTER), CHILDREN_ONLY, ARRIVAL + 17 * H)
    assessment = child_detention_duration(facts, CHILDREN_ONLY)
    assert assessment.next_step(ARRIVAL + 17 * H, raise_=True) is None
    assert assessment.next_step(ARRIVAL + 17 * H) == ARRIVAL + 24 * H
    assert assessment.next_step(ARRIVAL + 9 * H, raise_=True) == ARRIVAL + 16 * H


def test_the_adult_rules_are_never_raised():
    detention = build_detention(date_of_birth=DOB_ADULT, **LOOKED_AFTER)
    found = states(detention, ARRIVAL + 22 * H, EVERYONE)
    assert found["pace_limit"] == (WARNING, ARRIVAL + 21 * H)
    child = build_detention(**LOOKED_AFTER)
    assert states(child, ARRIVAL + 5 * H + 30 * M)["review_overdue"] == (
        WARNING,
        ARRIVAL + 5 * H + 30 * M,
    )


def test_the_looked_after_words_never_reach_a_finding():
    detention = build_detention(feed_carries=WELFARE, cell_time=CELL, **LOOKED_AFTER)
    for finding in assess(detention, CHILDREN_ONLY, ARRIVAL + 20 * H).findings:
        assert "looked" not in finding.detail.lower()
        assert "care" not in finding.detail.lower()


# ---------------------------------------------------------------------------------------------
# v2 rules are child-only and need custody
# ---------------------------------------------------------------------------------------------


def test_an_adult_gets_no_v2_finding_whatever_the_scope():
    adult = build_detention(
        date_of_birth=DOB_ADULT,
        feed_carries=WELFARE | REFERRAL,
        interview_times=(I1,),
        strip_search_times=(SEARCH,),
        cell_time=CELL,
        adult_in_cell_time=CELL,
        charged_time=CHARGED,
        court_due_time=COURT,
    )
    found = states(adult, COURT + H, EVERYONE)
    assert set(found) <= {"pace_limit", "review_overdue", "place_of_safety_limit"}


def test_a_v1_record_gives_exactly_its_v1_findings_under_v2_rules():
    # Everything a v2 rule could look at is absent: the v2 rules give nothing at any time.
    detention = build_detention(person_ref="P-1", released_time=ARRIVAL + 30 * H)
    v2 = {
        "welfare_not_informed",
        "interview_without_aa",
        "strip_search_without_aa",
        "child_in_cell",
        "child_with_adult_in_cell",
        "cell_visit_overdue",
        "court_production_overdue",
        "repeat_detention",
        "referral_missing",
    }
    for hours in range(0, 80):
        now = ARRIVAL + hours * H
        found = set(states(detention, now))
        assert not found & v2, (hours, found)


def test_replace_keeps_the_new_fields():
    detention = replace(build_detention(), looked_after=True)
    assert detention.looked_after is True
