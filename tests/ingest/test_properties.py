"""Property tests: no feed text makes the reader raise, and row numbers stay in range."""

from __future__ import annotations

import json
import random
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from custody_watch.domain import Detention
from custody_watch.ingest import RowError, parse_row, read_records_file, read_records_text
from custody_watch.ingest.chunks import feed_chunks
from custody_watch.ingest.rows import csv_rows, jsonl_rows
from custody_watch.times import LONDON

from .feeds import as_csv, as_jsonl

FAST = settings(
    max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

FIELDS = [
    "custody_ref",
    "suite",
    "arrival_time",
    "force",
    "person_ref",
    "date_of_birth",
    "legal_basis",
    "arrest_time",
    "relevant_time",
    "detention_authorised_time",
    "prior_detention_minutes",
    "reviews",
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
    "s38_certificate_ground",
    "appropriate_adult_requested_time",
    "appropriate_adult_arrived_time",
    "released_time",
    "release_reason",
    "updated_at",
]
HEADER = ",".join(FIELDS)


def check_result(text: str, fmt: str, naive: bool = False) -> None:
    result = read_records_text(text, fmt, naive_zone=LONDON if naive else None)  # type: ignore[arg-type]
    assert result.rows >= 0
    numbers = [r.row for r in result.rejected]
    if 0 in numbers:
        # a whole-file problem is reported once and nothing else of the file is read
        assert numbers == [0] and result.rows == 0 and not result.detentions, result
        assert result.rejected[0].error.startswith("header: ")
        return
    assert all(1 <= n <= result.rows for n in numbers), (numbers, result.rows)
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)
    for rejection in result.rejected:
        field, colon, reason = rejection.error.partition(": ")
        assert colon and field and reason, rejection.error
        # an unbalanced quote names the column it opened in, whichever that is
        assert field == "row" or field in FIELDS or "unbalanced quote" in reason, rejection.error
    refs = [d.custody_ref for d in result.detentions]
    assert len(refs) == len(set(refs))
    assert len(result.detentions) + len(result.rejected) <= result.rows


# --- arbitrary text ---------------------------------------------------------------------------

# Text that looks a little like a feed, so the interesting paths are reached.
feedish = st.text(
    alphabet=st.sampled_from(list(',;"\n\r \t{}[]:\\0123456789-TZ+.abcnul\ufeff\x00\u2028é')),
    max_size=300,
)


@FAST
@given(text=st.text(max_size=400))
@example(text="")
@example(text="\ufeff")
@example(text='"unterminated\n')
@example(text="a\x00b\nc")
def test_arbitrary_text_never_makes_the_csv_reader_raise(text: str) -> None:
    check_result(text, "csv")


@FAST
@given(text=st.text(max_size=400))
@example(text="[" * 100_000)
@example(text="1e999999\nNaN\n-Infinity\n")
@example(text='{"custody_ref": {"a": 1}, "suite": [], "arrival_time": 3}')
def test_arbitrary_text_never_makes_the_jsonl_reader_raise(text: str) -> None:
    check_result(text, "jsonl")


@FAST
@given(body=feedish, naive=st.booleans())
def test_feed_like_csv_text_never_makes_the_reader_raise(body: str, naive: bool) -> None:
    check_result(HEADER + "\n" + body, "csv", naive)


@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_decoded_with_replacement_never_make_the_reader_raise(
    data: bytes,
) -> None:
    text = data.decode("utf-8", errors="replace")
    check_result(text, "csv")
    check_result(HEADER + "\n" + text, "csv")
    check_result(text, "jsonl")


# --- arbitrary rows ---------------------------------------------------------------------------

offsets = st.sampled_from(["Z", "z", "+00:00", "+01:00", "-05:00", "+14:00", "-12:00", ""])
plausible_time = st.builds(
    lambda dt, off, sep: dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + off,
    st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(3000, 12, 30)),
    offsets,
    st.sampled_from(["T", "t", " "]),
)
near_time = st.builds(
    lambda minutes, off: (
        (datetime(2026, 3, 28) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S") + off
    ),
    st.integers(0, 60 * 24 * 220),
    offsets,
)
junk = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
values = st.one_of(
    plausible_time,
    near_time,
    junk,
    st.sampled_from(
        [
            "pace_arrest",
            "PACE_ARREST",
            "bailed",
            "impracticable",
            "30",
            "-5",
            "1.5",
            "2010-06-01",
            "2026-06-12",
            "2010-6-1",
            " ",
            "",
            "C-1",
        ]
    ),
    st.dates(min_value=datetime(1000, 1, 1).date()).map(str),
    st.lists(st.one_of(plausible_time, junk), max_size=3),
)
rows = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values, max_size=12)


