"""PACE rules: pace_limit (ss.41-44, s.47(6)), review_overdue (s.40) and
age_below_criminal_responsibility (CYPA 1933 s.50). See RULES.md."""

from __future__ import annotations

from datetime import date

import pytest

from custody_watch.domain import LegalBasis

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
    born_years_before,
    ladder,
    state,
    utc,
)

# ---------------------------------------------------------------------------------------------
# pace_limit
# ---------------------------------------------------------------------------------------------

LIMIT = ARRIVAL + 24 * H  # RT = arrival when no arrest or relevant time is recorded


def pace(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "pace_limit", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", LIMIT - 3 * H, WARNING),
        ("high", LIMIT - 1 * H, HIGH),
        ("critical", LIMIT, CRITICAL),
    ),
)
def test_pace_limit_climbs_to_critical_exactly_at_24_hours_from_arrival(
    make_detention, now, expected
):
    assert pace(make_detention(), now) == expected


def test_pace_limit_stays_critical_since_the_limit_long_after_it(make_detention):
    assert pace(make_detention(), LIMIT + 50 * H) == (CRITICAL, LIMIT)


def test_pace_limit_is_silent_early_in_a_detention(make_detention):
    assert pace(make_detention(), ARRIVAL) is None
    assert pace(make_detention(), ARRIVAL + 20 * H) is None


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", ARRIVAL - 2 * H + 21 * H, WARNING),
        ("high", ARRIVAL - 2 * H + 23 * H, HIGH),
        ("critical", ARRIVAL - 2 * H + 24 * H, CRITICAL),
    ),
)
def test_pace_limit_counts_from_a_recorded_relevant_time(make_detention, now, expected):
    detention = make_detention(relevant_time=ARRIVAL - 2 * H, arrest_time=ARRIVAL - 30 * H)
    assert pace(detention, now) == expected


def test_a_recorded_relevant_time_is_used_even_when_later_than_arrival(make_detention):
    detention = make_detention(relevant_time=ARRIVAL + 1 * H)
    assert pace(detention, ARRIVAL + 25 * H - S) == (HIGH, ARRIVAL + 24 * H)
    assert pace(detention, ARRIVAL + 25 * H) == (CRITICAL, ARRIVAL + 25 * H)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", ARRIVAL + 15 * H, WARNING),
        ("high", ARRIVAL + 17 * H, HIGH),
        ("critical", ARRIVAL + 18 * H, CRITICAL),
    ),
)
def test_pace_limit_runs_from_arrest_plus_24h_when_that_is_earlier_than_arrival(
    make_detention, now, expected
):
    # Arrested 30h before arriving (e.g. elsewhere in the country): RT = arrest + 24h.
    detention = make_detention(arrest_time=ARRIVAL - 30 * H)
    assert pace(detention, now) == expected


def test_pace_limit_runs_from_arrival_when_arrest_plus_24h_is_later(make_detention):
    detention = make_detention(arrest_time=ARRIVAL - 23 * H)
    assert pace(detention, LIMIT - S) == (HIGH, LIMIT - H)
    assert pace(detention, LIMIT) == (CRITICAL, LIMIT)


def test_pace_limit_runs_from_arrival_when_arrest_plus_24h_equals_arrival(make_detention):
    detention = make_detention(arrest_time=ARRIVAL - 24 * H)
    assert pace(detention, LIMIT) == (CRITICAL, LIMIT)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", LIMIT - 90 * M - 3 * H, WARNING),
        ("high", LIMIT - 90 * M - 1 * H, HIGH),
        ("critical", LIMIT - 90 * M, CRITICAL),
    ),
)
def test_prior_detention_minutes_count_against_the_24_hour_limit(make_detention, now, expected):
    detention = make_detention(legal_basis=LegalBasis.BAIL_RETURN, prior_detention_minutes=90)
    assert pace(detention, now) == expected


def test_pace_limit_since_may_fall_before_arrival(make_detention):
    # 23h already served: warning at RT-2h, high at RT, critical at RT+1h.
    detention = make_detention(legal_basis=LegalBasis.BAIL_RETURN, prior_detention_minutes=23 * 60)
    assert pace(detention, ARRIVAL) == (HIGH, ARRIVAL)
    assert pace(detention, ARRIVAL + 1 * H) == (CRITICAL, ARRIVAL + 1 * H)

    served_a_day = make_detention(prior_detention_minutes=25 * 60)
    assert pace(served_a_day, ARRIVAL) == (CRITICAL, ARRIVAL - 1 * H)


