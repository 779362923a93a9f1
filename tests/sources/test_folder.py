from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custody_watch.sources.base import SourceError
from custody_watch.sources.folder import DropFolder

from .conftest import SeenSet

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
CSV = "custody_ref,suite,arrival_time\nC-1,S1,2026-06-10T08:00:00Z\n"
JSONL = '{"custody_ref": "J-1", "suite": "S1", "arrival_time": "2026-06-10T08:00:00Z"}\n'


def folder(path: Path, kind: str = "csv_folder", **kwargs: object) -> DropFolder:
    kwargs.setdefault("settle", 0)
    return DropFolder("inbox", path, kind, **kwargs)  # type: ignore[arg-type]


def key(name: str, text: str) -> str:
    return f"{name}:{hashlib.sha256(text.encode()).hexdigest()}"


def test_it_reads_each_new_file_as_one_batch_in_name_order(tmp_path: Path, seen: SeenSet) -> None:
    (tmp_path / "b.csv").write_text(CSV)
    (tmp_path / "a.csv").write_text(CSV.replace("C-1", "C-0"))

    result = folder(tmp_path).poll(None, seen, NOW)

    assert [b.label for b in result.batches] == ["a.csv", "b.csv"]
    assert result.batches[1].key == key("b.csv", CSV)
    assert [dict(r.values) for r in result.batches[1].rows] == [
        {"custody_ref": "C-1", "suite": "S1", "arrival_time": "2026-06-10T08:00:00Z"}
    ]
    assert result.problems == []


def test_it_skips_files_whose_name_and_content_were_already_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV)
    (tmp_path / "b.csv").write_text(CSV)

    result = folder(tmp_path).poll(None, SeenSet(key("a.csv", CSV)), NOW)

    assert [b.label for b in result.batches] == ["b.csv"]


def test_it_reads_a_file_again_when_its_content_changed(tmp_path: Path) -> None:
    source, seen = folder(tmp_path), SeenSet()
    (tmp_path / "a.csv").write_text(CSV)
    first = source.poll(None, seen, NOW).batches[0]
    seen.keys.add(first.key or "")

    (tmp_path / "a.csv").write_text(CSV + "C-2,S1,2026-06-10T09:00:00Z\n")
    second = source.poll(None, seen, NOW).batches

    assert len(second) == 1 and second[0].key != first.key
    assert len(second[0].rows) == 2


def test_it_does_not_read_a_stored_file_again_while_its_size_and_mtime_stay(
    tmp_path: Path,
) -> None:
    source, seen = folder(tmp_path), SeenSet()
    path = tmp_path / "a.csv"
    path.write_text(CSV)
    seen.keys.add(source.poll(None, seen, NOW).batches[0].key or "")
    stamp = path.stat()
    # Same size and modification time, other bytes: only a re-read could notice.
    path.write_text(CSV.replace("C-1", "C-9"))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    assert source.poll(None, seen, NOW).batches == []
    # A new process has no such memory and hashes the file.
    assert [b.label for b in folder(tmp_path).poll(None, seen, NOW).batches] == ["a.csv"]


def test_it_ignores_partial_hidden_and_other_kinds_of_files(tmp_path: Path, seen: SeenSet) -> None:
    for name in ("a.csv.tmp", "b.csv.partial", ".c.csv", "d.jsonl", "e.txt", "f.CSV"):
        (tmp_path / name).write_text(CSV)
    (tmp_path / "g.csv").mkdir()

    result = folder(tmp_path).poll(None, seen, NOW)

    assert [b.label for b in result.batches] == ["f.CSV"]


def test_the_jsonl_kind_reads_only_jsonl_files(tmp_path: Path, seen: SeenSet) -> None:
    (tmp_path / "a.csv").write_text(CSV)
    (tmp_path / "b.jsonl").write_text(JSONL + "[1]\n")

    result = folder(tmp_path, "jsonl").poll(None, seen, NOW)

    assert [b.label for b in result.batches] == ["b.jsonl"]
    rows = result.batches[0].rows
    assert rows[0].values["custody_ref"] == "J-1" and rows[0].problem is None
    # A bad line is still a row, to be quarantined by ingest like any other bad row.
    assert rows[1].number == 2 and rows[1].problem == "row: not a JSON object (got list)"