@FAST
@given(row=rows, naive=st.booleans())
def test_parse_row_returns_a_detention_or_raises_row_error(
    row: dict[str, object], naive: bool
) -> None:
    try:
        detention = parse_row(row, naive_zone=LONDON if naive else None)
    except RowError as exc:
        assert str(exc).startswith(f"{exc.field}: ")
        assert exc.field in FIELDS
        return
    assert isinstance(detention, Detention)
    assert detention.arrival_time.utcoffset() == timedelta(0)
    assert detention.custody_ref == detention.custody_ref.strip() != ""
    assert detention.prior_detention_minutes >= 0
    if detention.released_time is not None:
        assert detention.released_time >= detention.arrival_time


complete_rows = st.fixed_dictionaries(
    {
        "custody_ref": st.sampled_from(["C-1", "C-2", " C-3 "]),
        "suite": st.just("S"),
        "arrival_time": st.one_of(plausible_time, near_time),
    },
    optional={name: values for name in FIELDS[3:]},
)


@FAST
@given(batch=st.lists(complete_rows, max_size=6))
def test_feeds_of_arbitrary_rows_never_raise(batch: list[dict[str, object]]) -> None:
    jsonable = [{k: v for k, v in row.items() if _json_safe(v)} for row in batch]
    check_result(as_jsonl(jsonable), "jsonl")
    check_result(as_csv(batch), "csv")


