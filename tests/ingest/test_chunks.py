"""Chunks of a feed read exactly as the whole feed reads: same rows, numbers and problems."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from custody_watch.ingest.chunks import feed_chunks
from custody_watch.ingest.rows import csv_rows, jsonl_rows
from custody_watch.sources.base import SourceRow

FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def whole(text: str, fmt: str) -> list[SourceRow]:
    return list(csv_rows(text) if fmt == "csv" else jsonl_rows(text))


def chunked(text: str, fmt: str, size: int) -> list[SourceRow]:
    return [row for chunk in feed_chunks(text, fmt, size) for row in chunk.rows()]  # type: ignore[arg-type]


CSV = (
    "\ufeffcustody_ref,suite,arrival_time\r\n"
    "C-1,s,2026-01-01T00:00:00Z\r\n"
    "\r\n"
    'C-2,"a\nquoted, suite",2026-01-01T00:00:00Z\n'
    "C-3,s\n"
    ",,\n"
    'C-4,"never closed,2026\n'
    "C-5,s,2026-01-01T00:00:00Z\n"
)
JSONL = (
    '\ufeff{"custody_ref": "C-1"}\n'
    "\n"
    "   \n"
    '{"custody_ref": "C-2", "note": "a\u2028b"}\r\n'
    "not json\n"
    "[1, 2]\n"
    '{"custody_ref": "C-5"}'
)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_a_csv_feed_in_chunks_reads_as_the_whole_feed(size: int) -> None:
    assert chunked(CSV, "csv", size) == whole(CSV, "csv")


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_a_jsonl_feed_in_chunks_reads_as_the_whole_feed(size: int) -> None:
    assert chunked(JSONL, "jsonl", size) == whole(JSONL, "jsonl")


def test_each_chunk_holds_at_most_its_size_and_starts_at_its_row_number() -> None:
    chunks = list(feed_chunks(JSONL, "jsonl", 2))
    assert [chunk.first_row for chunk in chunks] == [1, 3, 5]
    assert [len(list(chunk.rows())) for chunk in chunks] == [2, 2, 1]


def test_every_csv_chunk_carries_the_header_to_name_its_cells() -> None:
    chunks = list(feed_chunks(CSV, "csv", 1))
    assert all(chunk.header == "\ufeffcustody_ref,suite,arrival_time\r\n"[1:] for chunk in chunks)
    assert next(chunks[0].rows()).values == {"custody_ref": "C-1", "suite": "s"} | {
        "arrival_time": "2026-01-01T00:00:00Z"
    }
    [unbalanced] = chunks[1].rows()
    assert (unbalanced.number, unbalanced.values) == (2, {"custody_ref": "C-2"})
    assert unbalanced.problem is not None and unbalanced.problem.startswith("suite: unbalanced")


def test_a_feed_with_no_rows_has_no_chunks() -> None:
    assert list(feed_chunks("custody_ref,arrival_time\n\n", "csv", 10)) == []
    assert list(feed_chunks("\n \n", "jsonl", 10)) == []


@pytest.mark.parametrize(
    "text",
    [
        '"custody_ref\n',  # an unterminated quote in the header itself
        "custody_ref,suite\nC-1,s\nC-2,s\n",  # no arrival_time: no header
        "custody_ref,arrival_time,custody_ref\nC-1,s\nC-2,s\n",
    ],
)
def test_a_csv_whose_header_cannot_be_read_is_one_chunk_that_says_so(text: str) -> None:
    assert chunked(text, "csv", 1) == whole(text, "csv")
    [chunk] = feed_chunks(text, "csv", 1)
    [row] = chunk.rows()
    assert row.number == 0 and row.problem is not None


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        list(feed_chunks(CSV, "csv", 0))


# With arrival_time, headers to read rows under; with U+FEFF, a BOM character anywhere.
_PIECES = st.sampled_from(
    [
        *("custody_ref", "arrival_time", "C-1", "suite", ",", '"', '""', "\n", "\r\n", "\r"),
        *(" ", "x", "\x00", "{", "}", "\ufeff"),
    ]
)
_JSON_PIECES = st.sampled_from(
    [
        '{"custody_ref": "C-1"}',
        '{"a": "\\n"}',
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "\u00a0",
        "[]",
        "null",
        '{"b": 1',
        "\u2028",
        "\ufeff",
    ]
)


@FAST
@given(st.lists(_PIECES, max_size=40).map("".join), st.integers(1, 4))
@example("a,b\n1,2\n3,4\n", 1)
@example('a,b\n"x\ny",2\n3,4\n', 1)
def test_any_csv_text_reads_the_same_in_chunks_as_whole(text: str, size: int) -> None:
    assert chunked(text, "csv", size) == whole(text, "csv")
    assert sum(chunk.span for chunk in feed_chunks(text, "csv", size)) <= len(text)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("\ufeff\ufeff", "csv"),  # found by bench/fuzz_reader.py
        ("\ufeffcustody_ref,arrival_time\n\ufeffC-1,x\n", "csv"),
        ('{"a": 1}\n\ufeff{"b": 2}\n', "jsonl"),
    ],
)
def test_a_chunk_that_starts_with_a_byte_order_mark_character_keeps_it(text: str, fmt: str) -> None:
    for size in (1, 2):
        assert chunked(text, fmt, size) == whole(text, fmt)


@FAST
@given(st.lists(_PIECES, max_size=40).map("".join), st.integers(1, 4))
@example('"a\n"b,c\n\r\n""\n', 2)
def test_any_csv_rows_under_a_good_header_read_the_same_in_chunks(body: str, size: int) -> None:
    text = "custody_ref,suite,arrival_time\n" + body
    assert chunked(text, "csv", size) == whole(text, "csv")


@FAST
@given(st.lists(_JSON_PIECES, max_size=30).map("".join), st.integers(1, 4))
def test_any_jsonl_text_reads_the_same_in_chunks_as_whole(text: str, size: int) -> None:
    assert chunked(text, "jsonl", size) == whole(text, "jsonl")
    assert sum(chunk.span for chunk in feed_chunks(text, "jsonl", size)) <= len(text)


@pytest.mark.parametrize(("text", "fmt"), [(CSV, "csv"), (JSONL, "jsonl")])
def test_the_spans_of_the_chunks_cover_a_feed_that_ends_in_a_row(text: str, fmt: str) -> None:
    assert sum(chunk.span for chunk in feed_chunks(text, fmt, 2)) == len(text)  # type: ignore[arg-type]