def test_pace_limit_is_not_reported_before_arrival_even_if_the_limit_has_passed(make_detention):
    detention = make_detention(prior_detention_minutes=25 * 60)
    assert pace(detention, ARRIVAL - S) is None


# --- superintendent extension (s.42) ---------------------------------------------------------

EXTENSION_AT = ARRIVAL + 20 * H
EXTENDED_LIMIT = ARRIVAL + 32 * H


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", EXTENDED_LIMIT - 3 * H, WARNING),
        ("high", EXTENDED_LIMIT - 1 * H, HIGH),
        ("critical", EXTENDED_LIMIT, CRITICAL),
    ),
)
def test_a_superintendent_extension_moves_the_limit_to_its_until(make_detention, now, expected):
    detention = make_detention(
        superintendent_extension_time=EXTENSION_AT, superintendent_extension_until=EXTENDED_LIMIT
    )
    assert pace(detention, now) == expected


def test_an_extension_counts_only_once_its_time_is_reached(make_detention):
    extension_at = ARRIVAL + 23 * H + 30 * M  # after warning and high on the 24h limit
    detention = make_detention(
        superintendent_extension_time=extension_at, superintendent_extension_until=EXTENDED_LIMIT
    )
    assert pace(detention, extension_at - S) == (HIGH, LIMIT - H)
    assert pace(detention, extension_at) is None
    assert pace(detention, LIMIT) is None


def test_an_extension_authorised_after_the_24_hour_limit_passed_clears_critical_from_then(
    make_detention,
):
    late = LIMIT + 2 * H
    detention = make_detention(
        superintendent_extension_time=late, superintendent_extension_until=EXTENDED_LIMIT
    )
    assert pace(detention, late - S) == (CRITICAL, LIMIT)
    assert pace(detention, late) is None


def test_an_extension_without_a_time_counts_from_the_start(make_detention):
    detention = make_detention(superintendent_extension_until=EXTENDED_LIMIT)
    assert pace(detention, LIMIT - H) is None
    assert pace(detention, LIMIT) is None
    assert pace(detention, EXTENDED_LIMIT) == (CRITICAL, EXTENDED_LIMIT)


def test_an_extension_time_without_an_until_changes_nothing(make_detention):
    detention = make_detention(superintendent_extension_time=EXTENSION_AT)
    assert pace(detention, LIMIT) == (CRITICAL, LIMIT)


def test_an_extension_is_capped_at_relevant_time_plus_36_hours(make_detention):
    detention = make_detention(
        superintendent_extension_time=EXTENSION_AT, superintendent_extension_until=ARRIVAL + 40 * H
    )
    assert pace(detention, ARRIVAL + 36 * H - S) == (HIGH, ARRIVAL + 35 * H)
    assert pace(detention, ARRIVAL + 36 * H) == (CRITICAL, ARRIVAL + 36 * H)


def test_the_extension_cap_is_reduced_by_prior_detention(make_detention):
    detention = make_detention(
        legal_basis=LegalBasis.BAIL_RETURN,
        prior_detention_minutes=120,
        superintendent_extension_time=EXTENSION_AT,
        superintendent_extension_until=ARRIVAL + 40 * H,
    )
    assert pace(detention, ARRIVAL + 34 * H - S) == (HIGH, ARRIVAL + 33 * H)
    assert pace(detention, ARRIVAL + 34 * H) == (CRITICAL, ARRIVAL + 34 * H)


def test_an_extension_until_within_the_cap_is_used_as_recorded_despite_prior_detention(
    make_detention,
):
    detention = make_detention(
        prior_detention_minutes=120,
        superintendent_extension_time=EXTENSION_AT,
        superintendent_extension_until=EXTENDED_LIMIT,
    )
    assert pace(detention, EXTENDED_LIMIT) == (CRITICAL, EXTENDED_LIMIT)


def test_an_extension_until_earlier_than_24_hours_is_taken_as_recorded(make_detention):
    # L = min(until, RT + 36h - P): the contract takes the recorded until.
    detention = make_detention(
        superintendent_extension_time=ARRIVAL + 10 * H,
        superintendent_extension_until=ARRIVAL + 20 * H,
    )
    assert pace(detention, ARRIVAL + 20 * H) == (CRITICAL, ARRIVAL + 20 * H)


