"""Places of safety (MHA 1983 ss.135-136B) and police protection (Children Act 1989 s.46):
place_of_safety_child, place_of_safety_limit, police_protection_at_station and
police_protection_limit. See RULES.md."""

from __future__ import annotations

import pytest

from custody_watch.domain import LegalBasis, ReleaseReason
from custody_watch.rules import Policy
from custody_watch.rules.policy import PlaceOfSafetyLimitPolicy, PoliceProtectionLimitPolicy

from .support import (
    ARRIVAL,
    CHILDREN_ONLY,
    CRITICAL,
    DOB_ADULT,
    EVERYONE,
    HIGH,
    PLACE_OF_SAFETY_BASES,
    WARNING,
    H,
    M,
    S,
    ladder,
    london,
    state,
    utc,
)

S136 = LegalBasis.MHA_S136
PROTECTION = LegalBasis.POLICE_PROTECTION
NOT_PLACE_OF_SAFETY = [basis for basis in LegalBasis if basis not in PLACE_OF_SAFETY_BASES]
NOT_PROTECTION = [basis for basis in LegalBasis if basis is not PROTECTION]

# ---------------------------------------------------------------------------------------------
# place_of_safety_child
# ---------------------------------------------------------------------------------------------


def child_at_station(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "place_of_safety_child", now, policy)


@pytest.mark.parametrize("basis", PLACE_OF_SAFETY_BASES)
@pytest.mark.parametrize(("now", "expected"), ladder(("critical", ARRIVAL, CRITICAL)))
def test_a_child_at_a_station_as_a_place_of_safety_is_critical_from_arrival(
    make_detention, basis, now, expected
):
    assert child_at_station(make_detention(legal_basis=basis), now) == expected


@pytest.mark.parametrize("basis", NOT_PLACE_OF_SAFETY)
def test_place_of_safety_child_is_only_for_mental_health_bases(make_detention, basis):
    assert child_at_station(make_detention(legal_basis=basis), ARRIVAL + H) is None


def test_place_of_safety_child_applies_when_the_age_is_unknown(make_detention):
    detention = make_detention(legal_basis=S136, date_of_birth=None)
    assert child_at_station(detention, ARRIVAL) == (CRITICAL, ARRIVAL)


def test_place_of_safety_child_is_never_for_adults(make_detention):
    adult = make_detention(legal_basis=S136, date_of_birth=DOB_ADULT)
    assert child_at_station(adult, ARRIVAL + H, EVERYONE) is None


def test_leaving_for_hospital_clears_place_of_safety_child(make_detention):
    left = ARRIVAL + 2 * H
    detention = make_detention(
        legal_basis=S136, released_time=left, release_reason=ReleaseReason.HOSPITAL
    )
    assert child_at_station(detention, left - S) == (CRITICAL, ARRIVAL)
    assert child_at_station(detention, left) is None


# ---------------------------------------------------------------------------------------------
# place_of_safety_limit
# ---------------------------------------------------------------------------------------------

PLACE_LIMIT = ARRIVAL + 24 * H


def place_limit(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "place_of_safety_limit", now, policy)


@pytest.mark.parametrize("basis", PLACE_OF_SAFETY_BASES)
@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", PLACE_LIMIT - 4 * H, WARNING), ("critical", PLACE_LIMIT, CRITICAL)),
)
def test_place_of_safety_limit_warns_4_hours_before_24_hours_and_is_critical_at_it(
    make_detention, basis, now, expected
):
    assert place_limit(make_detention(legal_basis=basis), now) == expected


EXTENDED = ARRIVAL + 30 * H


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("warning", EXTENDED - 4 * H, WARNING), ("critical", EXTENDED, CRITICAL)),
)
def test_an_mha_extension_moves_the_limit_to_its_until(make_detention, now, expected):
    detention = make_detention(
        legal_basis=S136, mha_extension_time=ARRIVAL + 19 * H, mha_extension_until=EXTENDED
    )
    assert place_limit(detention, now) == expected


def test_an_mha_extension_counts_only_once_its_time_is_reached(make_detention):
    extended_at = ARRIVAL + 22 * H
    detention = make_detention(
        legal_basis=S136, mha_extension_time=extended_at, mha_extension_until=EXTENDED
    )
    assert place_limit(detention, extended_at - S) == (WARNING, PLACE_LIMIT - 4 * H)
    assert place_limit(detention, extended_at) is None


