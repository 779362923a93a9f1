from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody_watch.config.model import FolderSource
from custody_watch.ingest.chunks import FeedChunk
from custody_watch.sources.base import SourceError, SourceRow
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


def test_a_file_that_is_not_utf8_is_one_row_0_rejection_and_the_others_are_still_read(
    tmp_path: Path, seen: SeenSet
) -> None:
    data = b"custody_ref,suite\n\xff\xfe,S1\n"
    (tmp_path / "a.csv").write_bytes(data)
    (tmp_path / "b.csv").write_text(CSV)

    result = folder(tmp_path).poll(None, seen, NOW)

    assert [b.label for b in result.batches] == ["a.csv", "b.csv"]
    bad = result.batches[0]
    assert bad.key == f"a.csv:{hashlib.sha256(data).hexdigest()}"  # marked read with it
    assert [(r.number, r.problem) for r in bad.rows] == [
        (0, "file: a.csv: not UTF-8 text (bad byte at offset 18)")
    ]
    assert result.problems == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("C-1,S1,2026-06-10T08:00:00Z\n", "header: a.csv: no header row"),
        ("custody_ref,arrival_time,custody_ref\nC-1,x,y\n", "header: a.csv: the column"),
    ],
)
def test_a_whole_file_problem_is_one_row_0_rejection_naming_the_file(
    tmp_path: Path, seen: SeenSet, text: str, said: str
) -> None:
    (tmp_path / "a.csv").write_text(text)
    [batch] = folder(tmp_path).poll(None, seen, NOW).batches
    [row] = batch.rows
    assert row.number == 0 and row.problem is not None and row.problem.startswith(said)
    assert batch.key == key("a.csv", text)


def test_a_utf16_file_is_a_whole_file_problem(tmp_path: Path, seen: SeenSet) -> None:
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-16")
    [batch] = folder(tmp_path).poll(None, seen, NOW).batches
    assert [r.problem for r in batch.rows] == ["file: a.csv: not UTF-8 text (bad byte at offset 0)"]


def test_a_file_name_that_is_not_utf8_is_labelled_in_storable_text(
    tmp_path: Path, seen: SeenSet
) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.csv")).write_text(CSV)
    [batch] = folder(tmp_path).poll(None, seen, NOW).batches
    assert batch.label == "caf\\udce9.csv"
    batch.label.encode("utf-8")
    assert batch.key is not None and batch.key.startswith("caf\\udce9.csv:")


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


# --- streaming ---------------------------------------------------------------------------


def many_rows(count: int, start: int = 0) -> str:
    return "".join(f"C-{i},S1,2026-06-10T08:00:00Z\n" for i in range(start, start + count))


def test_a_big_file_streams_in_chunks_over_polls_and_only_the_last_batch_carries_its_key(
    tmp_path: Path, seen: SeenSet
) -> None:
    text = "custody_ref,suite,arrival_time\n" + many_rows(25)
    (tmp_path / "big.csv").write_text(text)
    (tmp_path / "small.csv").write_text(CSV)
    source = folder(tmp_path, chunk_rows=10)

    polls = []
    while True:
        result = source.poll(None, seen, NOW)
        polls.append(result)
        for batch in result.batches:
            if batch.key:
                seen.keys.add(batch.key)  # as the store marks a file read
        if not result.more:
            break

    batches = [b for result in polls for b in result.batches]
    assert [(b.label, len(b.rows), b.key is not None) for b in batches] == [
        ("big.csv", 10, False),
        ("big.csv", 10, False),
        ("big.csv", 5, True),
        ("small.csv", 1, True),
    ]
    assert [r.number for b in batches[:3] for r in b.rows] == list(range(1, 26))
    assert batches[2].key == key("big.csv", text)
    assert len(polls) >= 3  # a poll delivers about one chunk; the rest is "more"
    assert source.poll(None, seen, NOW).batches == []


def test_a_file_whose_chunks_were_not_all_stored_is_read_again_whole_by_a_new_process(
    tmp_path: Path, seen: SeenSet
) -> None:
    (tmp_path / "big.csv").write_text("custody_ref,suite,arrival_time\n" + many_rows(25))
    first = folder(tmp_path, chunk_rows=10).poll(None, seen, NOW)
    assert first.more and all(b.key is None for b in first.batches)

    # The process dies here: nothing of the file is marked read.
    again = folder(tmp_path, chunk_rows=100).poll(None, seen, NOW)
    [batch] = again.batches
    assert [r.number for r in batch.rows] == list(range(1, 26)) and batch.key is not None