# --- warrant of further detention (ss.43-44) ---------------------------------------------------

WARRANT_AT = ARRIVAL + 34 * H
WARRANT_UNTIL = ARRIVAL + 60 * H


def with_extension_and_warrant(make_detention, **overrides):
    fields = {
        "superintendent_extension_time": EXTENSION_AT,
        "superintendent_extension_until": ARRIVAL + 36 * H,
        "warrant_time": WARRANT_AT,
        "warrant_until": WARRANT_UNTIL,
    }
    fields.update(overrides)
    return make_detention(**fields)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", WARRANT_UNTIL - 3 * H, WARNING),
        ("high", WARRANT_UNTIL - 1 * H, HIGH),
        ("critical", WARRANT_UNTIL, CRITICAL),
    ),
)
def test_a_warrant_of_further_detention_moves_the_limit_to_its_until(make_detention, now, expected):
    assert pace(with_extension_and_warrant(make_detention), now) == expected


def test_a_warrant_beats_an_extension_once_its_time_is_reached(make_detention):
    detention = with_extension_and_warrant(make_detention)
    # Before the warrant: the extension's limit (RT+36h) applies, high from RT+35h.
    assert pace(detention, WARRANT_AT - S) == (WARNING, ARRIVAL + 33 * H)
    assert pace(detention, WARRANT_AT) is None


def test_a_warrant_beats_an_extension_even_when_its_until_is_earlier(make_detention):
    detention = with_extension_and_warrant(
        make_detention, warrant_time=ARRIVAL + 21 * H, warrant_until=ARRIVAL + 30 * H
    )
    assert pace(detention, ARRIVAL + 30 * H) == (CRITICAL, ARRIVAL + 30 * H)


def test_a_warrant_without_a_time_counts_from_the_start(make_detention):
    detention = make_detention(warrant_until=WARRANT_UNTIL)
    assert pace(detention, LIMIT) is None
    assert pace(detention, WARRANT_UNTIL) == (CRITICAL, WARRANT_UNTIL)


def test_a_warrant_time_without_an_until_changes_nothing(make_detention):
    detention = make_detention(warrant_time=ARRIVAL + 23 * H)
    assert pace(detention, LIMIT) == (CRITICAL, LIMIT)


def test_a_warrant_is_capped_at_relevant_time_plus_96_hours_less_prior_detention(make_detention):
    detention = make_detention(
        prior_detention_minutes=60, warrant_time=WARRANT_AT, warrant_until=ARRIVAL + 120 * H
    )
    cap = ARRIVAL + 95 * H
    assert pace(detention, cap - S) == (HIGH, cap - H)
    assert pace(detention, cap) == (CRITICAL, cap)


def test_a_warrant_not_yet_issued_leaves_the_extension_in_force(make_detention):
    detention = with_extension_and_warrant(make_detention, warrant_time=ARRIVAL + 40 * H)
    assert pace(detention, ARRIVAL + 35 * H) == (HIGH, ARRIVAL + 35 * H)
    assert pace(detention, ARRIVAL + 40 * H - S) == (CRITICAL, ARRIVAL + 36 * H)
    assert pace(detention, ARRIVAL + 40 * H) is None


# --- when pace_limit stops ---------------------------------------------------------------------


def test_charge_ends_pace_limit_from_the_charge_time(make_detention):
    charged = LIMIT - 30 * M
    detention = make_detention(charged_time=charged)
    assert pace(detention, charged - S) == (HIGH, LIMIT - H)
    assert pace(detention, charged) is None
    assert pace(detention, LIMIT + 5 * H) is None


def test_a_charge_recorded_for_later_does_not_count_yet(make_detention):
    detention = make_detention(charged_time=LIMIT + 1 * H)
    assert pace(detention, LIMIT) == (CRITICAL, LIMIT)


def test_release_ends_pace_limit(make_detention):
    detention = make_detention(released_time=LIMIT + 10 * M)
    assert pace(detention, LIMIT + 10 * M - S) == (CRITICAL, LIMIT)
    assert pace(detention, LIMIT + 10 * M) is None


@pytest.mark.parametrize("basis", PACE_BASES)
def test_pace_limit_covers_every_pace_basis(make_detention, basis):
    assert pace(make_detention(legal_basis=basis), LIMIT) == (CRITICAL, LIMIT)


@pytest.mark.parametrize("basis", NON_PACE_BASES)
def test_pace_limit_is_not_for_other_bases(make_detention, basis):
    assert pace(make_detention(legal_basis=basis), LIMIT + 24 * H) is None


