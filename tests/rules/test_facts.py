"""Facts shared by every rule: age (Europe/London date of arrest, else arrival), relevant
time, authorised time, and what "reached" and "in custody" mean as of T. See RULES.md,
"Terms" and "Precise reading"."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from custody_watch.domain import CertificateGround
from custody_watch.rules import Policy, evaluate
from custody_watch.rules.facts import Facts, age_of, age_on, authorised_time, relevant_time

from .support import (
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    H,
    M,
    S,
    london,
    state,
    utc,
)

# ---------------------------------------------------------------------------------------------
# Age in whole years
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        pytest.param(date(2010, 6, 1), date(2026, 5, 31), 15, id="day-before-birthday"),
        pytest.param(date(2010, 6, 1), date(2026, 6, 1), 16, id="on-birthday"),
        pytest.param(date(2010, 6, 1), date(2026, 6, 2), 16, id="day-after-birthday"),
        pytest.param(date(2010, 12, 31), date(2026, 1, 1), 15, id="new-year"),
        pytest.param(date(2026, 1, 14), date(2026, 1, 14), 0, id="born-that-day"),
        # A 29 February birthday falls on 1 March in other years.
        pytest.param(date(2012, 2, 29), date(2027, 2, 28), 14, id="29feb-on-28feb-2027"),
        pytest.param(date(2012, 2, 29), date(2027, 3, 1), 15, id="29feb-on-1mar-2027"),
        pytest.param(date(2012, 2, 29), date(2028, 2, 28), 15, id="29feb-on-28feb-2028"),
        pytest.param(date(2012, 2, 29), date(2028, 2, 29), 16, id="29feb-on-29feb-2028"),
        pytest.param(date(2012, 2, 29), date(2028, 3, 1), 16, id="29feb-on-1mar-2028"),
        pytest.param(date(2008, 2, 29), date(2026, 2, 28), 17, id="29feb-turns-18-on-1mar"),
        pytest.param(date(2008, 2, 29), date(2026, 3, 1), 18, id="29feb-is-18-on-1mar"),
        pytest.param(date(2008, 3, 1), date(2028, 2, 29), 19, id="1mar-on-29feb"),
    ],
)
def test_age_is_whole_years_on_the_day(born, day, age):
    assert age_on(born, day) == age


def test_a_child_born_29_february_2008_is_a_child_until_1_march_2026(make_detention):
    born = date(2008, 2, 29)
    on_28th = make_detention(date_of_birth=born, arrival_time=london(2026, 2, 28, 12))
    on_1st = make_detention(date_of_birth=born, arrival_time=london(2026, 3, 1, 12))
    assert state(on_28th, "child_detention_duration", london(2026, 3, 1, 12)) is not None
    assert evaluate(on_1st, CHILDREN_ONLY, london(2026, 3, 2, 12)) == []


def test_a_child_born_29_february_2016_turns_ten_on_1_march_2026(make_detention):
    leap_born = date(2016, 2, 29)
    nine = make_detention(date_of_birth=leap_born, arrival_time=utc(2026, 2, 28, 12))
    ten = make_detention(date_of_birth=leap_born, arrival_time=utc(2026, 3, 1, 12))
    assert state(nine, "age_below_criminal_responsibility", utc(2026, 2, 28, 12)) == (
        CRITICAL,
        utc(2026, 2, 28, 12),
    )
    assert state(ten, "age_below_criminal_responsibility", utc(2026, 3, 1, 12)) is None


# ---------------------------------------------------------------------------------------------
# Age on the local date of arrest, else arrival
# ---------------------------------------------------------------------------------------------

BIRTHDAY_15_JULY = date(2008, 7, 15)  # 18 on 15 July 2026
BIRTHDAY_15_JANUARY = date(2008, 1, 15)  # 18 on 15 January 2026


def test_in_summer_an_arrest_at_23_30z_is_on_the_next_local_day(make_detention):
    # 23:30Z on 14 July is 00:30 BST on 15 July: the 18th birthday.
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JULY,
        arrest_time=utc(2026, 7, 14, 23, 30),
        arrival_time=utc(2026, 7, 15, 0, 10),
    )
    assert age_of(detention, CHILDREN_ONLY) == 18
    assert evaluate(detention, CHILDREN_ONLY, utc(2026, 7, 16, 1, 0)) == []


def test_in_winter_an_arrest_at_23_30z_is_on_the_same_local_day(make_detention):
    # 23:30Z on 14 January is 23:30 GMT on 14 January: still 17.
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JANUARY,
        arrest_time=utc(2026, 1, 14, 23, 30),
        arrival_time=utc(2026, 1, 15, 0, 10),
    )
    assert age_of(detention, CHILDREN_ONLY) == 17
    assert "child_detention_duration" in {
        f.rule for f in evaluate(detention, CHILDREN_ONLY, utc(2026, 1, 15, 9, 0))
    }


def test_the_date_of_arrest_wins_over_the_date_of_arrival(make_detention):
    # Arrested 23:00 BST on 14 July (still 17), arrived 00:30 BST on 15 July (the birthday).
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JULY,
        arrest_time=london(2026, 7, 14, 23, 0),
        arrival_time=london(2026, 7, 15, 0, 30),
    )
    assert age_of(detention, CHILDREN_ONLY) == 17
    assert state(detention, "child_detention_duration", london(2026, 7, 15, 9, 0)) is not None


def test_without_an_arrest_time_the_local_date_of_arrival_counts(make_detention):
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JULY, arrival_time=utc(2026, 7, 14, 23, 30)
    )
    assert age_of(detention, CHILDREN_ONLY) == 18
    just_before = make_detention(
        date_of_birth=BIRTHDAY_15_JULY, arrival_time=utc(2026, 7, 14, 22, 59, 59)
    )
    assert age_of(just_before, CHILDREN_ONLY) == 17


def test_local_midnight_in_winter_is_utc_midnight(make_detention):
    on_the_day = make_detention(date_of_birth=BIRTHDAY_15_JANUARY, arrival_time=utc(2026, 1, 15))
    before = make_detention(date_of_birth=BIRTHDAY_15_JANUARY, arrival_time=utc(2026, 1, 15) - S)
    assert age_of(on_the_day, CHILDREN_ONLY) == 18
    assert age_of(before, CHILDREN_ONLY) == 17


def test_the_age_date_comes_from_the_policy_zone(make_detention):
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JULY, arrival_time=utc(2026, 7, 14, 23, 30)
    )
    assert age_of(detention, Policy(zone=UTC)) == 17


def test_age_is_fixed_for_the_whole_detention(make_detention):
    # 17 at arrival, 18 from the next day: the child rules keep running (Precise reading 4).
    detention = make_detention(
        date_of_birth=BIRTHDAY_15_JANUARY, arrival_time=london(2026, 1, 14, 20, 0)
    )
    later = london(2026, 1, 15, 21, 0)
    assert state(detention, "child_detention_duration", later) == (
        CRITICAL,
        london(2026, 1, 15, 20, 0),
    )


# ---------------------------------------------------------------------------------------------
# Missing date of birth
# ---------------------------------------------------------------------------------------------


def test_without_a_date_of_birth_the_age_is_unknown_and_the_person_a_child(make_detention):
    detention = make_detention(date_of_birth=None)
    facts = Facts.of(detention, CHILDREN_ONLY, ARRIVAL)
    assert age_of(detention, CHILDREN_ONLY) is None
    assert facts.is_child
    assert not facts.known_age_below(10)
    assert not facts.known_age_below(12)
    assert not facts.known_age_below(18)


def test_without_a_date_of_birth_neither_under_ten_nor_under_twelve_rules_fire(make_detention):
    detention = make_detention(
        date_of_birth=None,
        charged_time=ARRIVAL + H,
        bail_refused_time=ARRIVAL + 2 * H,
        s38_certificate_time=ARRIVAL + 3 * H,
        s38_certificate_ground=CertificateGround.NO_SECURE_ACCOMMODATION,
    )
    rules = {f.rule for f in evaluate(detention, CHILDREN_ONLY, ARRIVAL + 4 * H)}
    assert "missing_dob" in rules
    assert "age_below_criminal_responsibility" not in rules
    assert "invalid_s38_certificate" not in rules


@pytest.mark.parametrize(("years", "child"), [(9, True), (17, True), (18, False), (40, False)])
def test_a_child_is_under_18(make_detention, years, child):
    born = date(2026 - years, 1, 14)
    facts = Facts.of(make_detention(date_of_birth=born), CHILDREN_ONLY, ARRIVAL)
    assert facts.age == years
    assert facts.is_child is child


# ---------------------------------------------------------------------------------------------
# Relevant time and authorised time
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, ARRIVAL, id="arrival-when-nothing-else"),
        pytest.param({"relevant_time": ARRIVAL - 3 * H}, ARRIVAL - 3 * H, id="recorded"),
        pytest.param(
            {"relevant_time": ARRIVAL + 1 * H, "arrest_time": ARRIVAL - 30 * H},
            ARRIVAL + 1 * H,
            id="recorded-wins-over-arrest",
        ),
        pytest.param(
            {"arrest_time": ARRIVAL - 30 * H}, ARRIVAL - 6 * H, id="arrest-plus-24h-earlier"
        ),
        pytest.param({"arrest_time": ARRIVAL - 24 * H}, ARRIVAL, id="arrest-exactly-24h-before"),
        pytest.param(
            {"arrest_time": ARRIVAL - 24 * H - S}, ARRIVAL - S, id="arrest-24h-and-1s-before"
        ),
        pytest.param({"arrest_time": ARRIVAL - 30 * M}, ARRIVAL, id="arrival-earlier"),
    ],
)
def test_relevant_time_is_as_recorded_else_the_earlier_of_arrival_and_arrest_plus_24h(
    make_detention, overrides, expected
):
    assert relevant_time(make_detention(**overrides)) == expected


def test_relevant_time_from_an_arrest_across_the_october_change_is_elapsed(make_detention):
    # Arrested 08:30 BST 24 Oct (07:30Z), arrived 2 days later: RT 07:30Z 25 Oct = 07:30 GMT.
    detention = make_detention(
        arrest_time=london(2026, 10, 24, 8, 30), arrival_time=utc(2026, 10, 26, 9, 0)
    )
    assert relevant_time(detention) == utc(2026, 10, 25, 7, 30)


def test_authorised_time_is_the_recorded_authorisation_else_arrival(make_detention):
    assert authorised_time(make_detention()) == ARRIVAL
    recorded = make_detention(detention_authorised_time=ARRIVAL + 20 * M)
    assert authorised_time(recorded) == ARRIVAL + 20 * M


# ---------------------------------------------------------------------------------------------
# Reached, in custody, counts (as of T)
# ---------------------------------------------------------------------------------------------


def test_an_instant_is_reached_at_or_after_it(make_detention):
    facts = Facts.of(make_detention(), CHILDREN_ONLY, ARRIVAL + H)
    assert facts.reached(ARRIVAL + H)
    assert facts.reached(ARRIVAL + H - S)
    assert not facts.reached(ARRIVAL + H + S)
    assert not facts.reached(None)


@pytest.mark.parametrize(
    ("now", "in_custody"),
    [
        (ARRIVAL - S, False),
        (ARRIVAL, True),
        (ARRIVAL + 5 * H - S, True),
        (ARRIVAL + 5 * H, False),
        (ARRIVAL + 50 * H, False),
    ],
)
def test_in_custody_from_arrival_until_release(make_detention, now, in_custody):
    detention = make_detention(released_time=ARRIVAL + 5 * H)
    assert Facts.of(detention, CHILDREN_ONLY, now).in_custody is in_custody


@pytest.mark.parametrize(
    ("authority_time", "until", "counts"),
    [
        (None, None, False),
        (ARRIVAL, None, False),
        (None, ARRIVAL + 30 * H, True),
        (ARRIVAL + 2 * H, ARRIVAL + 30 * H, True),
        (ARRIVAL + 2 * H + S, ARRIVAL + 30 * H, False),
    ],
)
def test_an_extension_counts_with_an_until_once_its_time_is_reached(
    make_detention, authority_time, until, counts
):
    facts = Facts.of(make_detention(), CHILDREN_ONLY, ARRIVAL + 2 * H)
    assert facts.counts(authority_time, until) is counts


def test_charged_means_the_charge_time_is_reached(make_detention):
    detention = make_detention(charged_time=ARRIVAL + H)
    assert not Facts.of(detention, CHILDREN_ONLY, ARRIVAL + H - S).charged
    assert Facts.of(detention, CHILDREN_ONLY, ARRIVAL + H).charged


def test_the_latest_review_is_the_latest_one_at_or_before_t(make_detention):
    detention = make_detention(reviews=(ARRIVAL + 9 * H, ARRIVAL + 5 * H, ARRIVAL + 14 * H))
    assert Facts.of(detention, CHILDREN_ONLY, ARRIVAL + 5 * H - S).latest_review() is None
    assert Facts.of(detention, CHILDREN_ONLY, ARRIVAL + 5 * H).latest_review() == ARRIVAL + 5 * H
    assert Facts.of(detention, CHILDREN_ONLY, ARRIVAL + 13 * H).latest_review() == (ARRIVAL + 9 * H)
    assert Facts.of(detention, CHILDREN_ONLY, ARRIVAL + 20 * H).latest_review() == (
        ARRIVAL + 14 * H
    )
