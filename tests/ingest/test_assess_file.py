"""``evaluate``'s streamed reading (ingest.assess_file): in this process or in workers, in
one block or many, it gives exactly what reading the whole file and assessing each chosen
detention gives."""

from __future__ import annotations

import json
import os
import pickle
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custody_watch.ingest import assess_file as module
from custody_watch.ingest import read_records_file
from custody_watch.ingest.assess_file import FileAssessment, NotPlain, assess_file, workers_for
from custody_watch.rules import People, Policy, assess
from custody_watch.times import LONDON

NOW = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
CHOICES = {
    "legal_basis": ["pace_arrest", "bail_return", "warrant", "mha_s136", "police_protection",
                    "other", "arrest"],
    "release_reason": ["released", "bailed", "court", "escaped"],
    "cell_reason": ["more_comfortable", "nice"],
    "looked_after": ["true", "false", "yes", ""],
}  # fmt: skip
TIMES = [
    "arrest_time", "relevant_time", "detention_authorised_time", "charged_time",
    "bail_refused_time", "appropriate_adult_requested_time", "appropriate_adult_arrived_time",
    "released_time", "updated_at", "welfare_person_informed_time", "cell_time",
    "superintendent_extension_until", "social_care_referral_time",
]  # fmt: skip


def when(rng: random.Random, at: datetime) -> str:
    """A time in one of the forms a feed writes, now and then one the reader refuses."""
    forms = [
        at.astimezone(LONDON).isoformat(timespec="seconds"),
        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        at.strftime("%Y-%m-%dt%H:%M:%Sz"),
        at.isoformat(timespec="microseconds"),
        at.astimezone(LONDON).replace(tzinfo=None).isoformat(timespec="seconds"),
        "2026-02-30T10:00:00Z",
    ]
    return rng.choices(forms, weights=[40, 30, 5, 5, 5, 1])[0]


def record(rng: random.Random, serial: int) -> dict[str, object]:
    arrival = NOW + timedelta(minutes=rng.uniform(-3 * 1440, 600))
    r: dict[str, object] = {
        "custody_ref": f"R-{rng.randrange(serial + 1):05d}",  # repeats: versions
        "suite": rng.choice(["S1", " S2 ", "S\x07"]) if rng.random() < 0.05 else "S1",
        "arrival_time": when(rng, arrival),
    }
    if rng.random() < 0.7:
        r["person_ref"] = f"P-{rng.randrange(30)}"
    if rng.random() < 0.8:
        age = rng.choice([9, 11, 15, 17, 30])
        r["date_of_birth"] = (arrival - timedelta(days=365.25 * age + 100)).date().isoformat()
    for name, options in CHOICES.items():
        if rng.random() < 0.3:
            r[name] = rng.choice(options)
    for name in TIMES:
        if rng.random() < 0.3:
            r[name] = when(rng, arrival + timedelta(minutes=rng.uniform(-60, 2000)))
    if rng.random() < 0.2:
        r["reviews"] = [
            when(rng, arrival + timedelta(hours=h)) for h in (5, 14)[: rng.randint(0, 2)]
        ]
    if rng.random() < 0.05:
        r["prior_detention_minutes"] = rng.choice(["30", "0012", "-5", "2h", "9999"])
    return r


