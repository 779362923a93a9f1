"""rows.py: splitting CSV and JSON Lines text into numbered rows of named values."""

from __future__ import annotations

import json

import pytest

from custody_watch.ingest import csv_rows, jsonl_rows, read_records_text
from custody_watch.ingest.rows import csv_plain_columns, csv_text_cells

HEADER = "custody_ref,suite,arrival_time"
T = "2026-06-10T12:00:00Z"


def csv_of(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- CSV --------------------------------------------------------------------------------------


def test_csv_rows_are_named_by_the_header_and_numbered_from_one() -> None:
    rows = list(csv_rows(csv_of(HEADER, f"C-1,S1,{T}", f"C-2,S2,{T}")))
    assert [row.number for row in rows] == [1, 2]
    assert rows[0].values == {"custody_ref": "C-1", "suite": "S1", "arrival_time": T}
    assert rows[1].values["custody_ref"] == "C-2"
    assert all(row.problem is None for row in rows)


def test_a_csv_byte_order_mark_is_accepted() -> None:
    rows = list(csv_rows("\ufeff" + csv_of(HEADER, f"C-1,S1,{T}")))
    assert rows[0].values["custody_ref"] == "C-1"
    result = read_records_text("\ufeff" + csv_of(HEADER, f"C-1,S1,{T}"), "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    assert result.rejected == []


def test_csv_columns_may_come_in_any_order() -> None:
    result = read_records_text(csv_of("arrival_time,custody_ref,suite", f"{T},C-1,S1"), "csv")
    [detention] = result.detentions
    assert (detention.custody_ref, detention.suite) == ("C-1", "S1")
    assert detention.arrival_time.isoformat() == "2026-06-10T12:00:00+00:00"


def test_unknown_csv_columns_are_ignored() -> None:
    text = csv_of("officer_name,custody_ref,notes,suite,arrival_time", f"PC X,C-1,n,S1,{T}")
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    assert result.rejected == []


def test_an_empty_csv_cell_is_absent() -> None:
    text = csv_of(HEADER + ",date_of_birth,legal_basis,released_time", f"C-1,S1,{T},,,")
    [detention] = read_records_text(text, "csv").detentions
    assert detention.date_of_birth is None
    assert detention.legal_basis == "pace_arrest"
    assert detention.released_time is None


def test_a_blank_csv_cell_is_absent() -> None:
    text = csv_of(HEADER + ",date_of_birth,released_time", f"C-1,S1,{T},   ,  ")
    result = read_records_text(text, "csv")
    [detention] = result.detentions
    assert detention.date_of_birth is None
    assert detention.released_time is None


def test_csv_values_and_header_names_are_trimmed() -> None:
    text = csv_of(" custody_ref , suite ,arrival_time ", f"  C-1 ,\tS1 ,  {T}  ")
    [detention] = read_records_text(text, "csv").detentions
    assert detention.custody_ref == "C-1"
    assert detention.suite == "S1"


def test_csv_reviews_are_semicolon_separated() -> None:
    text = csv_of(
        HEADER + ",reviews",
        f"C-1,S1,{T},2026-06-10T18:00:00Z; 2026-06-11T03:00:00+01:00 ;",
    )
    [detention] = read_records_text(text, "csv").detentions
    assert [r.isoformat() for r in detention.reviews] == [
        "2026-06-10T18:00:00+00:00",
        "2026-06-11T02:00:00+00:00",
    ]


def test_blank_csv_lines_are_skipped_and_not_counted_as_rows() -> None:
    text = f"\n{HEADER}\n\n   \nC-1,S1,{T}\n\n\nC-2,S1,{T}\n\n"
    rows = list(csv_rows(text))
    assert [row.number for row in rows] == [1, 2]
    result = read_records_text(text + "C-3,S1,\n", "csv")
    assert result.rows == 3
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(3, "C-3")]


def test_a_quote_open_at_the_end_of_its_line_rejects_only_that_row_naming_the_field() -> None:
    text = csv_of(
        HEADER + ",person_ref",
        f"C-1,S1,{T},p1",
        f'C-2,S1,{T},"line one',
        f"C-3,S1,{T},p3",
        'line two",C-4',
        f"C-5,S1,{T},p5",
    )
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-3", "C-5"]
    assert result.rows == 5
    [quote, other] = result.rejected
    assert (quote.row, quote.custody_ref) == (2, "C-2")
    assert quote.error.startswith("person_ref: unbalanced quote"), quote.error
    assert json.loads(quote.raw) == {"custody_ref": "C-2", "suite": "S1", "arrival_time": T}
    assert other.row == 4  # the stray second half is a row of its own, read as given


def test_an_unbalanced_quote_in_the_first_column_names_that_column() -> None:
    text = csv_of(HEADER, f"C-1,S1,{T}", '"C-2,S1', f"C-3,S1,{T}")
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-3"]
    [rejection] = result.rejected
    assert rejection.error.startswith("custody_ref: unbalanced quote")


def test_an_unbalanced_quote_on_the_last_line_without_a_line_end_is_still_seen() -> None:
    text = f'{HEADER}\nC-1,S1,{T}\nC-2,"S1'
    result = read_records_text(text, "csv")
    [rejection] = result.rejected
    assert (rejection.row, rejection.error.split(":")[0]) == (2, "suite")


def test_an_unbalanced_quote_beyond_the_named_columns_names_the_column_by_number() -> None:
    text = csv_of(HEADER, f'C-1,S1,{T},"note')
    [rejection] = read_records_text(text, "csv").rejected
    assert rejection.error.startswith("column 4: unbalanced quote"), rejection.error


def test_a_doubled_quote_inside_a_quoted_field_is_read_as_one_quote() -> None:
    text = csv_of(HEADER + ",person_ref", f'C-1,S1,{T},"say ""hi"""')
    [detention] = read_records_text(text, "csv").detentions
    assert detention.person_ref == 'say "hi"'


def test_a_quote_in_the_middle_of_an_unquoted_field_is_read_as_given() -> None:
    text = csv_of(HEADER + ",person_ref", f'C-1,S1,{T},ab"c')
    [detention] = read_records_text(text, "csv").detentions
    assert detention.person_ref == 'ab"c'


def test_cr_only_line_endings_are_read() -> None:
    text = f"{HEADER}\rC-1,S1,{T}\r\rC-2,S1,{T}\r"
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-2"]
    assert result.rows == 2


def test_windows_line_endings_are_read() -> None:
    text = f"{HEADER}\r\nC-1,S1,{T}\r\n\r\nC-2,S1,{T}\r\n"
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-2"]
    assert result.rows == 2


def test_a_csv_with_only_a_header_has_no_rows() -> None:
    result = read_records_text(HEADER + "\n", "csv")
    assert (result.rows, result.detentions, result.rejected) == (0, [], [])


def test_an_empty_csv_has_no_rows() -> None:
    for text in ("", "\n\n", "\ufeff"):
        result = read_records_text(text, "csv")
        assert (result.rows, result.detentions, result.rejected) == (0, [], [])


def test_a_short_csv_row_leaves_the_missing_cells_absent() -> None:
    result = read_records_text(csv_of(HEADER + ",date_of_birth", f"C-1,S1,{T}"), "csv")
    [detention] = result.detentions
    assert detention.date_of_birth is None


@pytest.mark.parametrize(
    "header",
    [
        "custody_ref,suite,arrival_time,suite",
        "custody_ref,suite,arrival_time, custody_ref",
        "custody_ref,note,arrival_time,suite,note",
    ],
)
def test_a_column_named_twice_rejects_the_whole_file_once(header: str) -> None:
    text = csv_of(header, f"C-1,S1,{T},", f"C-2,S1,{T},")
    result = read_records_text(text, "csv")
    assert (result.rows, result.detentions) == (0, [])
    [rejection] = result.rejected
    assert (rejection.row, rejection.custody_ref) == (0, None)
    assert rejection.error.startswith("header: the column ")
    assert "given twice" in rejection.error


@pytest.mark.parametrize(
    "first",
    [
        "C-1,S1,2026-06-10T12:00:00Z",  # a headerless export
        "custody_ref,suite,arrived",
        "ref,suite,arrival_time",
        "Custody_Ref,suite,arrival_time",
        '"custody_ref,suite,arrival_time',
    ],
)
def test_a_file_without_a_header_row_is_rejected_once_as_row_0(first: str) -> None:
    text = csv_of(first, f"C-2,S1,{T}", f"C-3,S1,{T}")
    result = read_records_text(text, "csv")
    assert (result.rows, result.detentions) == (0, [])
    [rejection] = result.rejected
    assert (rejection.row, rejection.custody_ref) == (0, None)
    assert rejection.error.startswith("header: "), rejection.error


def test_blank_header_names_may_repeat() -> None:
    text = csv_of("custody_ref,,suite,,arrival_time", f"C-1,x,S1,y,{T}")
    assert [d.suite for d in read_records_text(text, "csv").detentions] == ["S1"]


def test_a_rejected_csv_row_keeps_only_its_contract_fields_for_quarantine() -> None:
    text = csv_of(HEADER + ",secret,legal_basis", f'C-1,"S,1",{T},private words,nonsense')
    [rejection] = read_records_text(text, "csv").rejected
    assert json.loads(rejection.raw) == {
        "custody_ref": "C-1",
        "suite": "S,1",
        "arrival_time": T,
        "legal_basis": "nonsense",
    }
    assert "private" not in rejection.raw


def test_a_ten_megabyte_cell_is_read_and_rejected_naming_its_field() -> None:
    text = csv_of(HEADER + ",person_ref", f"C-1,S1,{T},{'x' * 10_000_000}", f"C-2,S1,{T},p")
    result = read_records_text(text, "csv")
    assert [d.custody_ref for d in result.detentions] == ["C-2"]
    [rejection] = result.rejected
    assert rejection.error.startswith("person_ref: longer than 64")
    assert len(rejection.error) < 200


def test_a_million_columns_are_read_without_trouble() -> None:
    names = HEADER + "," + ",".join(f"x{i}" for i in range(1_000_000))
    text = csv_of(names, f"C-1,S1,{T}" + ",v" * 1_000_000)
    [detention] = read_records_text(text, "csv").detentions
    assert detention.custody_ref == "C-1"


# --- JSON Lines -------------------------------------------------------------------------------


def jl(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


BASE = {"custody_ref": "C-1", "suite": "S1", "arrival_time": T}


def test_jsonl_rows_are_objects_numbered_from_one() -> None:
    rows = list(jsonl_rows(jl(BASE, {**BASE, "custody_ref": "C-2"})))
    assert [row.number for row in rows] == [1, 2]
    assert rows[0].values == BASE
    assert rows[0].problem is None


def test_a_jsonl_null_is_absent() -> None:
    row = {
        **BASE,
        "date_of_birth": None,
        "legal_basis": None,
        "released_time": None,
        "reviews": None,
        "prior_detention_minutes": None,
    }
    result = read_records_text(jl(row), "jsonl")
    [detention] = result.detentions
    assert detention.date_of_birth is None
    assert detention.legal_basis == "pace_arrest"
    assert detention.reviews == ()
    assert detention.prior_detention_minutes == 0


def test_a_required_jsonl_field_that_is_null_is_missing() -> None:
    result = read_records_text(jl({**BASE, "suite": None}), "jsonl")
    [rejection] = result.rejected
    assert rejection.error.startswith("suite: ")
    assert rejection.custody_ref == "C-1"


def test_unknown_jsonl_keys_are_ignored() -> None:
    row = {**BASE, "officer": {"name": "PC X"}, "tags": [1, 2], "flag": True}
    result = read_records_text(jl(row), "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    assert result.rejected == []


def test_jsonl_reviews_are_a_list_of_strings() -> None:
    row = {**BASE, "reviews": ["2026-06-11T03:00:00Z", "2026-06-10T18:00:00+01:00"]}
    [detention] = read_records_text(jl(row), "jsonl").detentions
    assert [r.isoformat() for r in detention.reviews] == [
        "2026-06-10T17:00:00+00:00",
        "2026-06-11T03:00:00+00:00",
    ]


def test_jsonl_values_are_trimmed_and_blank_is_absent() -> None:
    row = {**BASE, "custody_ref": "  C-1 ", "date_of_birth": "   ", "force": " F1 "}
    [detention] = read_records_text(jl(row), "jsonl").detentions
    assert detention.custody_ref == "C-1"
    assert detention.date_of_birth is None
    assert detention.force == "F1"


def test_blank_jsonl_lines_are_skipped_and_not_counted() -> None:
    text = "\n  \n" + jl(BASE) + "\n\t\n" + jl({**BASE, "custody_ref": "C-2"}) + "\n" + "[]\n"
    rows = list(jsonl_rows(text))
    assert [row.number for row in rows] == [1, 2, 3]
    result = read_records_text(text, "jsonl")
    assert result.rows == 3
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(3, None)]


def test_a_jsonl_line_that_is_not_an_object_is_rejected() -> None:
    text = jl(BASE, "[1, 2]", '"text"', "42", "null", "true", {**BASE, "custody_ref": "C-7"})
    result = read_records_text(text, "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-7"]
    assert [r.row for r in result.rejected] == [2, 3, 4, 5, 6]
    for rejection in result.rejected:
        assert rejection.custody_ref is None
        assert rejection.error.startswith("row: ")
        assert "not a JSON object" in rejection.error


def test_an_invalid_json_line_is_rejected_and_the_rest_are_read() -> None:
    text = jl(BASE, '{"custody_ref": "C-2", "suite": ', {**BASE, "custody_ref": "C-3"})
    result = read_records_text(text, "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-3"]
    [rejection] = result.rejected
    assert (rejection.row, rejection.custody_ref) == (2, None)
    assert rejection.error.startswith("row: ")
    assert "not valid JSON" in rejection.error
    assert rejection.raw == ""  # which of its text are contract fields cannot be known


def test_jsonl_with_windows_line_endings_is_read() -> None:
    text = json.dumps(BASE) + "\r\n\r\n" + json.dumps({**BASE, "custody_ref": "C-2"}) + "\r\n"
    result = read_records_text(text, "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-2"]
    assert result.rows == 2


def test_a_jsonl_line_is_not_split_at_a_line_separator_character() -> None:
    row = {**BASE, "note": "a\u2028b\u2029c\x85d"}
    text = json.dumps(row, ensure_ascii=False) + "\n"
    result = read_records_text(text, "jsonl")
    assert result.rows == 1
    assert result.detentions[0].custody_ref == "C-1"


def test_a_line_separator_character_in_a_text_field_is_a_line_break_and_rejected() -> None:
    text = json.dumps({**BASE, "person_ref": "a\u2028b"}, ensure_ascii=False) + "\n"
    [rejection] = read_records_text(text, "jsonl").rejected
    assert rejection.error.startswith("person_ref: holds a control character (U+2028)")


def test_a_key_given_twice_in_a_jsonl_object_rejects_the_row_naming_it() -> None:
    text = jl(BASE, '{"custody_ref": "C-2", "suite": "S1", "suite": "S2", "arrival_time": "x"}')
    result = read_records_text(text, "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    [rejection] = result.rejected
    assert (rejection.row, rejection.error) == (2, "suite: given twice in one JSON object")


@pytest.mark.parametrize(
    "line",
    ["[" * 100_000, '{"a": ' * 5000 + "1" + "}" * 5000, "NaN", '{"suite": Infinity}', "7", '"x"'],
)
def test_a_jsonl_line_that_is_deep_or_not_an_object_is_rejected_as_a_row(line: str) -> None:
    result = read_records_text(jl(BASE, line, {**BASE, "custody_ref": "C-3"}), "jsonl")
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-3"]
    [rejection] = result.rejected
    assert (rejection.row, rejection.error.split(":")[0]) == (2, "row")


def test_a_numeric_jsonl_custody_ref_is_read_as_text() -> None:
    [detention] = read_records_text(jl({**BASE, "custody_ref": 1234}), "jsonl").detentions
    assert detention.custody_ref == "1234"


def test_an_empty_jsonl_has_no_rows() -> None:
    for text in ("", "\n", "\ufeff\n  \n"):
        result = read_records_text(text, "jsonl")
        assert (result.rows, result.detentions, result.rejected) == (0, [], [])


def test_a_repeated_key_that_is_no_plain_name_is_quoted_short_after_row() -> None:
    key = "k\\u0000" + "x" * 500
    text = jl(BASE, f'{{"custody_ref": "C-2", "{key}": 1, "{key}": 2}}')
    [rejection] = read_records_text(text, "jsonl").rejected
    assert rejection.error.startswith("row: the key 'k\\x00xxx")
    assert len(rejection.error) < 120


def test_an_unbalanced_quote_under_an_odd_column_name_names_the_column_by_number() -> None:
    text = csv_of(HEADER + ",two words", f'C-1,S1,{T},"open')
    [rejection] = read_records_text(text, "csv").rejected
    assert rejection.error.startswith("column 4: unbalanced quote"), rejection.error


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("R1,S,2026-10-24T10:00:00Z\nR2,,\n", True),
        ("R1,S,2026-10-24T10:00:00Z\nR2,, x \n,,\n", True),
        ("R1,S,2026-10-24T10:00:00Z", True),  # the file's last line, with no line end
        ("R1,S,\u00e9\u2028,\n", False),  # one cell too many
        ("R1,S\n", False),  # one too few
        ("R1,S,T\n\nR2,S,T\n", False),  # a blank line
        ('R1,"S",T\n', False),
        ("R1,S,T\r\nR2,S,T\r\n", False),
        ("R1,S,\x00\n", False),
        ("", False),
    ],
)
def test_a_block_cut_into_columns_holds_what_the_csv_module_reads_or_is_left_to_it(
    text: str, cut: bool
) -> None:
    columns = csv_plain_columns(text, 3)
    assert (columns is not None) == cut
    if columns is not None:
        entries = list(csv_text_cells(["custody_ref", "suite", "arrival_time"], text, 1))
        assert columns == [
            list(column) for column in zip(*(c for _, c, _, _ in entries), strict=True)
        ]
        assert [number for number, _, _, _ in entries] == list(range(1, len(columns[0]) + 1))
