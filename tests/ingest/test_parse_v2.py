"""The v2 fields of custody-record.md: lists as for ``reviews``, booleans ``true``/``false``,
the two enumerations, their rejection reasons, and which absence-fired fields a feed carries
(RULES.md, Precise reading 13, 15 and 16)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody_watch.domain import CaseReviewGrade, CellReason, Detention
from custody_watch.ingest import parse_row, read_records_text
from custody_watch.ingest.prepare import Zones, prepare_rows
from custody_watch.ingest.record import from_record, to_record
from custody_watch.ingest.rows import csv_rows, jsonl_rows

from .feeds import feed, good

FORMATS = ["csv", "jsonl"]
T1 = "2026-06-10T13:00:00Z"
T2 = "2026-06-10T14:00:00+01:00"  # 13:00Z again, written another way
T3 = "2026-06-10T15:30:00Z"
V2_TIMES = [
    "welfare_person_informed_time",
    "urgent_interview_authorised_time",
    "cell_time",
    "adult_in_cell_time",
    "court_due_time",
    "social_care_referral_time",
    "case_review_time",
]
V2_LISTS = ["interview_times", "strip_search_times", "cell_visit_times"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def accepted(fmt: str, row: dict[str, Any]) -> Detention:
    result = read_records_text(feed(fmt, [row]), fmt)  # type: ignore[arg-type]
    assert result.rejected == [], result.rejected
    [detention] = result.detentions
    return detention


def rejected(fmt: str, row: dict[str, Any], field: str) -> str:
    rows = [good("G-1"), row, good("G-3")]
    result = read_records_text(feed(fmt, rows), fmt)  # type: ignore[arg-type]
    assert [d.custody_ref for d in result.detentions] == ["G-1", "G-3"]
    [rejection] = result.rejected
    assert rejection.row == 2
    assert rejection.custody_ref == "B-2"
    assert rejection.error.startswith(f"{field}: "), rejection.error
    return rejection.error


# --- reading every v2 field -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_v2_field_is_read(fmt: str) -> None:
    row = good(
        "C-1",
        looked_after="true",
        welfare_person_informed_time=T1,
        interview_times=[T3, T1],
        urgent_interview_authorised_time=T1,
        strip_search_times=[T1],
        strip_search_urgent="true",
        cell_time=T1,
        cell_reason="more_comfortable",
        adult_in_cell_time=T3,
        cell_visit_times=[T1, T3],
        court_due_time=T3,
        social_care_referral_time=T3,
        case_review_grade="requires_improvement",
        case_review_time=T3,
    )
    if fmt == "jsonl":
        row |= {"looked_after": True, "strip_search_urgent": True}
    d = accepted(fmt, row)
    t1, t3 = utc(2026, 6, 10, 13), utc(2026, 6, 10, 15, 30)
    assert d.looked_after is True and d.strip_search_urgent is True
    assert d.interview_times == (t1, t3)  # sorted
    assert d.strip_search_times == (t1,)
    assert d.cell_visit_times == (t1, t3)
    assert (d.welfare_person_informed_time, d.urgent_interview_authorised_time) == (t1, t1)
    assert (d.cell_time, d.adult_in_cell_time, d.court_due_time) == (t1, t3, t3)
    assert (d.social_care_referral_time, d.case_review_time) == (t3, t3)
    assert d.cell_reason is CellReason.MORE_COMFORTABLE
    assert d.case_review_grade is CaseReviewGrade.REQUIRES_IMPROVEMENT
    assert d.feed_carries == {"welfare_person_informed_time", "social_care_referral_time"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_v1_row_reads_as_before_with_every_v2_field_at_its_default(fmt: str) -> None:
    d = accepted(fmt, good("C-1"))
    assert d == Detention("C-1", "S1", utc(2026, 6, 10, 12))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", V2_LISTS)
def test_a_list_entry_given_twice_counts_once(fmt: str, field: str) -> None:
    d = accepted(fmt, good("C-1", **{field: [T1, T2, T1, T3]}))
    assert getattr(d, field) == (utc(2026, 6, 10, 13), utc(2026, 6, 10, 15, 30))


@pytest.mark.parametrize("field", V2_LISTS)
def test_json_lists_skip_nulls_and_blanks_and_take_one_string_with_semicolons(field: str) -> None:
    assert getattr(accepted("jsonl", good("C-1", **{field: [None, " ", T1]})), field) == (
        utc(2026, 6, 10, 13),
    )
    assert getattr(accepted("jsonl", good("C-1", **{field: f"{T1}; {T3}"})), field) == (
        utc(2026, 6, 10, 13),
        utc(2026, 6, 10, 15, 30),
    )
    assert getattr(accepted("jsonl", good("C-1", **{field: []})), field) == ()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["looked_after", "strip_search_urgent"])
def test_booleans_are_true_false_or_absent(fmt: str, field: str) -> None:
    assert getattr(accepted(fmt, good("C-1", **{field: "true"})), field) is True
    assert getattr(accepted(fmt, good("C-1", **{field: "false"})), field) is False
    assert getattr(accepted(fmt, good("C-1", **{field: " "})), field) is False
    assert getattr(accepted(fmt, good("C-1")), field) is False


@pytest.mark.parametrize("field", ["looked_after", "strip_search_urgent"])
def test_json_booleans_and_null(field: str) -> None:
    assert getattr(accepted("jsonl", good("C-1", **{field: True})), field) is True
    assert getattr(accepted("jsonl", good("C-1", **{field: False})), field) is False
    assert getattr(accepted("jsonl", good("C-1", **{field: None})), field) is False


# --- rejection reasons ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["looked_after", "strip_search_urgent"])
@pytest.mark.parametrize("value", ["yes", "True", "TRUE", "1", "0", "no", "t"])
def test_a_boolean_that_is_not_true_or_false_is_rejected(fmt: str, field: str, value: str) -> None:
    error = rejected(fmt, good("B-2", **{field: value}), field)
    assert "true or false" in error


@pytest.mark.parametrize("field", ["looked_after", "strip_search_urgent"])
@pytest.mark.parametrize("value", [1, 0, 1.5, [True], {"a": 1}])
def test_a_json_boolean_field_of_another_kind_is_rejected(field: str, value: object) -> None:
    rejected("jsonl", good("B-2", **{field: value}), field)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["cell_reason", "case_review_grade"])
@pytest.mark.parametrize("value", ["unknown", "Good", "GOOD", "More_Comfortable", "good_enough"])
def test_an_unknown_cell_reason_or_grade_is_rejected_case_sensitively(
    fmt: str, field: str, value: str
) -> None:
    error = rejected(fmt, good("B-2", **{field: value}), field)
    assert "unknown value" in error


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", V2_TIMES)
@pytest.mark.parametrize("value", ["2026-06-10T13:00:00", "not a time", "2026-13-01T00:00:00Z"])
def test_a_v2_time_that_cannot_be_read_is_rejected_naming_it(
    fmt: str, field: str, value: str
) -> None:
    rejected(fmt, good("B-2", **{field: value}), field)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", V2_LISTS)
def test_a_bad_entry_in_a_v2_list_is_rejected_naming_the_list(fmt: str, field: str) -> None:
    rejected(fmt, good("B-2", **{field: [T1, "2026-06-10T13:00:00"]}), field)
    rejected(fmt, good("B-2", **{field: [T1, "x" * 300]}), field)


@pytest.mark.parametrize("field", V2_LISTS)
@pytest.mark.parametrize("value", [5, {"a": 1}, True, [5], [[T1]]])
def test_a_json_v2_list_of_the_wrong_kind_is_rejected(field: str, value: object) -> None:
    rejected("jsonl", good("B-2", **{field: value}), field)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["cell_reason", "case_review_grade", *V2_TIMES])
def test_a_v2_text_with_a_control_character_is_rejected(fmt: str, field: str) -> None:
    rejected(fmt, good("B-2", **{field: "good\x00"}), field)


def test_the_naive_zone_reads_v2_times_too() -> None:
    from custody_watch.times import LONDON

    text = feed(
        "csv",
        [good("C-1", cell_time="2026-06-10T14:00:00", interview_times=["2026-06-10T15:00:00"])],
    )
    result = read_records_text(text, "csv", naive_zone=LONDON)
    [d] = result.detentions
    assert d.cell_time == utc(2026, 6, 10, 13)
    assert d.interview_times == (utc(2026, 6, 10, 14),)


# --- which absence-fired fields a feed carries (Precise reading 15, 16) -----------------------


def csv_text(header: list[str], row: list[str]) -> str:
    return ",".join(header) + "\n" + ",".join(row) + "\n"


def test_a_csv_header_naming_the_column_carries_it_even_with_an_empty_cell() -> None:
    header = ["custody_ref", "suite", "arrival_time", "welfare_person_informed_time"]
    result = read_records_text(csv_text(header, ["C-1", "S1", T1, ""]), "csv")
    [d] = result.detentions
    assert d.carries("welfare_person_informed_time")
    assert not d.carries("social_care_referral_time")
    assert d.welfare_person_informed_time is None


def test_a_short_csv_row_still_carries_the_headers_columns() -> None:
    header = ["custody_ref", "suite", "arrival_time", "social_care_referral_time"]
    text = ",".join(header) + "\n" + f"C-1,S1,{T1}\n"
    [d] = read_records_text(text, "csv").detentions
    assert d.carries("social_care_referral_time")


def test_a_csv_without_the_column_carries_neither() -> None:
    result = read_records_text(
        csv_text(["custody_ref", "suite", "arrival_time"], ["C-1", "S1", T1]), "csv"
    )
    assert result.detentions[0].feed_carries == frozenset()


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_json_key_present_with_null_or_empty_is_carried(value: object) -> None:
    line = json.dumps(good("C-1", social_care_referral_time=value)) + "\n"
    [d] = read_records_text(line, "jsonl").detentions
    assert d.carries("social_care_referral_time")
    assert d.social_care_referral_time is None
    [d] = read_records_text(json.dumps(good("C-2")) + "\n", "jsonl").detentions
    assert not d.carries("social_care_referral_time")


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_the_feed_carried_survives_the_store_round_trip(fmt: str) -> None:
    """The store keeps a record in the interchange form and reads it back through
    ``parse_row``: a carried field without a value is kept as null."""
    if fmt == "csv":
        text = csv_text(
            [
                "custody_ref",
                "suite",
                "arrival_time",
                "welfare_person_informed_time",
                "looked_after",
            ],
            ["C-1", "S1", T1, "", "true"],
        )
        rows = csv_rows(text)
    else:
        text = json.dumps(good("C-1", welfare_person_informed_time=None, looked_after=True)) + "\n"
        rows = jsonl_rows(text)
    prepared = prepare_rows(rows, Zones())
    [item] = prepared.accepted
    stored = from_record(json.loads(item.record_json))
    assert stored.carries("welfare_person_informed_time")
    assert stored.looked_after is True
    # and through the normal form (a naive zone, or a detention stored directly)
    again = from_record(to_record(stored))
    assert again == stored


def test_to_record_and_back_keeps_every_v2_field() -> None:
    d = parse_row(
        good(
            "C-1",
            looked_after=True,
            strip_search_urgent="true",
            interview_times=[T1, T3],
            cell_reason="no_other_secure_accommodation",
            case_review_grade="inadequate",
            case_review_time=T3,
            social_care_referral_time=None,
        )
    )
    assert from_record(to_record(d)) == d
    # a v1 record gains no v2 key (false and empty lists are left out, as v1 leaves 0 out)
    assert set(to_record(parse_row(good("C-1")))) == {
        "custody_ref",
        "suite",
        "arrival_time",
        "legal_basis",
    }


# --- the v2 reader never raises ---------------------------------------------------------------

V2_FIELDS = [
    "looked_after",
    "strip_search_urgent",
    "cell_reason",
    "case_review_grade",
    *V2_TIMES,
    *V2_LISTS,
]
_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["true", "false", T1, T2, "good", "more_comfortable", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(st.dictionaries(st.sampled_from(V2_FIELDS), _json_value, max_size=8))
def test_no_json_v2_values_make_the_reader_raise(values: dict[str, object]) -> None:
    line = json.dumps(good("C-1") | values) + "\n"
    result = read_records_text(line, "jsonl")
    assert len(result.detentions) + len(result.rejected) == 1
    for rejection in result.rejected:
        assert rejection.error.split(":")[0] in V2_FIELDS


# Any character but a line break: a CSV record is one line (a break in a cell is a row
# of its own, which the hostile-input tests cover).
_cell = st.text(st.characters(blacklist_characters="\r\n"), max_size=40)


@FAST
@given(st.dictionaries(st.sampled_from(V2_FIELDS), _cell, max_size=8))
def test_no_csv_v2_cells_make_the_reader_raise(values: dict[str, str]) -> None:
    text = feed("csv", [good("C-1") | values])
    result = read_records_text(text, "csv")
    assert len(result.detentions) + len(result.rejected) <= 1
    for detention in result.detentions:
        assert from_record(to_record(detention)) == detention
