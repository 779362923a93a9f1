"""parse.py: one row of named values -> a Detention, or the reason it is rejected.

Every rejection reason of custody-record.md is checked through a whole feed, so that the row
number, the custody_ref and the ``field: reason`` form of the error are checked too."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from custody_watch.domain import CertificateGround, Detention, LegalBasis, ReleaseReason
from custody_watch.ingest import RowError, parse_row, read_records_text
from custody_watch.times import LONDON

from .feeds import ARRIVAL, feed, good

FORMATS = ["csv", "jsonl"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rejected_between_good_rows(
    fmt: str, bad: dict[str, Any], *, naive_zone: Any = None
) -> tuple[Any, str | None]:
    """Feed good row 1, ``bad`` as row 2, good row 3; return the one rejection."""
    rows = [good("G-1"), bad, good("G-3")]
    result = read_records_text(feed(fmt, rows), fmt, naive_zone=naive_zone)  # type: ignore[arg-type]
    assert result.rows == 3
    assert [d.custody_ref for d in result.detentions] == ["G-1", "G-3"]
    [rejection] = result.rejected
    assert rejection.row == 2
    return rejection, rejection.error


def assert_rejected(
    fmt: str, bad: dict[str, Any], field: str, *, ref: str | None = "B-2", naive_zone: Any = None
) -> str:
    rejection, error = rejected_between_good_rows(fmt, bad, naive_zone=naive_zone)
    assert rejection.custody_ref == ref
    assert error is not None
    assert error.startswith(f"{field}: "), error
    assert len(error) > len(field) + 2
    return error


def accepted(fmt: str, row: dict[str, Any], *, naive_zone: Any = None) -> Detention:
    result = read_records_text(feed(fmt, [row]), fmt, naive_zone=naive_zone)  # type: ignore[arg-type]
    assert result.rejected == [], result.rejected
    [detention] = result.detentions
    return detention


# --- a well-formed row ------------------------------------------------------------------------


def test_parse_row_reads_every_field_of_the_interchange_format() -> None:
    values = {
        "custody_ref": "C-1",
        "suite": "RIP",
        "arrival_time": "2026-10-24T08:30:00+01:00",
        "force": "WY",
        "person_ref": "P-77",
        "date_of_birth": "2010-02-28",
        "legal_basis": "bail_return",
        "arrest_time": "2026-10-24T07:00:00+01:00",
        "relevant_time": "2026-10-24T08:00:00+01:00",
        "detention_authorised_time": "2026-10-24T08:45:00+01:00",
        "prior_detention_minutes": "90",
        "reviews": "2026-10-24T14:00:00+01:00;2026-10-24T23:00:00+01:00",
        "superintendent_extension_time": "2026-10-25T05:00:00Z",
        "superintendent_extension_until": "2026-10-25T19:30:00Z",
        "warrant_time": "2026-10-25T18:00:00Z",
        "warrant_until": "2026-10-26T18:00:00Z",
        "mha_extension_time": "2026-10-25T06:00:00Z",
        "mha_extension_until": "2026-10-25T18:00:00Z",
        "police_protection_start": "2026-10-24T06:00:00Z",
        "charged_time": "2026-10-25T09:00:00Z",
        "bail_refused_time": "2026-10-25T09:30:00Z",
        "la_accommodation_requested_time": "2026-10-25T10:00:00Z",
        "s38_certificate_time": "2026-10-25T11:00:00Z",
        "s38_certificate_ground": "no_secure_accommodation",
        "appropriate_adult_requested_time": "2026-10-24T09:00:00+01:00",
        "appropriate_adult_arrived_time": "2026-10-24T10:00:00+01:00",
        "released_time": "2026-10-25T12:00:00Z",
        "release_reason": "transferred_la",
        "updated_at": "2026-10-25T12:05:00Z",
    }
    d = parse_row(values)
    assert d.custody_ref == "C-1"
    assert d.suite == "RIP"
    assert d.arrival_time == utc(2026, 10, 24, 7, 30)
    assert d.force == "WY"
    assert d.person_ref == "P-77"
    assert d.date_of_birth == date(2010, 2, 28)
    assert d.legal_basis is LegalBasis.BAIL_RETURN
    assert d.arrest_time == utc(2026, 10, 24, 6)
    assert d.relevant_time == utc(2026, 10, 24, 7)
    assert d.detention_authorised_time == utc(2026, 10, 24, 7, 45)
    assert d.prior_detention_minutes == 90
    assert d.reviews == (utc(2026, 10, 24, 13), utc(2026, 10, 24, 22))
    assert d.superintendent_extension_time == utc(2026, 10, 25, 5)
    assert d.superintendent_extension_until == utc(2026, 10, 25, 19, 30)
    assert d.warrant_time == utc(2026, 10, 25, 18)
    assert d.warrant_until == utc(2026, 10, 26, 18)
    assert d.mha_extension_time == utc(2026, 10, 25, 6)
    assert d.mha_extension_until == utc(2026, 10, 25, 18)
    assert d.police_protection_start == utc(2026, 10, 24, 6)
    assert d.charged_time == utc(2026, 10, 25, 9)
    assert d.bail_refused_time == utc(2026, 10, 25, 9, 30)
    assert d.la_accommodation_requested_time == utc(2026, 10, 25, 10)
    assert d.s38_certificate_time == utc(2026, 10, 25, 11)
    assert d.s38_certificate_ground is CertificateGround.NO_SECURE_ACCOMMODATION
    assert d.appropriate_adult_requested_time == utc(2026, 10, 24, 8)
    assert d.appropriate_adult_arrived_time == utc(2026, 10, 24, 9)
    assert d.released_time == utc(2026, 10, 25, 12)
    assert d.release_reason is ReleaseReason.TRANSFERRED_LA
    assert d.updated_at == utc(2026, 10, 25, 12, 5)


def test_a_minimal_row_takes_the_documented_defaults() -> None:
    d = parse_row({"custody_ref": "C-1", "suite": "S1", "arrival_time": ARRIVAL})
    assert d.legal_basis is LegalBasis.PACE_ARREST
    assert d.prior_detention_minutes == 0
    assert d.reviews == ()
    assert d.date_of_birth is None
    assert d.released_time is None
    assert d.updated_at is None


def test_every_time_is_stored_as_aware_utc() -> None:
    d = parse_row(good("C-1", arrest_time="2026-06-10T12:00:00-04:00"))
    assert d.arrest_time == utc(2026, 6, 10, 16)
    assert d.arrest_time is not None and d.arrest_time.tzinfo is UTC


def test_parse_row_raises_row_error_with_the_field_and_reason() -> None:
    with pytest.raises(RowError) as caught:
        parse_row({"custody_ref": "C-1", "arrival_time": ARRIVAL})
    assert caught.value.field == "suite"
    assert str(caught.value) == f"suite: {caught.value.reason}"


# --- required fields --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["suite", "arrival_time"])
def test_a_missing_required_field_is_rejected_naming_it(fmt: str, field: str) -> None:
    bad = good("B-2")
    del bad[field]
    error = assert_rejected(fmt, bad, field)
    assert "missing" in error


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["suite", "arrival_time"])
def test_a_blank_required_field_is_missing(fmt: str, field: str) -> None:
    assert_rejected(fmt, {**good("B-2"), field: "   "}, field)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_row_without_a_custody_ref_is_rejected_with_no_custody_ref(fmt: str) -> None:
    bad = {"suite": "S1", "arrival_time": ARRIVAL, "date_of_birth": "2010-01-01"}
    error = assert_rejected(fmt, bad, "custody_ref", ref=None)
    assert "missing" in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_custody_ref_is_missing_and_the_rejection_has_none(fmt: str) -> None:
    assert_rejected(fmt, good("   "), "custody_ref", ref=None)


def test_the_custody_ref_of_a_rejected_row_is_trimmed() -> None:
    assert_rejected("csv", {**good("  B-2 "), "suite": ""}, "suite", ref="B-2")


def test_a_json_custody_ref_that_is_an_object_is_rejected_with_no_custody_ref() -> None:
    assert_rejected("jsonl", good({"id": 1}), "custody_ref", ref=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, [1], {"a": 1}])
def test_a_json_text_field_that_is_not_text_is_rejected_naming_it(value: object) -> None:
    assert_rejected("jsonl", good("B-2", suite=value), "suite")


# --- times ------------------------------------------------------------------------------------


TIME_FIELDS = [
    "arrival_time",
    "arrest_time",
    "relevant_time",
    "detention_authorised_time",
    "superintendent_extension_time",
    "superintendent_extension_until",
    "warrant_time",
    "warrant_until",
    "mha_extension_time",
    "mha_extension_until",
    "police_protection_start",
    "charged_time",
    "bail_refused_time",
    "la_accommodation_requested_time",
    "s38_certificate_time",
    "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time",
    "released_time",
    "updated_at",
]


@pytest.mark.parametrize("field", TIME_FIELDS)
def test_a_time_without_an_offset_is_rejected_naming_the_field(field: str) -> None:
    error = assert_rejected("csv", good("B-2", **{field: "2026-06-10T13:00:00"}), field)
    assert "offset" in error


@pytest.mark.parametrize("field", TIME_FIELDS)
def test_a_time_that_cannot_be_parsed_is_rejected_naming_the_field(field: str) -> None:
    assert_rejected("jsonl", good("B-2", **{field: "next Tuesday"}), field)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["2026-02-30T10:00:00Z", "2026-06-10T24:30:00Z", "2026-06-10"])
def test_an_impossible_or_offsetless_arrival_is_rejected(fmt: str, value: str) -> None:
    assert_rejected(fmt, good("B-2", arrival_time=value), "arrival_time")


def test_a_json_number_for_a_time_is_rejected_naming_the_field() -> None:
    assert_rejected("jsonl", good("B-2", charged_time=1781092800), "charged_time")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_review_without_an_offset_is_rejected_naming_reviews(fmt: str) -> None:
    bad = good("B-2", reviews=["2026-06-10T18:00:00Z", "2026-06-10T23:00:00"])
    error = assert_rejected(fmt, bad, "reviews")
    assert "offset" in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_review_that_cannot_be_parsed_is_rejected_naming_reviews(fmt: str) -> None:
    assert_rejected(fmt, good("B-2", reviews=["soon"]), "reviews")


@pytest.mark.parametrize("value", [42, {"at": "x"}, [42], [["2026-06-10T18:00:00Z"]]])
def test_json_reviews_that_are_not_a_list_of_strings_are_rejected(value: object) -> None:
    assert_rejected("jsonl", good("B-2", reviews=value), "reviews")


def test_json_reviews_may_hold_nulls_and_blanks_which_are_skipped() -> None:
    d = accepted("jsonl", good("C-1", reviews=[None, " ", "2026-06-10T18:00:00Z"]))
    assert d.reviews == (utc(2026, 6, 10, 18),)


def test_json_reviews_as_an_empty_list_are_no_reviews() -> None:
    assert accepted("jsonl", good("C-1", reviews=[])).reviews == ()


# --- naive times in Europe/London -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_naive_summer_time_is_read_as_bst_when_a_naive_zone_is_given(fmt: str) -> None:
    row = good(
        "C-1",
        arrival_time="2026-06-10T12:00:00",
        reviews=["2026-06-10T18:00:00"],
        released_time="2026-06-10T20:00:00+00:00",
    )
    d = accepted(fmt, row, naive_zone=LONDON)
    assert d.arrival_time == utc(2026, 6, 10, 11)
    assert d.reviews == (utc(2026, 6, 10, 17),)
    assert d.released_time == utc(2026, 6, 10, 20)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_naive_winter_time_is_read_as_gmt_when_a_naive_zone_is_given(fmt: str) -> None:
    d = accepted(fmt, good("C-1", arrival_time="2026-12-10T12:00:00"), naive_zone=LONDON)
    assert d.arrival_time == utc(2026, 12, 10, 12)


def test_naive_times_either_side_of_the_october_change_are_read() -> None:
    d = accepted(
        "csv",
        good("C-1", arrival_time="2026-10-25T00:30:00", released_time="2026-10-25T02:30:00"),
        naive_zone=LONDON,
    )
    assert d.arrival_time == utc(2026, 10, 24, 23, 30)
    assert d.released_time == utc(2026, 10, 25, 2, 30)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_naive_time_in_the_skipped_hour_is_rejected(fmt: str) -> None:
    bad = good("B-2", arrival_time="2026-03-29T01:30:00")
    assert_rejected(fmt, bad, "arrival_time", naive_zone=LONDON)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_naive_time_in_the_skipped_hour_is_rejected_saying_it_does_not_exist(fmt: str) -> None:
    bad = good("B-2", arrival_time="2026-03-29T01:30:00")
    error = assert_rejected(fmt, bad, "arrival_time", naive_zone=LONDON)
    assert "does not exist" in error
    assert "ambiguous" not in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_naive_time_in_the_doubled_hour_is_rejected_as_ambiguous(fmt: str) -> None:
    bad = good("B-2", arrival_time="2026-10-25T01:30:00")
    error = assert_rejected(fmt, bad, "arrival_time", naive_zone=LONDON)
    assert "ambiguous" in error


def test_a_doubled_hour_review_is_rejected_naming_reviews() -> None:
    bad = good("B-2", reviews=["2026-10-25T01:30:00"])
    error = assert_rejected("csv", bad, "reviews", naive_zone=LONDON)
    assert "ambiguous" in error


def test_a_doubled_hour_time_with_an_offset_is_accepted_with_a_naive_zone() -> None:
    d = accepted("csv", good("C-1", arrival_time="2026-10-25T01:30:00+00:00"), naive_zone=LONDON)
    assert d.arrival_time == utc(2026, 10, 25, 1, 30)
    d = accepted("csv", good("C-1", arrival_time="2026-10-25T01:30:00+01:00"), naive_zone=LONDON)
    assert d.arrival_time == utc(2026, 10, 25, 0, 30)


def test_without_a_naive_zone_a_naive_time_is_rejected_whatever_the_season() -> None:
    for value in ("2026-06-10T12:00:00", "2026-12-10T12:00:00"):
        assert_rejected("csv", good("B-2", arrival_time=value), "arrival_time")


# --- date of birth ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "value",
    [
        "10/06/2010",
        "2010-6-1",
        "20100601",
        "2010-02-30",
        "2010-13-01",
        "yesterday",
        "2010-06-01T00:00:00Z",
    ],
)
def test_a_date_of_birth_not_in_yyyy_mm_dd_is_rejected(fmt: str, value: str) -> None:
    assert_rejected(fmt, good("B-2", date_of_birth=value), "date_of_birth")


def test_a_29_february_birthday_is_a_date() -> None:
    assert accepted("csv", good("C-1", date_of_birth="2012-02-29")).date_of_birth == date(
        2012, 2, 29
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_date_of_birth_on_the_local_date_of_arrival_is_allowed(fmt: str) -> None:
    # 23:30 UTC on 10 June is 00:30 BST on 11 June.
    row = good("C-1", arrival_time="2026-06-10T23:30:00Z", date_of_birth="2026-06-11")
    assert accepted(fmt, row).date_of_birth == date(2026, 6, 11)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_date_of_birth_after_the_local_date_of_arrival_is_rejected(fmt: str) -> None:
    bad = good("B-2", arrival_time="2026-06-10T23:30:00Z", date_of_birth="2026-06-12")
    assert_rejected(fmt, bad, "date_of_birth")


def test_in_winter_the_local_date_of_arrival_is_the_utc_date() -> None:
    ok = good("C-1", arrival_time="2026-12-10T23:30:00Z", date_of_birth="2026-12-10")
    assert accepted("csv", ok).date_of_birth == date(2026, 12, 10)
    bad = good("B-2", arrival_time="2026-12-10T23:30:00Z", date_of_birth="2026-12-11")
    assert_rejected("csv", bad, "date_of_birth")


def test_a_far_future_date_of_birth_is_rejected() -> None:
    assert_rejected("jsonl", good("B-2", date_of_birth="2099-01-01"), "date_of_birth")


# --- values from fixed lists ------------------------------------------------------------------


@pytest.mark.parametrize("value", [b.value for b in LegalBasis])
def test_every_legal_basis_is_accepted(value: str) -> None:
    assert accepted("csv", good("C-1", legal_basis=value)).legal_basis == value


@pytest.mark.parametrize("value", [r.value for r in ReleaseReason])
def test_every_release_reason_is_accepted(value: str) -> None:
    assert accepted("jsonl", good("C-1", release_reason=value)).release_reason == value


@pytest.mark.parametrize("value", ["impracticable", "no_secure_accommodation"])
def test_both_certificate_grounds_are_accepted(value: str) -> None:
    row = good("C-1", s38_certificate_ground=value)
    assert accepted("csv", row).s38_certificate_ground == value


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_basis", "PACE_ARREST"),
        ("legal_basis", "Pace_Arrest"),
        ("legal_basis", "arrest"),
        ("legal_basis", "mha s136"),
        ("release_reason", "Bailed"),
        ("release_reason", "released_on_bail"),
        ("s38_certificate_ground", "IMPRACTICABLE"),
        ("s38_certificate_ground", "no secure accommodation"),
    ],
)
def test_an_unknown_or_wrongly_cased_value_is_rejected(fmt: str, field: str, value: str) -> None:
    error = assert_rejected(fmt, good("B-2", **{field: value}), field)
    assert value in error


def test_a_listed_value_is_trimmed_before_it_is_checked() -> None:
    assert accepted("csv", good("C-1", legal_basis="  warrant ")).legal_basis == "warrant"


# --- released before arrival ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_released_time_equal_to_arrival_is_accepted(fmt: str) -> None:
    d = accepted(fmt, good("C-1", released_time=ARRIVAL))
    assert d.released_time == d.arrival_time


def test_released_time_equal_to_arrival_in_another_offset_is_accepted() -> None:
    d = accepted("csv", good("C-1", released_time="2026-06-10T13:00:00+01:00"))
    assert d.released_time == d.arrival_time


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["2026-06-10T11:59:59Z", "2026-06-10T12:30:00+01:00"])
def test_released_time_before_arrival_is_rejected(fmt: str, value: str) -> None:
    error = assert_rejected(fmt, good("B-2", released_time=value), "released_time")
    assert "arrival" in error


# --- prior detention minutes ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["abc", "1.5", "-5", "30m", "1e3", "3 0", "0x10"])
def test_prior_detention_minutes_that_are_not_whole_and_non_negative_are_rejected(
    fmt: str, value: str
) -> None:
    assert_rejected(fmt, good("B-2", prior_detention_minutes=value), "prior_detention_minutes")


@pytest.mark.parametrize("value", [1.5, -5, -1.0, True, [30], {"m": 30}])
def test_json_prior_detention_minutes_that_are_not_whole_and_non_negative_are_rejected(
    value: object,
) -> None:
    assert_rejected("jsonl", good("B-2", prior_detention_minutes=value), "prior_detention_minutes")


@pytest.mark.parametrize(
    ("value", "minutes"),
    [("30", 30), (" 30 ", 30), ("0", 0), ("", 0), ("5760", 5760), ("0005760", 5760)],
)
def test_whole_csv_prior_detention_minutes_are_accepted(value: str, minutes: int) -> None:
    row = good("C-1", prior_detention_minutes=value or None)
    assert accepted("csv", row).prior_detention_minutes == minutes


@pytest.mark.parametrize(("value", "minutes"), [(30, 30), (0, 0), (5760, 5760), (None, 0)])
def test_json_integers_of_whole_minutes_are_accepted(value: object, minutes: int) -> None:
    assert (
        accepted("jsonl", good("C-1", prior_detention_minutes=value)).prior_detention_minutes
        == minutes
    )


# --- nothing else rejects a row ---------------------------------------------------------------


def test_other_odd_orderings_of_times_are_read_as_given() -> None:
    row = good(
        "C-1",
        arrest_time="2026-06-10T15:00:00Z",  # arrested after arrival
        relevant_time="2026-06-09T00:00:00Z",
        detention_authorised_time="2026-06-10T11:00:00Z",  # before arrival
        reviews=["2026-06-10T06:00:00Z"],  # before arrival
        charged_time="2026-06-10T10:00:00Z",
        bail_refused_time="2026-06-10T09:00:00Z",  # before charge
        superintendent_extension_time="2026-06-11T10:00:00Z",
        superintendent_extension_until="2026-06-11T09:00:00Z",  # before its own time
        warrant_until="2026-06-10T13:00:00Z",
        appropriate_adult_arrived_time="2026-06-10T11:00:00Z",
        appropriate_adult_requested_time="2026-06-10T12:30:00Z",
        police_protection_start="2026-06-12T00:00:00Z",
        s38_certificate_ground="impracticable",  # ground without a time
        updated_at="2020-01-01T00:00:00Z",
        release_reason="court",  # reason without a release
        legal_basis="police_protection",
        prior_detention_minutes=5760,
    )
    for fmt in FORMATS:
        d = accepted(fmt, row)
        assert d.arrest_time == utc(2026, 6, 10, 15)
        assert d.superintendent_extension_until == utc(2026, 6, 11, 9)
        assert d.reviews == (utc(2026, 6, 10, 6),)


def test_a_date_of_birth_making_the_person_very_old_is_read_as_given() -> None:
    assert accepted("csv", good("C-1", date_of_birth="1900-01-01")).date_of_birth == date(
        1900, 1, 1
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_rejected_row_does_not_stop_later_rows(fmt: str) -> None:
    rows = [good("B-1", legal_basis="x"), good("C-2"), good("B-3", released_time="x"), good("C-4")]
    result = read_records_text(feed(fmt, rows), fmt)  # type: ignore[arg-type]
    assert [d.custody_ref for d in result.detentions] == ["C-2", "C-4"]
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(1, "B-1"), (3, "B-3")]
    assert [r.error.split(":")[0] for r in result.rejected] == ["legal_basis", "released_time"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_outside_the_representable_range_is_rejected_not_raised(
    fmt: str, value: str
) -> None:
    assert_rejected(fmt, good("B-2", arrival_time=value), "arrival_time")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["5761", "100000", "5256000000", "9" * 5000, "-" + "9" * 5000])
def test_prior_detention_minutes_over_96_hours_are_rejected_without_conversion(
    fmt: str, value: str
) -> None:
    error = assert_rejected(
        fmt, good("B-2", prior_detention_minutes=value), "prior_detention_minutes"
    )
    assert len(error) < 200, error  # the value quoted, cut to 40 characters


@pytest.mark.parametrize("value", ["30", "0", " 30 ", "1e3"])
def test_a_json_string_of_minutes_is_not_a_number(value: str) -> None:
    error = assert_rejected(
        "jsonl", good("B-2", prior_detention_minutes=value), "prior_detention_minutes"
    )
    assert "string" in error or "whole" in error


@pytest.mark.parametrize("literal", ["30.0", "3e1", "1e308", "30.5", "5761", "1" + "0" * 5000])
def test_a_json_number_with_a_fraction_or_exponent_or_out_of_range_is_rejected(
    literal: str,
) -> None:
    base = feed("jsonl", [good("G-1"), good("B-2"), good("G-3")]).split("\n")
    base[1] = base[1][:-1] + f', "prior_detention_minutes": {literal}}}'
    result = read_records_text("\n".join(base), "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["G-1", "G-3"]
    [rejection] = result.rejected
    assert rejection.error.startswith("prior_detention_minutes: "), rejection.error
    assert len(rejection.error) < 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["\u0663\u0660", "\uff13\uff10", "\u0969"])
def test_non_ascii_digits_are_not_a_number_of_minutes(fmt: str, value: str) -> None:
    assert value.isdigit()  # what str.isdigit and int() would accept
    assert_rejected(fmt, good("B-2", prior_detention_minutes=value), "prior_detention_minutes")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "value",
    [
        "\u0662\u0660\u0662\u0666-06-10T10:00:00Z",
        "2026-06-10T1\uff10:00:00Z",
        "2026-06-10T10:00:00\uff3a",
        "2026-06-10T10:00:00+01:00" + " " * 30 + "x",
    ],
)
def test_a_time_with_digits_beyond_ascii_or_too_long_is_rejected(fmt: str, value: str) -> None:
    error = assert_rejected(fmt, good("B-2", arrival_time=value), "arrival_time")
    assert "not a valid time" in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_date_of_birth_with_digits_beyond_ascii_is_rejected(fmt: str) -> None:
    assert_rejected(
        fmt, good("B-2", date_of_birth="\uff12\uff10\uff11\uff10-01-01"), "date_of_birth"
    )


# --- text fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["suite", "force", "person_ref", "legal_basis", "arrival_time"])
@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("a\x00b", "NUL"),
        ("a\x07b", "control character (U+0007)"),
        ("a\x1bb", "control character"),
        ("a\x85b", "control character"),
        ("a\u2028b", "control character"),
        ("a\tb", "control character (U+0009)"),
        ("a\x00", "NUL"),
    ],
)
def test_a_text_field_holding_a_control_character_is_rejected_naming_its_field(
    fmt: str, field: str, bad: str, said: str
) -> None:
    error = assert_rejected(fmt, good("B-2", **{field: bad}), field)
    assert said in error, error


def test_a_jsonl_line_break_inside_a_text_field_is_rejected() -> None:
    error = assert_rejected("jsonl", good("B-2", suite="S\nX"), "suite")
    assert "U+000A" in error


@pytest.mark.parametrize("field", ["suite", "person_ref", "release_reason"])
def test_a_row_with_a_lone_surrogate_is_rejected_naming_its_field(field: str) -> None:
    error = assert_rejected("jsonl", good("B-2", **{field: "x\ud800y"}), field)
    assert "lone surrogate" in error
    error.encode("utf-8")  # the message itself can be stored


def test_a_lone_surrogate_among_reviews_is_rejected() -> None:
    assert_rejected("jsonl", good("B-2", reviews=["\udfff"]), "reviews")


def test_a_custody_ref_holding_a_nul_is_rejected_without_showing_the_ref() -> None:
    rejection, error = rejected_between_good_rows("csv", good("B\x00-2"))
    assert error is not None and error.startswith("custody_ref: ")
    assert rejection.custody_ref is None


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("field", "limit"), [("suite", 64), ("force", 64), ("person_ref", 64)])
def test_a_reference_longer_than_64_characters_is_rejected(
    fmt: str, field: str, limit: int
) -> None:
    assert accepted(fmt, good("C-1", **{field: "x" * limit}))
    error = assert_rejected(fmt, good("B-2", **{field: "x" * (limit + 1)}), field)
    assert f"longer than {limit}" in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_custody_ref_longer_than_64_characters_is_rejected_and_not_shown(fmt: str) -> None:
    rejection, error = rejected_between_good_rows(fmt, good("B" * 65))
    assert error is not None and error.startswith("custody_ref: longer than 64")
    assert rejection.custody_ref is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_text_longer_than_200_characters_is_rejected(fmt: str) -> None:
    error = assert_rejected(fmt, good("B-2", legal_basis="p" * 201), "legal_basis")
    assert "longer than 200" in error


@pytest.mark.parametrize("fmt", FORMATS)
def test_many_reviews_may_be_longer_than_200_characters_together(fmt: str) -> None:
    reviews = [f"2026-06-10T{hour:02}:00:00Z" for hour in range(13, 23)]
    value: object = ";".join(reviews) if fmt == "csv" else reviews
    assert len(accepted(fmt, good("C-1", reviews=value)).reviews) == 10


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_basis", "q" * 150),
        ("date_of_birth", "9" * 150),
        ("arrival_time", "2" * 150),
        ("release_reason", "\x01" + "r" * 150),
        ("suite", "s" * 10_000),
        ("prior_detention_minutes", "1" * 150),
    ],
)
def test_an_error_quotes_at_most_40_characters_of_a_bad_value(
    fmt: str, field: str, value: str
) -> None:
    error = assert_rejected(fmt, good("B-2", **{field: value}), field)
    assert value[:41] not in error
    assert len(error) < 200, error


def test_unknown_columns_are_not_checked_and_not_kept_in_quarantine() -> None:
    rows = [good("G-1"), good("B-2", suite="s\x00", secret="name \x00 of a child"), good("G-3")]
    result = read_records_text(feed("jsonl", rows), "jsonl")
    [rejection] = result.rejected
    assert "secret" not in rejection.raw and "child" not in rejection.raw
    assert json.loads(rejection.raw)["custody_ref"] == "B-2"
    assert "\\u0000" in rejection.raw  # the NUL kept escaped: storable text


def test_a_quarantined_value_is_cut_to_the_longest_a_field_may_be() -> None:
    rows = [good("G-1"), good("B-2", suite="s" * 100_000), good("G-3")]
    [rejection] = read_records_text(feed("csv", rows), "csv").rejected
    assert len(rejection.raw) < 1000


def test_a_deeply_nested_list_in_a_field_is_rejected_and_kept_as_its_kind() -> None:
    nested: object = "2026-06-10T12:00:00Z"
    for _ in range(900):  # within what the JSON decoder reads, deeper than quarantine goes
        nested = [nested]
    text = json.dumps(
        {"custody_ref": "B-2", "suite": "S1", "arrival_time": ARRIVAL, "reviews": nested}
    )
    [rejection] = read_records_text(text + "\n", "jsonl").rejected
    assert rejection.error.startswith("reviews: ")
    assert json.loads(rejection.raw)["reviews"] == ["list"]