def test_a_file_that_grows_during_the_settle_check_waits_for_the_next_poll(
    tmp_path: Path, seen: SeenSet
) -> None:
    growing = tmp_path / "b.csv"
    growing.write_text(CSV)
    (tmp_path / "a.csv").write_text(CSV)
    sleeps: list[float] = []

    def writer_still_writing(seconds: float) -> None:
        sleeps.append(seconds)
        with growing.open("a") as out:
            out.write("C-3,S1,2026-06-10T10:00:00Z\n")

    source = folder(tmp_path, settle=0.2, sleep=writer_still_writing)
    first = source.poll(None, seen, NOW)
    assert sleeps == [0.2]
    assert [b.label for b in first.batches] == ["a.csv"]

    seen.keys.add(first.batches[0].key or "")
    second = folder(tmp_path, settle=0.2, sleep=lambda s: None).poll(None, seen, NOW)
    assert [b.label for b in second.batches] == ["b.csv"]
    assert len(second.batches[0].rows) == 2


def test_it_does_not_wait_when_there_is_nothing_new(tmp_path: Path, seen: SeenSet) -> None:
    sleeps: list[float] = []

    folder(tmp_path, settle=0.2, sleep=sleeps.append).poll(None, seen, NOW)

    assert sleeps == []


def test_a_file_that_is_not_utf8_is_a_problem_and_the_others_are_still_read(
    tmp_path: Path, seen: SeenSet
) -> None:
    (tmp_path / "a.csv").write_bytes(b"custody_ref,suite\n\xff\xfe,S1\n")
    (tmp_path / "b.csv").write_text(CSV)

    result = folder(tmp_path).poll(None, seen, NOW)

    assert [b.label for b in result.batches] == ["b.csv"]
    assert result.problems == ["a.csv: not UTF-8 text (bad byte at offset 18)"]


def test_a_file_that_is_not_utf8_is_reported_once_until_it_changes(
    tmp_path: Path, seen: SeenSet
) -> None:
    bad = tmp_path / "a.csv"
    bad.write_bytes(b"\xff\n")
    source = folder(tmp_path)
    assert source.poll(None, seen, NOW).problems

    assert source.poll(None, seen, NOW).problems == []

    bad.write_text(CSV)  # fixed in place by whoever dropped it
    assert [b.label for b in source.poll(None, seen, NOW).batches] == ["a.csv"]


def test_a_byte_order_mark_is_accepted(tmp_path: Path, seen: SeenSet) -> None:
    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbf" + CSV.encode())

    rows = folder(tmp_path).poll(None, seen, NOW).batches[0].rows

    assert rows[0].values["custody_ref"] == "C-1"


def test_a_missing_folder_fails_the_poll_as_transient_and_is_not_created(
    tmp_path: Path, seen: SeenSet
) -> None:
    missing = tmp_path / "not-mounted"

    with pytest.raises(SourceError, match="not-mounted does not exist") as caught:
        folder(missing).poll(None, seen, NOW)

    assert caught.value.transient
    assert not missing.exists()


def test_the_watermark_passes_through_unchanged(tmp_path: Path, seen: SeenSet) -> None:
    assert folder(tmp_path).poll("kept", seen, NOW).watermark == "kept"
    assert folder(tmp_path).poll(None, seen, NOW).watermark is None


class CountingSeen(SeenSet):
    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def seen(self, key: str) -> bool:
        self.asked += 1
        return super().seen(key)


def test_it_stops_asking_the_store_about_a_file_once_it_is_stored(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV)
    source, seen = folder(tmp_path), CountingSeen()
    seen.keys.add(source.poll(None, seen, NOW).batches[0].key or "")
    source.poll(None, seen, NOW)
    asked = seen.asked

    source.poll(None, seen, NOW)

    assert seen.asked == asked
