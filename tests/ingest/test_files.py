"""files.py: reading a records file; a file that cannot be read raises InputError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custody_watch.errors import CustodyWatchError, InputError
from custody_watch.ingest import read_records_file
from custody_watch.ingest.files import feed_format, scan_file
from custody_watch.times import LONDON

CSV = "custody_ref,suite,arrival_time\nC-1,S1,2026-06-10T12:00:00Z\nC-2,S1,2026-06-10T12:00:00\n"
JSONL = (
    json.dumps({"custody_ref": "C-1", "suite": "S1", "arrival_time": "2026-06-10T12:00:00Z"})
    + "\n"
    + json.dumps({"custody_ref": "C-2", "suite": "S1", "arrival_time": "2026-06-10T12:00:00"})
    + "\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("name", ["day.csv", "day.CSV", "day.Csv", "x.y.csv"])
def test_a_csv_file_is_read_whatever_the_case_of_its_extension(tmp_path: Path, name: str) -> None:
    result = read_records_file(write(tmp_path, name, CSV))
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(2, "C-2")]
    assert result.rows == 2


@pytest.mark.parametrize("name", ["day.jsonl", "day.JSONL", "day.JsonL"])
def test_a_jsonl_file_is_read_whatever_the_case_of_its_extension(tmp_path: Path, name: str) -> None:
    result = read_records_file(write(tmp_path, name, JSONL))
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    assert [(r.row, r.custody_ref) for r in result.rejected] == [(2, "C-2")]


def test_the_extension_chooses_the_format_not_the_content(tmp_path: Path) -> None:
    # JSON Lines content in a .csv file is read as CSV: its first line is no header.
    result = read_records_file(write(tmp_path, "day.csv", JSONL))
    assert (result.detentions, result.rows) == ([], 0)
    [rejection] = result.rejected
    assert rejection.row == 0
    assert rejection.error.startswith("header: day.csv: no header row"), rejection.error


def test_a_file_is_read_as_a_stream_with_the_rows_the_text_gives(tmp_path: Path) -> None:
    text = CSV.replace("\n", "\r") + 'C-3,"S1\r\rC-4,S1,2026-06-10T12:00:00Z\r'
    from custody_watch.ingest import read_records_text

    assert read_records_file(write(tmp_path, "day.csv", text)) == read_records_text(text, "csv")


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"custody_ref\n\xff", 12),
        (b"\xef\xbb\xbfab\xe2\x82", 5),
        ("é".encode() * 700_000 + b"\x80", 1_400_000),
    ],
)
def test_the_first_byte_that_is_not_utf8_is_found_a_block_at_a_time(
    tmp_path: Path, data: bytes, offset: int
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    assert scan_file(path)[1] == offset
    with pytest.raises(InputError, match=f"bad byte at offset {offset}"):
        read_records_file(path)


def test_a_utf16_file_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(CSV, encoding="utf-16")
    with pytest.raises(InputError, match="not UTF-8"):
        read_records_file(path)


def test_a_naive_zone_applies_to_a_file(tmp_path: Path) -> None:
    result = read_records_file(write(tmp_path, "day.csv", CSV), naive_zone=LONDON)
    assert [d.custody_ref for d in result.detentions] == ["C-1", "C-2"]
    assert result.rejected == []


def test_a_utf8_byte_order_mark_is_accepted_in_a_file(tmp_path: Path) -> None:
    result = read_records_file(write(tmp_path, "day.csv", CSV, encoding="utf-8-sig"))
    assert [d.custody_ref for d in result.detentions] == ["C-1"]
    result = read_records_file(write(tmp_path, "day.jsonl", JSONL, encoding="utf-8-sig"))
    assert [d.custody_ref for d in result.detentions] == ["C-1"]


def test_utf8_text_beyond_ascii_is_read(tmp_path: Path) -> None:
    text = "custody_ref,suite,arrival_time,force\nC-é,Süite,2026-06-10T12:00:00Z,Ŵ\n"
    [detention] = read_records_file(write(tmp_path, "day.csv", text)).detentions
    assert (detention.custody_ref, detention.suite, detention.force) == ("C-é", "Süite", "Ŵ")


@pytest.mark.parametrize("name", ["day.csv", "day.jsonl"])
def test_an_empty_file_reads_as_no_rows(tmp_path: Path, name: str) -> None:
    result = read_records_file(write(tmp_path, name, ""))
    assert (result.rows, result.detentions, result.rejected) == (0, [], [])


def test_a_missing_file_raises_input_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(InputError) as caught:
        read_records_file(path)
    assert "absent.csv" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["day.txt", "day.json", "day", "day.csv.bak", "day.tsv"])
def test_an_unknown_extension_raises_input_error_naming_the_file(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, CSV)
    with pytest.raises(InputError) as caught:
        read_records_file(path)
    assert name in str(caught.value)


def test_an_unknown_extension_is_refused_before_the_file_is_opened(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_records_file(tmp_path / "absent.xlsx")


@pytest.mark.parametrize("name", ["day.csv", "day.jsonl"])
def test_bytes_that_are_not_utf8_raise_input_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(CSV.encode() + b"C-3,S\xe9,2026-06-10T12:00:00Z\n")
    with pytest.raises(InputError) as caught:
        read_records_file(path)
    message = str(caught.value)
    assert name in message
    assert "UTF-8" in message
    assert "\n" not in message


def test_a_latin1_file_is_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "day.csv", "custody_ref,suite,arrival_time\nC-1,Sé,x\n", "latin-1")
    with pytest.raises(InputError, match="UTF-8"):
        read_records_file(path)


def test_a_directory_raises_input_error(tmp_path: Path) -> None:
    directory = tmp_path / "folder.csv"
    directory.mkdir()
    with pytest.raises(InputError):
        read_records_file(directory)


def test_input_error_is_a_custody_watch_error() -> None:
    assert issubclass(InputError, CustodyWatchError)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", "csv"), ("a.CSV", "csv"), ("a.jsonl", "jsonl"), ("A.JSONL", "jsonl")],
)
def test_feed_format_follows_the_extension(name: str, fmt: str) -> None:
    assert feed_format(Path(name)) == fmt