def test_a_file_that_changes_part_way_through_is_read_again_from_its_start(
    tmp_path: Path, seen: SeenSet
) -> None:
    path = tmp_path / "big.csv"
    path.write_text("custody_ref,suite,arrival_time\n" + many_rows(25))
    source = folder(tmp_path, chunk_rows=10)
    assert source.poll(None, seen, NOW).more

    path.write_text("custody_ref,suite,arrival_time\n" + many_rows(12, start=100))
    assert source.poll(None, seen, NOW).batches == []  # changed: judged afresh next poll
    result = source.poll(None, seen, NOW)
    assert [r.values["custody_ref"] for b in result.batches for r in b.rows][:2] == [
        "C-100",
        "C-101",
    ]


def test_a_header_only_file_is_one_empty_batch_that_marks_it_read(
    tmp_path: Path, seen: SeenSet
) -> None:
    (tmp_path / "a.csv").write_text("custody_ref,suite,arrival_time\n")
    [batch] = folder(tmp_path).poll(None, seen, NOW).batches
    assert (batch.rows, batch.key is not None) == ([], True)


# --- settle time ---------------------------------------------------------------------------


def aged(path: Path, text: str, mtime: datetime) -> None:
    path.write_text(text)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def test_a_file_is_read_once_its_mtime_is_settle_time_old(tmp_path: Path, seen: SeenSet) -> None:
    sleeps: list[float] = []
    source = folder(tmp_path, settle_time=timedelta(seconds=10), sleep=sleeps.append)
    aged(tmp_path / "a.csv", CSV, NOW - timedelta(seconds=9))

    assert source.poll(None, seen, NOW).batches == []
    assert [b.label for b in source.poll(None, seen, NOW + timedelta(seconds=1)).batches] == [
        "a.csv"
    ]
    assert sleeps == []  # an aged file needs no short check


def test_a_file_renamed_into_place_with_an_old_mtime_is_read_at_once(
    tmp_path: Path, seen: SeenSet
) -> None:
    partial = tmp_path / "a.csv.partial"
    aged(partial, CSV, NOW - timedelta(hours=1))
    partial.rename(tmp_path / "a.csv")  # a rename keeps the mtime
    source = folder(tmp_path, settle_time=timedelta(seconds=10))
    assert [b.label for b in source.poll(None, seen, NOW).batches] == ["a.csv"]


def test_a_file_still_being_written_waits_until_it_has_been_still_for_settle_time(
    tmp_path: Path, seen: SeenSet
) -> None:
    path = tmp_path / "a.csv"
    source = folder(tmp_path, settle_time=timedelta(seconds=10))
    aged(path, CSV, NOW - timedelta(seconds=30))
    aged(path, CSV + "C-2,S1,2026-06-10T08:00:00Z\n", NOW - timedelta(seconds=2))  # appended
    assert source.poll(None, seen, NOW).batches == []
    [batch] = source.poll(None, seen, NOW + timedelta(seconds=8)).batches
    assert len(batch.rows) == 2


def test_a_file_stamped_after_now_gets_the_short_check_instead(
    tmp_path: Path, seen: SeenSet
) -> None:
    sleeps: list[float] = []
    source = folder(tmp_path, settle=0.2, settle_time=timedelta(seconds=10), sleep=sleeps.append)
    aged(tmp_path / "a.csv", CSV, NOW + timedelta(days=1))  # a frozen or simulated clock
    assert [b.label for b in source.poll(None, seen, NOW).batches] == ["a.csv"]
    assert sleeps == [0.2]


def test_the_settle_time_comes_from_the_folder_settings(tmp_path: Path) -> None:
    settings = FolderSource.model_validate(
        {"name": "inbox", "kind": "csv_folder", "path": str(tmp_path), "settle_time": "1m"}
    )
    source = DropFolder.from_settings(settings, env={}, sleep=lambda s: None)
    aged(tmp_path / "a.csv", CSV, NOW - timedelta(seconds=59))
    assert source.poll(None, SeenSet(), NOW).batches == []
    assert FolderSource.model_validate(
        {"name": "i", "kind": "jsonl", "path": "x"}
    ).settle_time == timedelta(seconds=10)


def test_a_file_written_to_while_it_is_read_is_not_marked_read(
    tmp_path: Path, seen: SeenSet
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("custody_ref,suite,arrival_time\n" + many_rows(3))
    source = folder(tmp_path)
    real_rows = FeedChunk.rows

    def rows_then_append(chunk: FeedChunk) -> Iterator[SourceRow]:
        with path.open("a") as out:  # the writer adds a row after the file was hashed
            out.write("C-9,S1,2026-06-10T08:00:00Z\n")
        return real_rows(chunk)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FeedChunk, "rows", rows_then_append)
        [batch] = source.poll(None, seen, NOW).batches
    assert batch.key is None and len(batch.rows) == 3
    [again] = source.poll(None, seen, NOW).batches
    assert again.key == key("a.csv", path.read_text()) and len(again.rows) == 4