def test_pace_limit_applies_to_adults_when_scope_is_all(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert pace(adult, LIMIT) is None
    assert pace(adult, LIMIT, EVERYONE) == (CRITICAL, LIMIT)


# --- clock changes (durations are elapsed UTC time) --------------------------------------------


def test_a_24_hour_limit_across_the_october_change_ends_an_hour_earlier_on_the_clock(
    make_detention,
):
    # RT 08:30 BST on 24 Oct 2026 = 07:30Z; the limit is 07:30 GMT on 25 Oct = 07:30Z.
    rt = utc(2026, 10, 24, 7, 30)
    detention = make_detention(arrival_time=rt)
    end = utc(2026, 10, 25, 7, 30)
    assert pace(detention, end - S) == (HIGH, utc(2026, 10, 25, 6, 30))
    assert pace(detention, end) == (CRITICAL, end)
    assert pace(detention, end - 3 * H) == (WARNING, utc(2026, 10, 25, 4, 30))


def test_a_24_hour_limit_across_the_march_change_ends_an_hour_later_on_the_clock(make_detention):
    # RT 08:30 GMT on 28 Mar 2026 = 08:30Z; the limit is 09:30 BST on 29 Mar = 08:30Z.
    rt = utc(2026, 3, 28, 8, 30)
    detention = make_detention(arrival_time=rt)
    end = utc(2026, 3, 29, 8, 30)
    assert pace(detention, end - S) == (HIGH, utc(2026, 3, 29, 7, 30))
    assert pace(detention, end) == (CRITICAL, end)


# ---------------------------------------------------------------------------------------------
# review_overdue
# ---------------------------------------------------------------------------------------------

FIRST_DUE = ARRIVAL + 6 * H


def review(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "review_overdue", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", FIRST_DUE - 30 * M, WARNING),
        ("high", FIRST_DUE, HIGH),
        ("critical", FIRST_DUE + 2 * H, CRITICAL),
    ),
)
def test_the_first_review_falls_due_6_hours_after_arrival(make_detention, now, expected):
    assert review(make_detention(), now) == expected


def test_the_first_review_counts_from_detention_authorised_time_when_recorded(make_detention):
    authorised = ARRIVAL + 45 * M
    detention = make_detention(detention_authorised_time=authorised)
    due = authorised + 6 * H
    assert review(detention, due - 30 * M - S) is None
    assert review(detention, due - 30 * M) == (WARNING, due - 30 * M)
    assert review(detention, due) == (HIGH, due)
    assert review(detention, due + 2 * H) == (CRITICAL, due + 2 * H)


REVIEWED = ARRIVAL + 5 * H
NEXT_DUE = REVIEWED + 9 * H


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", NEXT_DUE - 30 * M, WARNING),
        ("high", NEXT_DUE, HIGH),
        ("critical", NEXT_DUE + 2 * H, CRITICAL),
    ),
)
def test_later_reviews_fall_due_9_hours_after_the_latest(make_detention, now, expected):
    assert review(make_detention(reviews=(REVIEWED,)), now) == expected


def test_recording_a_review_clears_an_overdue_review_from_its_time(make_detention):
    late = FIRST_DUE + 3 * H
    detention = make_detention(reviews=(late,))
    assert review(detention, late - S) == (CRITICAL, FIRST_DUE + 2 * H)
    assert review(detention, late) is None
    assert review(detention, late + 9 * H) == (HIGH, late + 9 * H)


def test_the_latest_review_counts_whatever_order_they_are_recorded_in(make_detention):
    detention = make_detention(reviews=(ARRIVAL + 14 * H, ARRIVAL + 5 * H))
    due = ARRIVAL + 23 * H
    assert review(detention, due) == (HIGH, due)
    assert review(detention, ARRIVAL + 14 * H - S) == (WARNING, ARRIVAL + 13 * H + 30 * M)


def test_a_review_recorded_for_later_does_not_count_yet(make_detention):
    detention = make_detention(reviews=(ARRIVAL + 10 * H,))
    assert review(detention, FIRST_DUE) == (HIGH, FIRST_DUE)


def test_a_review_counts_whenever_it_was(make_detention):
    # A review dated before arrival is odd, but every review at or before T counts.
    detention = make_detention(reviews=(ARRIVAL - 1 * H,))
    assert review(detention, FIRST_DUE) is None
    assert review(detention, ARRIVAL + 8 * H) == (HIGH, ARRIVAL + 8 * H)