def _json_safe(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


# --- order independence of versions -----------------------------------------------------------


BASE = datetime(2026, 6, 10, tzinfo=UTC)


@st.composite
def versioned_feeds(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(1, 12))
    minutes = draw(st.lists(st.integers(0, 100_000), min_size=count, max_size=count, unique=True))
    feed: list[dict[str, object]] = []
    for i, minute in enumerate(minutes):
        zone = timezone(timedelta(hours=draw(st.sampled_from([0, 1, -3]))))
        updated = (BASE + timedelta(minutes=minute)).astimezone(zone).isoformat()
        feed.append(
            {
                "custody_ref": draw(st.sampled_from(["C-1", "C-2", "C-3"])),
                "suite": "S",
                "arrival_time": "2026-06-10T12:00:00Z",
                "force": f"v{i}",
                "updated_at": updated,
                "legal_basis": draw(st.sampled_from(["pace_arrest", "pace_arrest", "bogus"])),
            }
        )
    return feed


@FAST
@given(feed=versioned_feeds(), seed=st.integers(0, 2**32), fmt=st.sampled_from(["csv", "jsonl"]))
def test_with_distinct_updated_at_the_chosen_versions_do_not_depend_on_row_order(
    feed: list[dict[str, object]], seed: int, fmt: str
) -> None:
    shuffled = list(feed)
    random.Random(seed).shuffle(shuffled)
    text = as_csv if fmt == "csv" else as_jsonl
    first = read_records_text(text(feed), fmt)  # type: ignore[arg-type]
    second = read_records_text(text(shuffled), fmt)  # type: ignore[arg-type]
    chosen = {d.custody_ref: d for d in first.detentions}
    assert chosen == {d.custody_ref: d for d in second.detentions}
    # And the winner is the accepted row with the latest updated_at.
    for ref, detention in chosen.items():
        candidates = [
            row for row in feed if row["custody_ref"] == ref and row["legal_basis"] != "bogus"
        ]
        latest = max(candidates, key=lambda row: datetime.fromisoformat(str(row["updated_at"])))
        assert detention.force == latest["force"]
    accepted_refs = {row["custody_ref"] for row in feed if row["legal_basis"] != "bogus"}
    assert set(chosen) == accepted_refs


# --- hostile feeds (issue 10) -------------------------------------------------------------

# Pieces of the poison that once stopped the daemon, and their neighbours: NUL and other
# controls, lone surrogates, digits of other scripts, numbers too long to convert, quotes
# left open, CR-only ends, a BOM, NaN, deep brackets, repeated keys.
HOSTILE_CELLS = st.sampled_from(
    [
        "9" * 5000,
        "5256000000",
        "-1",
        "1e308",
        "\u0663\u0660",
        "\uff13\uff10",
        "\x00",
        "a\x1bb",
        "\x85",
        "\u2028",
        "\ud800",
        "\udfff x",
        '"',
        '"open',
        '""',
        "x" * 300,
        "2026-06-10T08:00:00Z",
        "\u0662\u0660\u0662\u0666-06-10T08:00:00Z",
        "2011-03-01",
        "bail_return",
        "",
        " ",
    ]
)
HOSTILE_JSON_VALUES = st.sampled_from(
    [
        "9" * 5000,
        "-" + "9" * 90,
        "1e308",
        "3e1",
        "30.0",
        "NaN",
        "-Infinity",
        "true",
        "null",
        '"\\u0000"',
        '"\\ud800"',
        '"\\n"',
        '"\\u0663"',
        "[" * 2000 + "]" * 2000,
        '{"a": 1, "a": 2}',
        '"2026-06-10T08:00:00Z"',
        '"' + "x" * 300 + '"',
        "30",
    ]
)
HOSTILE_FIELDS = st.sampled_from(
    ["custody_ref", "suite", "arrival_time", "prior_detention_minutes", "person_ref", "reviews"]
)


@st.composite
def hostile_csv(draw: st.DrawFn) -> str:
    names = draw(st.lists(HOSTILE_FIELDS, min_size=1, max_size=5))
    header = ",".join(["custody_ref", "suite", "arrival_time", *names])
    if draw(st.booleans()):
        header = draw(st.sampled_from(["\ufeff", '"', "", "note,"])) + header
    lines = [header]
    for _ in range(draw(st.integers(0, 5))):
        cells = draw(st.lists(HOSTILE_CELLS, min_size=1, max_size=len(names) + 4))
        lines.append(",".join(cells))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(lines) + draw(st.sampled_from(["", end]))


@st.composite
def hostile_jsonl(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        pairs = draw(st.lists(st.tuples(HOSTILE_FIELDS, HOSTILE_JSON_VALUES), max_size=5))
        body = ", ".join(f'"{name}": {value}' for name, value in pairs)
        lines.append(draw(st.sampled_from(["{%s}", "[%s]", "%s", "{%s"])) % body)
    return "\n".join(lines)


@FAST
@given(text=hostile_csv())
@example(text="custody_ref,suite,arrival_time\nC-1,S1,2026-06-10T08:00:00Z," + "9" * 5000)
def test_hostile_csv_never_makes_the_reader_raise(text: str) -> None:
    check_result(text, "csv")
    check_result(text, "csv", naive=True)


@FAST
@given(text=hostile_jsonl())
@example(text='{"custody_ref": "C\\ud800", "suite": "S", "arrival_time": "2026-06-10T08:00:00Z"}')
def test_hostile_jsonl_never_makes_the_reader_raise(text: str) -> None:
    check_result(text, "jsonl")


@FAST
@given(text=hostile_csv() | hostile_jsonl().map(lambda t: "\x00JSONL" + t))
def test_a_hostile_file_reads_the_same_streamed_chunked_and_whole(text: str) -> None:
    fmt: Literal["csv", "jsonl"] = "jsonl" if text.startswith("\x00JSONL") else "csv"
    text = text.removeprefix("\x00JSONL")
    whole = read_records_text(text, fmt)
    # every message and kept row is storable text, and quotes at most 40 characters
    for rejection in whole.rejected:
        rejection.error.encode("utf-8")
        rejection.raw.encode("utf-8")
        assert len(rejection.error) < 300, rejection.error
    chunks = [row for chunk in feed_chunks(text, fmt, 2) for row in chunk.rows()]
    rows = list(csv_rows(text) if fmt == "csv" else jsonl_rows(text))
    assert chunks == rows
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return  # a file cannot hold a lone surrogate: the bytes would not be UTF-8
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"feed.{fmt}"
        path.write_bytes(text.encode("utf-8"))
        streamed = read_records_file(path)
    assert [(r.row, r.error) for r in streamed.rejected if r.row] == [
        (r.row, r.error) for r in whole.rejected if r.row
    ]
    assert streamed.detentions == whole.detentions
