"""Child-safeguarding rules: child_detention_duration, post_charge_transfer,
invalid_s38_certificate, appropriate_adult, child_overnight and missing_dob. See RULES.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from custody_watch.domain import CertificateGround, LegalBasis, ReleaseReason
from custody_watch.rules import Policy
from custody_watch.rules.policy import (
    AppropriateAdultPolicy,
    ChildDurationPolicy,
    OvernightPolicy,
    PostChargeTransferPolicy,
)

from .support import (
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    DOB_15,
    DOB_ADULT,
    EVERYONE,
    HIGH,
    WARNING,
    H,
    M,
    S,
    born_years_before,
    ladder,
    london,
    state,
    utc,
)

NO_SECURE = CertificateGround.NO_SECURE_ACCOMMODATION
IMPRACTICABLE = CertificateGround.IMPRACTICABLE

# ---------------------------------------------------------------------------------------------
# child_detention_duration
# ---------------------------------------------------------------------------------------------


def duration(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "child_detention_duration", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", ARRIVAL + 8 * H, WARNING),
        ("high", ARRIVAL + 16 * H, HIGH),
        ("critical", ARRIVAL + 24 * H, CRITICAL),
    ),
)
def test_child_detention_duration_climbs_at_8_16_and_24_hours(make_detention, now, expected):
    assert duration(make_detention(), now) == expected


@pytest.mark.parametrize("basis", list(LegalBasis))
def test_child_detention_duration_covers_every_basis(make_detention, basis):
    detention = make_detention(legal_basis=basis)
    assert duration(detention, ARRIVAL + 24 * H) == (CRITICAL, ARRIVAL + 24 * H)


def test_child_detention_duration_keeps_running_after_charge(make_detention):
    detention = make_detention(charged_time=ARRIVAL + 1 * H)
    assert duration(detention, ARRIVAL + 16 * H) == (HIGH, ARRIVAL + 16 * H)


def test_release_clears_child_detention_duration(make_detention):
    released = ARRIVAL + 17 * H
    detention = make_detention(released_time=released, release_reason=ReleaseReason.BAILED)
    assert duration(detention, released - S) == (HIGH, ARRIVAL + 16 * H)
    assert duration(detention, released) is None
    assert duration(detention, released + 10 * H) is None


def test_child_detention_duration_across_28_and_29_february_2028(make_detention):
    arrival = utc(2028, 2, 28, 20, 0)
    detention = make_detention(arrival_time=arrival)
    assert duration(detention, utc(2028, 2, 29, 4, 0) - S) is None
    assert duration(detention, utc(2028, 2, 29, 4, 0)) == (WARNING, utc(2028, 2, 29, 4, 0))
    assert duration(detention, utc(2028, 2, 29, 12, 0)) == (HIGH, utc(2028, 2, 29, 12, 0))
    assert duration(detention, utc(2028, 2, 29, 20, 0) - S) == (HIGH, utc(2028, 2, 29, 12, 0))
    assert duration(detention, utc(2028, 2, 29, 20, 0)) == (CRITICAL, utc(2028, 2, 29, 20, 0))


def test_child_detention_duration_is_elapsed_time_across_the_october_change(make_detention):
    detention = make_detention(arrival_time=london(2026, 10, 24, 8, 30))  # 07:30Z
    assert duration(detention, utc(2026, 10, 25, 7, 30) - S) == (HIGH, utc(2026, 10, 24, 23, 30))
    assert duration(detention, utc(2026, 10, 25, 7, 30)) == (CRITICAL, utc(2026, 10, 25, 7, 30))


def test_child_detention_duration_is_elapsed_time_across_the_march_change(make_detention):
    detention = make_detention(arrival_time=london(2026, 3, 28, 8, 30))  # 08:30Z
    assert duration(detention, utc(2026, 3, 29, 8, 30) - S) == (HIGH, utc(2026, 3, 29, 0, 30))
    assert duration(detention, utc(2026, 3, 29, 8, 30)) == (CRITICAL, utc(2026, 3, 29, 8, 30))


def test_a_shorter_warning_threshold_in_the_policy_warns_earlier(make_detention):
    policy = Policy(child_detention_duration=ChildDurationPolicy(warning_after=4 * H))
    detention = make_detention()
    assert duration(detention, ARRIVAL + 4 * H - S, policy) is None
    assert duration(detention, ARRIVAL + 4 * H, policy) == (WARNING, ARRIVAL + 4 * H)
    assert duration(detention, ARRIVAL + 4 * H) is None  # the default policy is unchanged
    assert duration(detention, ARRIVAL + 16 * H, policy) == (HIGH, ARRIVAL + 16 * H)


def test_child_detention_duration_is_never_for_adults(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert duration(adult, ARRIVAL + 30 * H, EVERYONE) is None


# ---------------------------------------------------------------------------------------------
# post_charge_transfer
# ---------------------------------------------------------------------------------------------

CHARGED = ARRIVAL + 2 * H
REFUSED = ARRIVAL + 3 * H


def transfer(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "post_charge_transfer", now, policy)


@pytest.fixture
def refused_bail(make_detention):
    """A charged child refused bail at REFUSED; override any field."""

    def make(**overrides):
        fields = {"charged_time": CHARGED, "bail_refused_time": REFUSED}
        fields.update(overrides)
        return make_detention(**fields)

    return make


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("high", REFUSED + 1 * H, HIGH), ("critical", REFUSED + 4 * H, CRITICAL)),
)
def test_post_charge_transfer_is_high_after_1_hour_and_critical_after_4(
    refused_bail, now, expected
):
    assert transfer(refused_bail(), now) == expected


def test_post_charge_transfer_waits_for_the_bail_refusal(refused_bail):
    detention = refused_bail(bail_refused_time=ARRIVAL + 10 * H)
    assert transfer(detention, ARRIVAL + 10 * H - S) is None
    assert transfer(detention, ARRIVAL + 11 * H - S) is None
    assert transfer(detention, ARRIVAL + 11 * H) == (HIGH, ARRIVAL + 11 * H)


def test_a_certificate_ends_post_charge_transfer_from_its_time(refused_bail):
    certified = REFUSED + 5 * H
    detention = refused_bail(s38_certificate_time=certified, s38_certificate_ground=IMPRACTICABLE)
    assert transfer(detention, certified - S) == (CRITICAL, REFUSED + 4 * H)
    assert transfer(detention, certified) is None


@pytest.mark.parametrize("ground", [IMPRACTICABLE, NO_SECURE, None])
def test_any_reached_certificate_ends_post_charge_transfer_whatever_its_ground(
    refused_bail, ground
):
    # Ground no_secure_accommodation for an under-12 is invalid_s38_certificate's business.
    detention = refused_bail(
        s38_certificate_time=REFUSED + 30 * M,
        s38_certificate_ground=ground,
        date_of_birth=date(2015, 1, 1),
    )
    assert transfer(detention, REFUSED + 5 * H) is None


def test_a_certificate_ground_without_a_time_is_no_certificate(refused_bail):
    detention = refused_bail(s38_certificate_ground=IMPRACTICABLE)
    assert transfer(detention, REFUSED + 4 * H) == (CRITICAL, REFUSED + 4 * H)


def test_a_certificate_recorded_for_later_does_not_count_yet(refused_bail):
    detention = refused_bail(
        s38_certificate_time=REFUSED + 6 * H, s38_certificate_ground=IMPRACTICABLE
    )
    assert transfer(detention, REFUSED + 4 * H) == (CRITICAL, REFUSED + 4 * H)


def test_requesting_la_accommodation_in_time_removes_the_high_step(refused_bail):
    detention = refused_bail(la_accommodation_requested_time=REFUSED + 30 * M)
    assert transfer(detention, REFUSED + 1 * H) is None
    assert transfer(detention, REFUSED + 4 * H - S) is None
    assert transfer(detention, REFUSED + 4 * H) == (CRITICAL, REFUSED + 4 * H)


def test_requesting_la_accommodation_late_clears_high_until_the_critical_step(refused_bail):
    requested = REFUSED + 2 * H
    detention = refused_bail(la_accommodation_requested_time=requested)
    assert transfer(detention, requested - S) == (HIGH, REFUSED + 1 * H)
    assert transfer(detention, requested) is None
    assert transfer(detention, REFUSED + 4 * H) == (CRITICAL, REFUSED + 4 * H)


def test_requesting_la_accommodation_after_4_hours_leaves_it_critical(refused_bail):
    detention = refused_bail(la_accommodation_requested_time=REFUSED + 5 * H)
    assert transfer(detention, REFUSED + 5 * H) == (CRITICAL, REFUSED + 4 * H)


def test_transfer_to_local_authority_accommodation_clears_it(refused_bail):
    moved = REFUSED + 3 * H
    detention = refused_bail(released_time=moved, release_reason=ReleaseReason.TRANSFERRED_LA)
    assert transfer(detention, moved - S) == (HIGH, REFUSED + 1 * H)
    assert transfer(detention, moved) is None


def test_post_charge_transfer_follows_policy_timings(refused_bail):
    policy = Policy(post_charge_transfer=PostChargeTransferPolicy(high_after=2 * H))
    assert transfer(refused_bail(), REFUSED + 2 * H - S, policy) is None
    assert transfer(refused_bail(), REFUSED + 2 * H, policy) == (HIGH, REFUSED + 2 * H)


def test_post_charge_transfer_is_never_for_adults(refused_bail):
    adult = refused_bail(date_of_birth=DOB_ADULT)
    assert transfer(adult, REFUSED + 5 * H, EVERYONE) is None


def test_post_charge_transfer_is_for_seventeen_year_olds(refused_bail):
    seventeen = refused_bail(date_of_birth=born_years_before(18, ARRIVAL + 24 * H))
    assert transfer(seventeen, REFUSED + 5 * H) == (CRITICAL, REFUSED + 4 * H)


# ---------------------------------------------------------------------------------------------
# invalid_s38_certificate
# ---------------------------------------------------------------------------------------------

CERTIFIED = REFUSED + 30 * M
ELEVEN = date(2014, 6, 1)


def invalid(detention, now):
    return state(detention, "invalid_s38_certificate", now)


def certified_child(make_detention, **overrides):
    fields = {
        "date_of_birth": ELEVEN,
        "charged_time": CHARGED,
        "bail_refused_time": REFUSED,
        "s38_certificate_time": CERTIFIED,
        "s38_certificate_ground": NO_SECURE,
    }
    fields.update(overrides)
    return make_detention(**fields)


@pytest.mark.parametrize(("now", "expected"), ladder(("critical", CERTIFIED, CRITICAL)))
def test_a_no_secure_accommodation_certificate_for_an_eleven_year_old_is_critical(
    make_detention, now, expected
):
    assert invalid(certified_child(make_detention), now) == expected


def test_it_holds_the_day_before_the_twelfth_birthday(make_detention):
    dob = born_years_before(12, ARRIVAL + 24 * H)
    assert invalid(certified_child(make_detention, date_of_birth=dob), CERTIFIED) == (
        CRITICAL,
        CERTIFIED,
    )


def test_it_does_not_hold_on_the_twelfth_birthday(make_detention):
    dob = born_years_before(12, ARRIVAL)
    assert invalid(certified_child(make_detention, date_of_birth=dob), CERTIFIED) is None


def test_the_impracticable_ground_is_valid_at_any_age(make_detention):
    detention = certified_child(make_detention, s38_certificate_ground=IMPRACTICABLE)
    assert invalid(detention, CERTIFIED) is None


def test_no_secure_accommodation_is_valid_from_twelve(make_detention):
    assert invalid(certified_child(make_detention, date_of_birth=DOB_15), CERTIFIED) is None


def test_a_ground_without_a_time_is_no_invalid_certificate(make_detention):
    detention = certified_child(make_detention, s38_certificate_time=None)
    assert invalid(detention, CERTIFIED + 10 * H) is None


def test_without_a_date_of_birth_nobody_is_under_twelve(make_detention):
    detention = certified_child(make_detention, date_of_birth=None)
    assert invalid(detention, CERTIFIED) is None


def test_release_clears_an_invalid_certificate(make_detention):
    detention = certified_child(make_detention, released_time=CERTIFIED + 1 * H)
    assert invalid(detention, CERTIFIED + 1 * H - S) == (CRITICAL, CERTIFIED)
    assert invalid(detention, CERTIFIED + 1 * H) is None


def test_an_invalid_certificate_still_ends_post_charge_transfer(make_detention):
    detention = certified_child(make_detention)
    assert transfer(detention, REFUSED + 5 * H) is None
    assert invalid(detention, REFUSED + 5 * H) == (CRITICAL, CERTIFIED)


# ---------------------------------------------------------------------------------------------
# appropriate_adult
# ---------------------------------------------------------------------------------------------


def adult_needed(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "appropriate_adult", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", ARRIVAL + 1 * H, WARNING), ("high", ARRIVAL + 3 * H, HIGH)),
)
def test_appropriate_adult_warns_after_1_hour_and_is_high_after_3(make_detention, now, expected):
    assert adult_needed(make_detention(), now) == expected


def test_a_request_in_time_removes_the_warning_but_not_the_high_step(make_detention):
    detention = make_detention(appropriate_adult_requested_time=ARRIVAL + 20 * M)
    assert adult_needed(detention, ARRIVAL + 1 * H) is None
    assert adult_needed(detention, ARRIVAL + 3 * H - S) is None
    assert adult_needed(detention, ARRIVAL + 3 * H) == (HIGH, ARRIVAL + 3 * H)


def test_a_late_request_clears_the_warning_from_its_time(make_detention):
    requested = ARRIVAL + 2 * H
    detention = make_detention(appropriate_adult_requested_time=requested)
    assert adult_needed(detention, requested - S) == (WARNING, ARRIVAL + 1 * H)
    assert adult_needed(detention, requested) is None
    assert adult_needed(detention, ARRIVAL + 3 * H) == (HIGH, ARRIVAL + 3 * H)


def test_the_arrival_of_the_appropriate_adult_clears_it(make_detention):
    arrived = ARRIVAL + 4 * H
    detention = make_detention(
        appropriate_adult_requested_time=ARRIVAL + 10 * M, appropriate_adult_arrived_time=arrived
    )
    assert adult_needed(detention, arrived - S) == (HIGH, ARRIVAL + 3 * H)
    assert adult_needed(detention, arrived) is None
    assert adult_needed(detention, arrived + 10 * H) is None


def test_an_appropriate_adult_arriving_before_any_threshold_means_no_finding(make_detention):
    detention = make_detention(appropriate_adult_arrived_time=ARRIVAL + 30 * M)
    assert adult_needed(detention, ARRIVAL + 30 * M - S) is None
    assert adult_needed(detention, ARRIVAL + 5 * H) is None


def test_a_request_recorded_for_later_does_not_count_yet(make_detention):
    detention = make_detention(appropriate_adult_requested_time=ARRIVAL + 2 * H)
    assert adult_needed(detention, ARRIVAL + 1 * H) == (WARNING, ARRIVAL + 1 * H)


@pytest.mark.parametrize(
    "basis", [basis for basis in LegalBasis if basis is not LegalBasis.POLICE_PROTECTION]
)
def test_appropriate_adult_covers_every_basis_but_police_protection(make_detention, basis):
    detention = make_detention(legal_basis=basis)
    assert adult_needed(detention, ARRIVAL + 3 * H) == (HIGH, ARRIVAL + 3 * H)


def test_appropriate_adult_is_not_for_police_protection(make_detention):
    detention = make_detention(legal_basis=LegalBasis.POLICE_PROTECTION)
    assert adult_needed(detention, ARRIVAL + 5 * H) is None


def test_appropriate_adult_follows_policy_timings(make_detention):
    policy = Policy(appropriate_adult=AppropriateAdultPolicy(warning_after=30 * M))
    assert adult_needed(make_detention(), ARRIVAL + 30 * M, policy) == (WARNING, ARRIVAL + 30 * M)


def test_appropriate_adult_is_never_for_adults(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert adult_needed(adult, ARRIVAL + 5 * H, EVERYONE) is None


# ---------------------------------------------------------------------------------------------
# child_overnight
# ---------------------------------------------------------------------------------------------


def overnight(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "child_overnight", now, policy)


WINTER_NIGHT = utc(2026, 1, 14, 22, 0)  # 22:00 GMT


@pytest.mark.parametrize(("now", "expected"), ladder(("warning", WINTER_NIGHT, WARNING)))
def test_a_child_arriving_by_day_in_winter_is_overnight_from_22_00_gmt(
    make_detention, now, expected
):
    assert overnight(make_detention(), now) == expected


@pytest.mark.parametrize(("now", "expected"), ladder(("warning", utc(2026, 7, 14, 21, 0), WARNING)))
def test_a_child_arriving_by_day_in_summer_is_overnight_from_22_00_bst_which_is_21_00z(
    make_detention, now, expected
):
    detention = make_detention(arrival_time=london(2026, 7, 14, 14, 0))
    assert overnight(detention, now) == expected


@pytest.mark.parametrize(
    ("arrival", "first"),
    [
        pytest.param(london(2026, 1, 14, 6, 30), london(2026, 1, 14, 6, 30), id="06:30-winter"),
        pytest.param(
            london(2026, 1, 14, 6, 59) + 59 * S, london(2026, 1, 14, 6, 59) + 59 * S, id="06:59:59"
        ),
        pytest.param(london(2026, 1, 14, 7, 0), utc(2026, 1, 14, 22, 0), id="07:00-winter"),
        pytest.param(london(2026, 7, 14, 6, 30), utc(2026, 7, 14, 5, 30), id="06:30-summer"),
        pytest.param(london(2026, 7, 14, 7, 0), utc(2026, 7, 14, 21, 0), id="07:00-summer"),
        pytest.param(london(2026, 1, 14, 21, 59) + 59 * S, utc(2026, 1, 14, 22, 0), id="21:59:59"),
        pytest.param(london(2026, 1, 14, 22, 0), utc(2026, 1, 14, 22, 0), id="22:00-winter"),
        pytest.param(london(2026, 7, 14, 22, 0), utc(2026, 7, 14, 21, 0), id="22:00-summer"),
        pytest.param(london(2026, 1, 14, 23, 59), utc(2026, 1, 14, 23, 59), id="23:59"),
        pytest.param(london(2026, 1, 15, 0, 0), utc(2026, 1, 15, 0, 0), id="midnight"),
        pytest.param(london(2026, 1, 15, 0, 30), utc(2026, 1, 15, 0, 30), id="00:30"),
        pytest.param(london(2026, 12, 31, 23, 30), utc(2026, 12, 31, 23, 30), id="new-year-eve"),
        # 25 Oct 2026: 01:30 happens twice (BST then GMT); both are in the window.
        pytest.param(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 30), id="25oct-01:30-bst"),
        pytest.param(utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 30), id="25oct-01:30-gmt"),
        pytest.param(utc(2026, 10, 25, 6, 30), utc(2026, 10, 25, 6, 30), id="25oct-06:30-gmt"),
        pytest.param(utc(2026, 10, 25, 7, 0), utc(2026, 10, 25, 22, 0), id="25oct-07:00-gmt"),
        pytest.param(utc(2026, 10, 24, 12, 0), utc(2026, 10, 24, 21, 0), id="24oct-noon-bst"),
        pytest.param(utc(2026, 10, 25, 12, 0), utc(2026, 10, 25, 22, 0), id="25oct-noon-gmt"),
        # 29 Mar 2026: 00:30Z is 00:30 GMT, 01:30Z is 02:30 BST; both are in the window.
        pytest.param(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 0, 30), id="29mar-00:30z"),
        pytest.param(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30), id="29mar-01:30z"),
        pytest.param(utc(2026, 3, 29, 5, 30), utc(2026, 3, 29, 5, 30), id="29mar-06:30-bst"),
        pytest.param(utc(2026, 3, 29, 6, 0), utc(2026, 3, 29, 21, 0), id="29mar-07:00-bst"),
        pytest.param(utc(2026, 3, 28, 12, 0), utc(2026, 3, 28, 22, 0), id="28mar-noon-gmt"),
        pytest.param(utc(2026, 3, 29, 12, 0), utc(2026, 3, 29, 21, 0), id="29mar-noon-bst"),
    ],
)
def test_child_overnight_starts_at_arrival_in_the_window_or_at_the_next_22_00_local(
    make_detention, arrival, first
):
    detention = make_detention(arrival_time=arrival)
    assert overnight(detention, first - S) is None
    assert overnight(detention, first) == (WARNING, first)
    assert overnight(detention, first + S) == (WARNING, first)


def test_child_overnight_stays_active_after_the_window_until_release(make_detention):
    released = utc(2026, 1, 15, 15, 0)
    detention = make_detention(released_time=released, release_reason=ReleaseReason.RELEASED)
    assert overnight(detention, utc(2026, 1, 15, 8, 0)) == (WARNING, WINTER_NIGHT)
    assert overnight(detention, released - S) == (WARNING, WINTER_NIGHT)
    assert overnight(detention, released) is None


def test_a_child_released_before_22_00_is_never_overnight(make_detention):
    detention = make_detention(released_time=WINTER_NIGHT - S)
    assert overnight(detention, WINTER_NIGHT - 2 * S) is None
    assert overnight(detention, WINTER_NIGHT) is None


def test_a_child_released_exactly_at_22_00_is_not_overnight(make_detention):
    detention = make_detention(released_time=WINTER_NIGHT)
    assert overnight(detention, WINTER_NIGHT) is None


def test_child_overnight_turns_high_at_a_bail_refusal_after_the_first_instant(make_detention):
    refused = utc(2026, 1, 15, 1, 0)
    detention = make_detention(charged_time=refused - H, bail_refused_time=refused)
    assert overnight(detention, refused - S) == (WARNING, WINTER_NIGHT)
    assert overnight(detention, refused) == (HIGH, refused)
    assert overnight(detention, refused + 10 * H) == (HIGH, refused)


def test_child_overnight_is_high_from_the_first_instant_when_bail_was_refused_before(
    make_detention,
):
    detention = make_detention(charged_time=ARRIVAL + H, bail_refused_time=ARRIVAL + 2 * H)
    assert overnight(detention, WINTER_NIGHT - S) is None
    assert overnight(detention, WINTER_NIGHT) == (HIGH, WINTER_NIGHT)


def test_child_overnight_is_high_at_a_bail_refusal_at_the_first_instant(make_detention):
    detention = make_detention(bail_refused_time=WINTER_NIGHT)
    assert overnight(detention, WINTER_NIGHT) == (HIGH, WINTER_NIGHT)


def test_the_overnight_window_follows_the_policy(make_detention):
    policy = Policy(child_overnight=OvernightPolicy(window_start=time(20, 0)))
    assert overnight(make_detention(), utc(2026, 1, 14, 20, 0), policy) == (
        WARNING,
        utc(2026, 1, 14, 20, 0),
    )


def test_child_overnight_is_never_for_adults(make_detention):
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert overnight(adult, WINTER_NIGHT + H, EVERYONE) is None


# ---------------------------------------------------------------------------------------------
# missing_dob
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), ladder(("warning", ARRIVAL, WARNING)))
def test_a_record_without_a_date_of_birth_warns_from_arrival(make_detention, now, expected):
    assert state(make_detention(date_of_birth=None), "missing_dob", now) == expected


def test_missing_dob_stays_a_warning_and_clears_on_release(make_detention):
    detention = make_detention(date_of_birth=None, released_time=ARRIVAL + 40 * H)
    assert state(detention, "missing_dob", ARRIVAL + 40 * H - S) == (WARNING, ARRIVAL)
    assert state(detention, "missing_dob", ARRIVAL + 40 * H) is None


@pytest.mark.parametrize("basis", list(LegalBasis))
def test_missing_dob_covers_every_basis(make_detention, basis):
    detention = make_detention(date_of_birth=None, legal_basis=basis)
    assert state(detention, "missing_dob", ARRIVAL) == (WARNING, ARRIVAL)


def test_a_record_with_a_date_of_birth_raises_no_missing_dob(make_detention):
    assert state(make_detention(), "missing_dob", ARRIVAL + H) is None
    adult = make_detention(date_of_birth=DOB_ADULT)
    assert state(adult, "missing_dob", ARRIVAL + H, EVERYONE) is None


def test_a_new_version_with_a_date_of_birth_clears_missing_dob(make_detention):
    # Records are frozen values: replacing the DOB later (a new version) clears the warning.
    detention = make_detention(date_of_birth=None)
    fixed = replace(detention, date_of_birth=DOB_ADULT)
    assert state(detention, "missing_dob", ARRIVAL) == (WARNING, ARRIVAL)
    assert state(fixed, "missing_dob", ARRIVAL, EVERYONE) is None


def test_a_configured_window_opening_in_the_skipped_hour_opens_when_the_clocks_jump(
    make_detention,
):
    # Window 01:30-07:00 local. On 29 Mar 2026 the clock jumps from 01:00 GMT to 02:00 BST
    # (01:00Z), straight into the window: that is the first instant in custody in a window,
    # as it already is for a child arriving at 01:15Z (02:15 BST).
    policy = Policy(child_overnight=OvernightPolicy(window_start=time(1, 30)))
    arrived_later = make_detention(arrival_time=utc(2026, 3, 29, 1, 15))
    assert overnight(arrived_later, utc(2026, 3, 29, 1, 15), policy) == (
        WARNING,
        utc(2026, 3, 29, 1, 15),
    )
    already_there = make_detention(arrival_time=utc(2026, 3, 29, 0, 45))
    assert overnight(already_there, utc(2026, 3, 29, 1, 15), policy) == (
        WARNING,
        utc(2026, 3, 29, 1, 0),
    )