def test_an_mha_extension_without_a_time_counts_from_the_start(make_detention):
    detention = make_detention(legal_basis=S136, mha_extension_until=EXTENDED)
    assert place_limit(detention, PLACE_LIMIT) is None
    assert place_limit(detention, EXTENDED) == (CRITICAL, EXTENDED)


def test_an_mha_extension_time_without_an_until_changes_nothing(make_detention):
    detention = make_detention(legal_basis=S136, mha_extension_time=ARRIVAL + 20 * H)
    assert place_limit(detention, PLACE_LIMIT) == (CRITICAL, PLACE_LIMIT)


def test_an_mha_extension_is_capped_at_36_hours_from_arrival(make_detention):
    detention = make_detention(
        legal_basis=S136,
        mha_extension_time=ARRIVAL + 20 * H,
        mha_extension_until=ARRIVAL + 48 * H,
    )
    cap = ARRIVAL + 36 * H
    assert place_limit(detention, cap - S) == (WARNING, cap - 4 * H)
    assert place_limit(detention, cap) == (CRITICAL, cap)


def test_place_of_safety_limit_ignores_prior_detention_and_relevant_time(make_detention):
    detention = make_detention(
        legal_basis=S136,
        prior_detention_minutes=600,
        relevant_time=ARRIVAL - 10 * H,
        arrest_time=ARRIVAL - 30 * H,
    )
    assert place_limit(detention, PLACE_LIMIT - S) == (WARNING, PLACE_LIMIT - 4 * H)
    assert place_limit(detention, PLACE_LIMIT) == (CRITICAL, PLACE_LIMIT)


@pytest.mark.parametrize("basis", NOT_PLACE_OF_SAFETY)
def test_place_of_safety_limit_is_only_for_mental_health_bases(make_detention, basis):
    assert place_limit(make_detention(legal_basis=basis), PLACE_LIMIT + H) is None


def test_place_of_safety_limit_applies_to_adults_only_when_scope_is_all(make_detention):
    adult = make_detention(legal_basis=S136, date_of_birth=DOB_ADULT)
    assert place_limit(adult, PLACE_LIMIT) is None
    assert place_limit(adult, PLACE_LIMIT, EVERYONE) == (CRITICAL, PLACE_LIMIT)


def test_release_clears_place_of_safety_limit(make_detention):
    detention = make_detention(legal_basis=S136, released_time=PLACE_LIMIT + 5 * M)
    assert place_limit(detention, PLACE_LIMIT + 5 * M - S) == (CRITICAL, PLACE_LIMIT)
    assert place_limit(detention, PLACE_LIMIT + 5 * M) is None


def test_place_of_safety_limit_is_elapsed_time_across_the_october_change(make_detention):
    detention = make_detention(legal_basis=S136, arrival_time=london(2026, 10, 24, 8, 30))
    end = utc(2026, 10, 25, 7, 30)
    assert place_limit(detention, end - S) == (WARNING, end - 4 * H)
    assert place_limit(detention, end) == (CRITICAL, end)


def test_place_of_safety_limit_follows_the_policy(make_detention):
    policy = Policy(place_of_safety_limit=PlaceOfSafetyLimitPolicy(warning_before=6 * H))
    detention = make_detention(legal_basis=S136)
    assert place_limit(detention, PLACE_LIMIT - 6 * H, policy) == (WARNING, PLACE_LIMIT - 6 * H)
    assert place_limit(detention, PLACE_LIMIT - 6 * H) is None


# ---------------------------------------------------------------------------------------------
# police_protection_at_station
# ---------------------------------------------------------------------------------------------


def at_station(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "police_protection_at_station", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(("high", ARRIVAL, HIGH), ("critical", ARRIVAL + 2 * H, CRITICAL)),
)
def test_a_child_in_police_protection_at_a_station_is_high_then_critical_after_2_hours(
    make_detention, now, expected
):
    assert at_station(make_detention(legal_basis=PROTECTION), now) == expected


@pytest.mark.parametrize("basis", NOT_PROTECTION)
def test_police_protection_at_station_is_only_for_police_protection(make_detention, basis):
    assert at_station(make_detention(legal_basis=basis), ARRIVAL + 3 * H) is None


def test_police_protection_at_station_counts_from_arrival_not_protection_start(make_detention):
    detention = make_detention(legal_basis=PROTECTION, police_protection_start=ARRIVAL - 5 * H)
    assert at_station(detention, ARRIVAL) == (HIGH, ARRIVAL)
    assert at_station(detention, ARRIVAL + 2 * H) == (CRITICAL, ARRIVAL + 2 * H)