def test_reviews_stay_due_after_charge(make_detention):
    detention = make_detention(charged_time=ARRIVAL + 2 * H)
    assert review(detention, FIRST_DUE) == (HIGH, FIRST_DUE)


def test_release_clears_an_overdue_review(make_detention):
    detention = make_detention(released_time=FIRST_DUE + H)
    assert review(detention, FIRST_DUE + H - S) == (HIGH, FIRST_DUE)
    assert review(detention, FIRST_DUE + H) is None


@pytest.mark.parametrize("basis", PACE_BASES)
def test_review_overdue_covers_every_pace_basis(make_detention, basis):
    assert review(make_detention(legal_basis=basis), FIRST_DUE) == (HIGH, FIRST_DUE)


@pytest.mark.parametrize("basis", NON_PACE_BASES)
def test_review_overdue_is_not_for_other_bases(make_detention, basis):
    assert review(make_detention(legal_basis=basis), FIRST_DUE + 5 * H) is None


def test_review_overdue_applies_to_adults_when_scope_is_all(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert review(adult, FIRST_DUE) is None
    assert review(adult, FIRST_DUE, EVERYONE) == (HIGH, FIRST_DUE)


def test_review_due_across_the_october_change_is_elapsed_time(make_detention):
    # Reviewed 23:00 BST on 24 Oct (22:00Z); due 9h later = 07:00Z = 07:00 GMT, not 08:00.
    reviewed = utc(2026, 10, 24, 22, 0)
    detention = make_detention(arrival_time=utc(2026, 10, 24, 15, 0), reviews=(reviewed,))
    assert review(detention, utc(2026, 10, 25, 7, 0)) == (HIGH, utc(2026, 10, 25, 7, 0))


# ---------------------------------------------------------------------------------------------
# age_below_criminal_responsibility
# ---------------------------------------------------------------------------------------------


def below_ten(detention, now=ARRIVAL):
    return state(detention, "age_below_criminal_responsibility", now)


def test_a_nine_year_old_in_pace_detention_is_critical_from_arrival(make_detention):
    detention = make_detention(date_of_birth=date(2016, 6, 1))
    assert below_ten(detention, ARRIVAL - S) is None
    assert below_ten(detention, ARRIVAL) == (CRITICAL, ARRIVAL)
    assert below_ten(detention, ARRIVAL + S) == (CRITICAL, ARRIVAL)


def test_it_holds_on_the_day_before_the_tenth_birthday(make_detention):
    dob = born_years_before(10, ARRIVAL + 24 * H)
    assert below_ten(make_detention(date_of_birth=dob)) == (CRITICAL, ARRIVAL)


def test_it_does_not_hold_on_the_tenth_birthday(make_detention):
    dob = born_years_before(10, ARRIVAL)
    assert below_ten(make_detention(date_of_birth=dob)) is None


def test_a_ten_year_old_is_not_below_the_age_of_criminal_responsibility(make_detention):
    assert below_ten(make_detention(date_of_birth=date(2015, 6, 1))) is None


def test_without_a_date_of_birth_nobody_is_below_ten(make_detention):
    assert below_ten(make_detention(date_of_birth=None)) is None


@pytest.mark.parametrize("basis", PACE_BASES)
def test_below_ten_covers_every_pace_basis(make_detention, basis):
    detention = make_detention(date_of_birth=date(2017, 1, 1), legal_basis=basis)
    assert below_ten(detention) == (CRITICAL, ARRIVAL)


@pytest.mark.parametrize("basis", NON_PACE_BASES)
def test_below_ten_is_not_for_other_bases(make_detention, basis):
    detention = make_detention(date_of_birth=date(2017, 1, 1), legal_basis=basis)
    assert below_ten(detention) is None


def test_below_ten_stays_critical_after_charge_and_clears_on_release(make_detention):
    detention = make_detention(
        date_of_birth=date(2017, 1, 1),
        charged_time=ARRIVAL + 1 * H,
        released_time=ARRIVAL + 3 * H,
    )
    assert below_ten(detention, ARRIVAL + 2 * H) == (CRITICAL, ARRIVAL)
    assert below_ten(detention, ARRIVAL + 3 * H - S) == (CRITICAL, ARRIVAL)
    assert below_ten(detention, ARRIVAL + 3 * H) is None