def write_feed(path: Path, seed: int, count: int, quoting: bool = True) -> Path:
    """A feed of ``count`` records; CSV cells quoted now and then (``quoting``), or never:
    then most blocks are read a column at a time (ingest.csv_block)."""
    rng = random.Random(seed)
    rows = [record(rng, n) for n in range(count)]
    if path.suffix == ".csv":
        names = ["custody_ref", "suite", "arrival_time", "person_ref", "date_of_birth",
                 *CHOICES, *TIMES, "reviews", "prior_detention_minutes", "notes"]  # fmt: skip
        lines = [",".join(names)]
        for r in rows:
            cells = []
            for name in names:
                value = r.get(name, "")
                text = ";".join(value) if isinstance(value, list) else str(value)
                quoted = quoting and ("," in text or rng.random() < 0.05)
                cells.append(f'"{text}"' if quoted else text)
            lines.append(",".join(cells))
            if rng.random() < 0.01:
                lines.append(rng.choice(["", "  ", '""', 'R-odd,"S1'] if quoting else ["R-odd"]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        lines = [json.dumps(r) for r in rows]
        for _ in range(count // 100):
            lines.insert(rng.randrange(len(lines)), rng.choice(["", "[1]", "{bad", "null"]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def exact(path: Path, policy: Policy, now: datetime) -> FileAssessment:
    """The file read whole and every chosen detention assessed, as evaluate always did."""
    result = read_records_file(path, local_zone=policy.zone)
    people: dict[str, dict[str, datetime]] = {}
    for d in result.detentions:
        if d.person_ref is not None:
            people.setdefault(d.person_ref, {})[d.custody_ref] = d.arrival_time
    out = FileAssessment(detentions=len(result.detentions))
    for d in result.detentions:
        others = [] if d.person_ref is None else [
            at for ref, at in people[d.person_ref].items() if ref != d.custody_ref
        ]  # fmt: skip
        evaluation = assess(d, policy, now, same_person_arrivals=others)
        out.findings.extend(
            (-f.severity.rank, f.since, f.custody_ref, f.rule, f.severity.value, f.detail)
            for f in evaluation.findings
        )
        out.failures.extend((d.custody_ref, f.rule, f.error) for f in evaluation.failed)
    out.findings.sort()
    out.rejected = [(r.row, r.custody_ref, r.error) for r in result.rejected]
    return out


def same(a: FileAssessment, b: FileAssessment) -> None:
    assert a.detentions == b.detentions
    assert a.rejected == b.rejected
    assert a.findings == b.findings
    assert a.failures == b.failures


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_streamed_reading_in_small_blocks_gives_what_the_whole_file_read_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, suffix: str
) -> None:
    path = write_feed(tmp_path / f"feed{suffix}", seed, 600)
    policy = Policy(people=People.ALL if seed == 2 else People.CHILDREN)
    expected = exact(path, policy, NOW)
    assert expected.findings and expected.rejected  # the feed exercises both
    monkeypatch.setattr(module, "BLOCK_BYTES", 997)  # blocks cut mid-line, many of them
    fmt = "csv" if suffix == ".csv" else "jsonl"
    here = assess_file(path, fmt, naive_zone=None, policy=policy, now=NOW, workers=0)
    same(here, expected)
    assert here.chunks > 20
    monkeypatch.setattr(module, "EVALUATE_BATCH", 7)
    apart = assess_file(path, fmt, naive_zone=None, policy=policy, now=NOW, workers=2)
    same(apart, expected)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_feed_never_quoted_read_a_column_at_a_time_gives_what_the_whole_file_read_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    path = write_feed(tmp_path / "feed.csv", seed, 1_500, quoting=False)
    policy = Policy(people=People.ALL if seed == 5 else People.CHILDREN)
    expected = exact(path, policy, NOW)
    assert expected.findings and expected.rejected
    monkeypatch.setattr(module, "BLOCK_BYTES", 5_000)  # most blocks with no odd line
    read = module.csv_plain_columns
    cut: list[bool] = []  # per block: cut a column at a time (else line by line)

    def columns(text: str, count: int) -> list[list[str]] | None:
        found = read(text, count)
        cut.append(found is not None)
        return found

    monkeypatch.setattr(module, "csv_plain_columns", columns)
    here = assess_file(path, "csv", naive_zone=None, policy=policy, now=NOW, workers=0)
    same(here, expected)
    assert cut.count(True) > 10 and cut.count(False) > 0  # both ways of cutting a block
    apart = assess_file(path, "csv", naive_zone=None, policy=policy, now=NOW, workers=2)
    same(apart, expected)


def test_a_file_above_the_threshold_is_read_by_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_feed(tmp_path / "feed.jsonl", 4, 2_000)
    monkeypatch.setattr(module, "BLOCK_BYTES", 20_000)
    monkeypatch.setattr(module, "WORKERS_FROM_BYTES", path.stat().st_size - 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert workers_for(path.stat().st_size) == 2
    result = assess_file(path, "jsonl", naive_zone=None, policy=Policy(), now=NOW)
    assert result.chunks > 10
    assert result.workers and os.getpid() not in result.workers
    same(result, exact(path, Policy(), NOW))


def test_a_small_file_is_read_in_this_process() -> None:
    assert workers_for(module.WORKERS_FROM_BYTES - 1) == 0


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_big_file_is_chosen_on_disk_from_its_first_row_and_assesses_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Memory the same for any length of file, decided by its size up front: a file just
    past a row count no longer pays to move everything chosen so far to disk."""
    path = write_feed(tmp_path / f"feed{suffix}", 6, 1_200)
    fmt = "csv" if suffix == ".csv" else "jsonl"
    expected = exact(path, Policy(), NOW)
    monkeypatch.setattr(module, "BLOCK_BYTES", 20_000)
    monkeypatch.setattr(module, "SPILL_FILE_BYTES", path.stat().st_size + 1)
    small = assess_file(path, fmt, naive_zone=None, policy=Policy(), now=NOW, workers=0)
    assert not small.spilled
    same(small, expected)
    monkeypatch.setattr(module, "SPILL_FILE_BYTES", path.stat().st_size)
    big = assess_file(path, fmt, naive_zone=None, policy=Policy(), now=NOW, workers=2)
    assert big.spilled
    same(big, expected)


def test_a_file_of_100_000_generated_records_is_chosen_in_memory() -> None:
    """The size issue 15 times (about 25 MB) stays well inside memory, with room for as
    many versions again: the disk would cost it about half a second."""
    assert module.spill_from_for(25_000_000) is None
    assert module.spill_from_for(2 * 25_000_000) is None
    assert module.spill_from_for(module.SPILL_FILE_BYTES) == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("no-header.csv", b"a,b\n1,2\n"),
        ("twice.csv", b"custody_ref,arrival_time,custody_ref\nR,2026-10-24T10:00:00Z,R\n"),
        ("latin1.csv", b"custody_ref,suite,arrival_time\nR,S\xe9,2026-10-24T10:00:00Z\n"),
        ("missing.jsonl", None),
    ],
)
def test_a_file_out_of_the_ordinary_is_left_to_the_exact_reading(
    tmp_path: Path, name: str, data: bytes | None
) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    fmt = "csv" if name.endswith(".csv") else "jsonl"
    with pytest.raises(NotPlain):
        assess_file(path, fmt, naive_zone=None, policy=Policy(), now=NOW, workers=0)


def row_by_row_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_csv_readers`` whose block reader vouches for no row: every row is then read on its
    own, as before the column-at-a-time reading."""
    made = module._csv_readers

    def readers(header_line: str, zone: Any) -> Any:
        header, read_plain, read_block = made(header_line, zone)

        def none_plain(columns: list[Any], bad: set[int]) -> Any:
            bad.update(range(len(columns[0]) if columns else 0))
            return read_block(columns, bad)

        return header, read_plain, none_plain

    monkeypatch.setattr(module, "_csv_readers", readers)


def chunk_text(rng: random.Random) -> tuple[str, str]:
    """A header and a block of rows: mostly plain, some with odd cells, short or long rows,
    blank lines, CRLF line ends, no last line end."""
    names = ["custody_ref", "suite", "arrival_time", "person_ref", "date_of_birth",
             *CHOICES, *TIMES, "reviews", "prior_detention_minutes", "notes"]  # fmt: skip
    rng.shuffle(names)
    lines = []
    for n in range(rng.randint(1, 60)):
        r = record(rng, n)
        cells = []
        for name in names:
            value = r.get(name, "")
            text = ";".join(value) if isinstance(value, list) else str(value)
            if rng.random() < 0.02:
                text = rng.choice(["", " ", "x", "é", "2026-10-24", " 2026-10-24T10:00:00Z", "0"])
            cells.append(text)
        if rng.random() < 0.03:
            cells = cells[:-1] if rng.random() < 0.5 else [*cells, "more"]
        lines.append(",".join(cells))
        if rng.random() < 0.02:
            lines.append(rng.choice(["", "   ", ",,,"]))
    text = "\n".join(lines) + ("\n" if rng.random() < 0.9 else "")
    return ",".join(names) + "\n", text.replace("\n", "\r\n") if rng.random() < 0.2 else text


def opened(result: module.ChunkResult) -> tuple[Any, ...]:
    accepted = [
        (*row[:5], pickle.loads(row[5]) if isinstance(row[5], bytes) else row[5])
        for row in result.accepted
    ]
    return result.rows, accepted, result.rejected


@pytest.mark.parametrize("seed", range(40))
def test_a_block_read_a_column_at_a_time_gives_what_reading_each_row_gives(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    header, text = chunk_text(rng)
    policy = Policy(people=People.ALL if seed % 2 else People.CHILDREN)
    for now in (NOW, datetime(2026, 10, 20, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)):
        reading = module.Reading("csv", None, policy, now, header)
        for pickled in (False, True):
            by_columns = module.read_chunk(text, reading, pickled)
            with monkeypatch.context() as patch:
                row_by_row_readers(patch)
                by_rows = module.read_chunk(text, reading, pickled)
            assert opened(by_columns) == opened(by_rows)


ODD_JSON = [None, 5, 1.5, True, False, "", " ", "true", "30", ["2026-10-24T10:00:00Z", None],
            ["2026-10-24T10:00:00Z;2026-10-24T11:00:00Z"], [], [" "], [3], "é", 2**70]  # fmt: skip


def json_chunk_text(rng: random.Random) -> str:
    """A block of JSON Lines rows: mostly as a feed writes them, some values of odd types or
    text, lines that are no row."""
    lines = []
    for n in range(rng.randint(1, 60)):
        r: dict[str, Any] = record(rng, n)
        if rng.random() < 0.3:
            r["prior_detention_minutes"] = rng.choice([30, 0, 5760, 5761, -1, "30", True])
        if rng.random() < 0.2:
            r["looked_after"] = rng.choice([True, False, "true", "no", None])
        for name in [*r, "interview_times", "force"]:
            if rng.random() < 0.03:
                r[name] = rng.choice(ODD_JSON)
        lines.append(json.dumps(r))
        if rng.random() < 0.03:
            lines.append(
                rng.choice(
                    ["", "[1]", "{bad", "null", '{"custody_ref": "R", "custody_ref": "S"}', "{}",
                     '{"notes": "x"}']
                )
            )  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_json_lines_read_a_column_at_a_time_give_what_reading_each_row_gives(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    text = json_chunk_text(rng)
    policy = Policy(people=People.ALL if seed % 2 else People.CHILDREN)
    made = module._json_block_reader

    def none_plain(names: tuple[str, ...], zone: Any) -> Any:
        read_block = made(names, zone)

        def read(columns: list[Any], bad: set[int]) -> Any:
            bad.update(range(len(columns[0]) if columns else 0))
            return read_block(columns, bad)

        return read

    for now in (NOW, datetime(2026, 10, 20, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)):
        reading = module.Reading("jsonl", None, policy, now)
        for pickled in (False, True):
            by_columns = module.read_chunk(text, reading, pickled)
            with monkeypatch.context() as patch:
                patch.setattr(module, "_json_block_reader", none_plain)
                by_rows = module.read_chunk(text, reading, pickled)
            assert opened(by_columns) == opened(by_rows)


@pytest.mark.parametrize("text", ['{}\n{"notes": "x"}\n', '{"force": "F"}\n', "\n"])
def test_json_lines_with_none_of_the_format_s_fields_are_each_rejected(text: str) -> None:
    chunk = module.read_chunk(text, module.Reading("jsonl", None, Policy(), NOW))
    assert chunk.accepted == []
    assert [row for row, _ref, _error in chunk.rejected] == list(range(1, chunk.rows + 1))
    assert chunk.rows == text.count("{")