def test_moving_to_local_authority_accommodation_clears_police_protection_at_station(
    make_detention,
):
    moved = ARRIVAL + 3 * H
    detention = make_detention(
        legal_basis=PROTECTION, released_time=moved, release_reason=ReleaseReason.TRANSFERRED_LA
    )
    assert at_station(detention, moved - S) == (CRITICAL, ARRIVAL + 2 * H)
    assert at_station(detention, moved) is None


def test_police_protection_at_station_is_never_for_adults(make_detention):
    adult = make_detention(legal_basis=PROTECTION, date_of_birth=DOB_ADULT)
    assert at_station(adult, ARRIVAL + 3 * H, EVERYONE) is None


def test_police_protection_at_station_applies_when_the_age_is_unknown(make_detention):
    detention = make_detention(legal_basis=PROTECTION, date_of_birth=None)
    assert at_station(detention, ARRIVAL) == (HIGH, ARRIVAL)


# ---------------------------------------------------------------------------------------------
# police_protection_limit
# ---------------------------------------------------------------------------------------------


def protection_limit(detention, now, policy=CHILDREN_ONLY):
    return state(detention, "police_protection_limit", now, policy)


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", ARRIVAL + 48 * H, WARNING),
        ("high", ARRIVAL + 66 * H, HIGH),
        ("critical", ARRIVAL + 72 * H, CRITICAL),
    ),
)
def test_police_protection_limit_climbs_at_48_66_and_72_hours_from_arrival(
    make_detention, now, expected
):
    assert protection_limit(make_detention(legal_basis=PROTECTION), now) == expected


START = ARRIVAL - 6 * H


@pytest.mark.parametrize(
    ("now", "expected"),
    ladder(
        ("warning", START + 48 * H, WARNING),
        ("high", START + 66 * H, HIGH),
        ("critical", START + 72 * H, CRITICAL),
    ),
)
def test_police_protection_limit_counts_from_the_recorded_start(make_detention, now, expected):
    detention = make_detention(legal_basis=PROTECTION, police_protection_start=START)
    assert protection_limit(detention, now) == expected


def test_police_protection_limit_since_may_fall_before_arrival(make_detention):
    start = ARRIVAL - 50 * H
    detention = make_detention(legal_basis=PROTECTION, police_protection_start=start)
    assert protection_limit(detention, ARRIVAL - S) is None
    assert protection_limit(detention, ARRIVAL) == (WARNING, start + 48 * H)


@pytest.mark.parametrize("basis", NOT_PROTECTION)
def test_police_protection_limit_is_only_for_police_protection(make_detention, basis):
    detention = make_detention(legal_basis=basis, police_protection_start=ARRIVAL)
    assert protection_limit(detention, ARRIVAL + 80 * H) is None


def test_release_clears_police_protection_limit(make_detention):
    released = ARRIVAL + 70 * H
    detention = make_detention(legal_basis=PROTECTION, released_time=released)
    assert protection_limit(detention, released - S) == (HIGH, ARRIVAL + 66 * H)
    assert protection_limit(detention, released) is None


def test_police_protection_limit_is_elapsed_time_across_the_march_change(make_detention):
    arrival = london(2026, 3, 27, 9, 0)  # 09:00Z
    detention = make_detention(legal_basis=PROTECTION, arrival_time=arrival)
    end = utc(2026, 3, 30, 9, 0)  # 72h later: 10:00 BST on the clock
    assert protection_limit(detention, end - S) == (HIGH, end - 6 * H)
    assert protection_limit(detention, end) == (CRITICAL, end)


def test_police_protection_limit_follows_the_policy(make_detention):
    policy = Policy(police_protection_limit=PoliceProtectionLimitPolicy(warning_after=24 * H))
    detention = make_detention(legal_basis=PROTECTION)
    assert protection_limit(detention, ARRIVAL + 24 * H, policy) == (WARNING, ARRIVAL + 24 * H)


def test_police_protection_limit_is_never_for_adults(make_detention):
    # Children Act protection is for children; the rule is child-only (Precise reading 9).
    adult = make_detention(legal_basis=PROTECTION, date_of_birth=DOB_ADULT)
    assert protection_limit(adult, ARRIVAL + 80 * H, EVERYONE) is None
