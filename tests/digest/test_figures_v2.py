"""The digest's v2 figures (``shared/spec/cli.md``, "Digest (v2)"), on plain inputs: looked-after
children, repeat detentions, releases without a referral, and case review grades with the
share inadequate over 28 days.

The digest dated 2026-06-11 covers 06:00Z 10 June (07:00 BST) to 06:00Z 11 June."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from custody_watch.digest.figures import digest_figures
from custody_watch.digest.inputs import CaseReview, DigestInputs, EarlierArrival
from custody_watch.domain import CaseReviewGrade, Detention
from custody_watch.rules.policy import Policy

from .test_figures import DAY, END, START, child, t, totals

V2_KEYS = [
    "looked_after_in_custody",
    "repeat_detention_children",
    "released_without_referral",
    "case_reviews",
]
CARRIES_REFERRAL = frozenset({"social_care_referral_time"})


def released(ref: str, at: str, **fields: Any) -> Detention:
    fields.setdefault("feed_carries", CARRIES_REFERRAL)
    return child(ref, "2026-06-10T02:00:00Z", released_time=t(at), **fields)


def test_a_v1_store_gives_zero_and_empty_v2_figures_in_totals_and_each_suite() -> None:
    result = digest_figures(
        DAY, time(7, 0), Policy(), DigestInputs(detentions=(child(),)), history=False
    )
    for group in (result["totals"], result["suites"]["S1"]):
        assert group["looked_after_in_custody"] == 0
        assert group["repeat_detention_children"] == 0
        assert group["released_without_referral"] == 0
        assert group["case_reviews"] == {"good": 0, "requires_improvement": 0, "inadequate": 0}
    assert result["totals"]["case_reviews_inadequate_share_28d"] is None
    assert "case_reviews_inadequate_share_28d" not in result["suites"]["S1"]
    assert result["released_without_referral_children"] == []


def test_the_v2_keys_follow_the_contract_keys_in_the_totals() -> None:
    keys = list(totals(child()))
    at = keys.index("quarantined_rows")
    assert keys[at + 1 : at + 5] == V2_KEYS


def test_looked_after_children_count_while_in_custody_during_the_window() -> None:
    result = totals(
        child("LA-1", looked_after=True),
        child("LA-2", "2026-06-09T20:00:00Z", looked_after=True, released_time=t(START)),
        child("LA-3", END, looked_after=True),
        child("C-4"),
    )
    # LA-2 left exactly at the start and LA-3 arrived exactly at the end: not in custody.
    assert result["looked_after_in_custody"] == 1


def test_an_adult_in_care_is_not_a_looked_after_child() -> None:
    adult = child("A-1", looked_after=True, date_of_birth=date(1990, 1, 1))
    assert totals(adult)["looked_after_in_custody"] == 0


def _earlier(ref: str, at: str, person: str = "P-1") -> EarlierArrival:
    return EarlierArrival(person_ref=person, custody_ref=ref, arrival_time=t(at))


def test_a_child_with_two_other_arrivals_in_the_90_days_before_is_a_repeat() -> None:
    now = child("R-1", "2026-06-10T08:00:00Z", person_ref="P-1")
    two = [_earlier("E-1", "2026-03-12T08:00:00Z"), _earlier("E-2", "2026-05-01T08:00:00Z")]
    assert totals(now, earlier_arrivals=two)["repeat_detention_children"] == 1
    assert totals(now, earlier_arrivals=two[:1])["repeat_detention_children"] == 0


def test_the_90_day_boundary_counts_at_and_not_a_second_before() -> None:
    now = child("R-1", "2026-06-10T08:00:00Z", person_ref="P-1")
    at_edge = _earlier("E-1", "2026-03-12T08:00:00Z")  # arrival - 90 days exactly
    before = _earlier("E-1", "2026-03-12T07:59:59Z")
    recent = _earlier("E-2", "2026-06-01T08:00:00Z")
    assert totals(now, earlier_arrivals=[at_edge, recent])["repeat_detention_children"] == 1
    assert totals(now, earlier_arrivals=[before, recent])["repeat_detention_children"] == 0


def test_the_record_itself_another_person_and_later_arrivals_are_not_counted() -> None:
    now = child("R-1", "2026-06-10T08:00:00Z", person_ref="P-1")
    others = [
        _earlier("R-1", "2026-05-01T08:00:00Z"),  # the same custody ref: the record itself
        _earlier("E-2", "2026-05-02T08:00:00Z", person="P-2"),
        _earlier("E-3", "2026-06-10T08:00:00Z"),  # at its arrival, not before
        _earlier("E-4", "2026-05-03T08:00:00Z"),
    ]
    assert totals(now, earlier_arrivals=others)["repeat_detention_children"] == 0


def test_loaded_detentions_of_the_same_person_count_as_earlier_records() -> None:
    now = child("R-1", "2026-06-10T08:00:00Z", person_ref="P-1")
    first = child("R-0", "2026-05-01T08:00:00Z", person_ref="P-1", released_time=t(START))
    second = child("R-00", "2026-06-10T07:00:00Z", person_ref="P-1")
    result = totals(now, first, second)
    # R-1 has two before it; R-00 (also in custody) has only one.
    assert result["repeat_detention_children"] == 1


def test_released_without_referral_needs_the_feed_to_carry_the_field() -> None:
    no_field = child("N-1", "2026-06-10T02:00:00Z", released_time=t("2026-06-10T09:00:00Z"))
    result = totals(released("R-1", "2026-06-10T09:00:00Z"), no_field)
    assert result["released_without_referral"] == 1


def test_a_referral_at_or_before_the_window_end_counts_as_made() -> None:
    result = totals(
        released("R-1", "2026-06-10T09:00:00Z", social_care_referral_time=t(END)),
        released(
            "R-2", "2026-06-10T09:00:00Z", social_care_referral_time=t("2026-06-11T06:00:01Z")
        ),
        released("R-3", START),  # released exactly at the start: in the window
        released("R-4", END),  # exactly at the end: not in it
    )
    assert result["released_without_referral"] == 2


def test_the_children_released_without_referral_are_listed_by_time_of_release() -> None:
    result = digest_figures(
        DAY,
        time(7, 0),
        Policy(),
        DigestInputs(
            detentions=(
                released("R-2", "2026-06-10T10:00:00Z", looked_after=True),
                released("R-1", "2026-06-10T09:00:00Z"),
            )
        ),
        history=False,
    )
    listed = result["released_without_referral_children"]
    assert [(c["custody_ref"], c["looked_after"]) for c in listed] == [
        ("R-1", False),
        ("R-2", True),
    ]


def _graded(ref: str, grade: CaseReviewGrade, at: str, **fields: Any) -> Detention:
    return child(
        ref,
        "2026-05-20T08:00:00Z",
        released_time=t("2026-05-20T12:00:00Z"),
        case_review_grade=grade,
        case_review_time=t(at),
        **fields,
    )


def test_case_reviews_in_the_window_are_counted_by_grade_in_totals_and_suites() -> None:
    result = digest_figures(
        DAY,
        time(7, 0),
        Policy(),
        DigestInputs(
            detentions=(
                _graded("G-1", CaseReviewGrade.GOOD, START),
                _graded("G-2", CaseReviewGrade.INADEQUATE, "2026-06-10T12:00:00Z"),
                _graded("G-3", CaseReviewGrade.INADEQUATE, END),  # the next window
                _graded("G-4", CaseReviewGrade.REQUIRES_IMPROVEMENT, "2026-06-10T13:00:00Z"),
            )
        ),
        history=False,
    )
    expected = {"good": 1, "requires_improvement": 1, "inadequate": 1}
    assert result["totals"]["case_reviews"] == expected
    assert result["suites"]["S1"]["case_reviews"] == expected


def test_a_grade_without_a_time_is_not_a_graded_review() -> None:
    ungraded = child("G-1", case_review_grade=CaseReviewGrade.GOOD)
    untimed = child("G-2", case_review_time=t("2026-06-10T12:00:00Z"))
    result = totals(ungraded, untimed)
    assert sum(result["case_reviews"].values()) == 0
    assert result["case_reviews_inadequate_share_28d"] is None


def test_the_inadequate_share_covers_the_28_windows_ending_with_this_one() -> None:
    # The 28 windows of 15 May to 11 June start at 06:00Z on 14 May.
    reviews = [
        CaseReview("X-1", "S2", None, "inadequate", t("2026-05-14T06:00:00Z")),
        CaseReview("X-2", "S2", None, "good", t("2026-05-14T05:59:59Z")),  # before them
        CaseReview("X-3", "S2", None, "good", t("2026-06-01T10:00:00Z")),
        CaseReview("X-4", "S2", None, "requires_improvement", t("2026-06-10T10:00:00Z")),
        CaseReview("X-5", "S2", None, "inadequate", t(END)),  # after them
    ]
    result = totals(child(), case_reviews=reviews)
    assert result["case_reviews_inadequate_share_28d"] == 1 / 3
    assert result["case_reviews"] == {"good": 0, "requires_improvement": 1, "inadequate": 0}


def test_the_inspections_own_cases_give_its_share() -> None:
    grades = ["good"] * 20 + ["requires_improvement"] * 31 + ["inadequate"] * 28
    reviews = [
        CaseReview(f"X-{i}", "S1", None, grade, t("2026-06-01T10:00:00Z"))
        for i, grade in enumerate(grades)
    ]
    assert totals(child(), case_reviews=reviews)["case_reviews_inadequate_share_28d"] == 28 / 79


def test_a_stored_review_of_a_loaded_detention_is_counted_once() -> None:
    loaded = _graded("G-1", CaseReviewGrade.INADEQUATE, "2026-06-10T12:00:00Z")
    again = CaseReview("G-1", "S1", None, "inadequate", t("2026-06-10T12:00:00Z"))
    assert totals(loaded, case_reviews=[again])["case_reviews"]["inadequate"] == 1


def test_each_child_says_whether_looked_after_and_whether_a_repeat() -> None:
    result = digest_figures(
        DAY,
        time(7, 0),
        Policy(),
        DigestInputs(
            detentions=(child("C-1", looked_after=True, person_ref="P-1"),),
            earlier_arrivals=(
                _earlier("E-1", "2026-05-01T08:00:00Z"),
                _earlier("E-2", "2026-05-02T08:00:00Z"),
            ),
        ),
        history=False,
    )
    (one,) = result["children"]
    assert (one["looked_after"], one["repeat_detention"]) == (True, True)
