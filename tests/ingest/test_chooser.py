"""ingest.chooser: one version of each detention, held in memory or, past a threshold, on
disk; either way the same versions chosen and the same jobs given to the rules."""

from __future__ import annotations

import json
import pickle
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody_watch.ingest import chooser as module
from custody_watch.ingest.assess_file import FileAssessment, assess_file
from custody_watch.ingest.chooser import Chooser, Job
from custody_watch.ingest.files import FeedFormat
from custody_watch.rules import People, Policy

BASE = datetime(2026, 6, 10, 12, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO = timedelta(0)
ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def version(
    ref: str, updated: Any, name: str, person: str | None = "P-1", kept: bool = True
) -> tuple[int, str, Any, str | None, Any, Any]:
    """An accepted row as read in this process; ``name`` tells the versions apart."""
    fields = {"custody_ref": ref, "suite": name, "arrival_time": BASE} if kept else None
    return (0, ref, updated, person, BASE, fields)


def chosen_names(chooser: Chooser) -> list[str]:
    return [fields_of(job)["suite"] for batch in chooser.batches(100) for job in batch]


def fields_of(job: Job) -> dict[str, Any]:
    fields = job[0]
    read: dict[str, Any] = pickle.loads(fields) if isinstance(fields, bytes) else fields
    return read


def jobs_of(chooser: Chooser, size: int) -> list[tuple[dict[str, Any], list[Any]]]:
    """Every job, the fields unpickled: the disk keeps them pickled, memory as they came."""
    batches = list(chooser.batches(size))
    assert all(len(batch) == size for batch in batches[:-1])
    assert all(batches)
    # an arrival with its offset: equal instants in other offsets are not the same value
    return [
        (fields_of(job), [(at, getattr(at, "utcoffset", lambda: None)()) for at in job[1]])
        for batch in batches
        for job in batch
    ]


@pytest.mark.parametrize("spill_from", [0, 1_000])
def test_the_latest_updated_at_wins_and_an_equal_one_later_in_the_feed(spill_from: int) -> None:
    with Chooser(spill_from) as chooser:
        chooser.take([version("C-1", BASE, "first"), version("C-2", None, "undated")])
        chooser.take(
            [
                version("C-1", BASE + timedelta(hours=1), "later"),
                version("C-1", BASE, "earlier"),
                version("C-2", BASE - timedelta(days=9), "dated"),
                version("C-2", None, "undated again"),
                version("C-1", BASE + timedelta(hours=1), "equal, later row"),
            ]
        )
        assert chooser.spilled == (spill_from == 0)
        assert chooser.detentions == 2
        assert chosen_names(chooser) == ["equal, later row", "dated"]


@pytest.mark.parametrize("spill_from", [0, 1_000])
def test_a_row_without_updated_at_replaces_only_another_without_one(spill_from: int) -> None:
    with Chooser(spill_from) as chooser:
        chooser.take([version("C-1", None, "a"), version("C-1", None, "b")])
        chooser.take([version("C-2", BASE, "c"), version("C-2", None, "d")])
        assert chosen_names(chooser) == ["b", "c"]


def test_equal_instants_in_other_offsets_are_equal_on_disk() -> None:
    london_ish = BASE.astimezone(timezone(timedelta(hours=1)))
    with Chooser(0) as chooser:
        chooser.take([version("C-1", BASE, "utc"), version("C-1", london_ish, "offset")])
        chooser.take([version("C-1", BASE - timedelta(microseconds=1), "a microsecond before")])
        assert chosen_names(chooser) == ["offset"]


def test_a_workers_microseconds_are_compared_as_the_instants_they_are() -> None:
    with Chooser(0) as chooser:
        chooser.take([version("C-1", micros(BASE), "now"), version("C-1", None, "undated")])
        chooser.take([version("C-1", micros(BASE) - 1, "before")])
        chooser.take([version("C-1", micros(BASE), "now, later row")])
        assert chosen_names(chooser) == ["now, later row"]


def test_the_jobs_carry_the_arrivals_of_the_persons_other_chosen_records() -> None:
    def row(ref: str, person: str | None, days: int, kept: bool) -> tuple[Any, ...]:
        arrival = BASE - timedelta(days=days)
        fields = {"custody_ref": ref, "arrival_time": arrival} if kept else None
        return (0, ref, None, person, arrival, fields)

    rows = [
        row("A", "P-1", 1, True),
        row("B", "P-1", 2, False),  # not a job, but one of P-1's records
        row("C", "P-2", 3, True),
        row("D", None, 4, True),
        row("E", "P-1", 5, True),
        row("B", "P-1", 6, False),  # B's later version: its arrival counts, once
    ]
    for spill_from in (0, 1_000):
        with Chooser(spill_from) as chooser:
            chooser.take(rows)
            jobs = [(f["custody_ref"], others) for f, others in jobs_of(chooser, 2)]
        day = timedelta(days=1)
        assert jobs == [
            ("A", [(BASE - 6 * day, ZERO), (BASE - 5 * day, ZERO)]),
            ("C", []),
            ("D", []),
            ("E", [(BASE - day, ZERO), (BASE - 6 * day, ZERO)]),
        ]


def test_what_went_to_disk_is_removed_when_the_chooser_is_closed() -> None:
    with Chooser(1) as chooser:
        chooser.take([version("C-1", BASE, "a"), version("C-2", BASE, "b")])
        assert chooser.disk is not None
        folder = Path(chooser.disk.folder.name)
        assert any(folder.iterdir())
        assert chooser.best == {}  # nothing per detention left in memory
    assert not folder.exists()


def test_more_versions_than_the_modules_threshold_go_to_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(module, "SPILL_FROM", 3)
    with Chooser() as chooser:
        chooser.take([version("C-1", None, "a"), version("C-2", None, "b")])
        assert not chooser.spilled
        # the threshold passed inside a chunk: the version before it chosen in memory
        chooser.take(
            [
                version("C-1", None, "a again"),
                version("C-3", None, "c"),
                version("C-2", None, "b again"),
            ]
        )
        assert chooser.spilled
        assert chooser.detentions == 3
        assert chosen_names(chooser) == ["a again", "b again", "c"]


# --- random version sequences: memory and disk choose alike -------------------------------------


@st.composite
def feeds(draw: st.DrawFn) -> tuple[bool, list[list[tuple[Any, ...]]]]:
    """Chunks of versions of a few refs: updated_at None or one of a few instants (equal
    ones frequent; microseconds as a worker sends them, or datetimes in some offset), a
    few people, fields or not."""
    from_worker = draw(st.booleans())
    instants = [BASE + timedelta(minutes=m) for m in range(4)]
    count = draw(st.integers(0, 60))
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        ref = f"C-{draw(st.integers(0, 12))}"
        at = draw(st.none() | st.sampled_from(instants))
        arrival = BASE - timedelta(days=draw(st.integers(0, 100)))
        person = draw(st.none() | st.sampled_from(["P-1", "P-2", "P-3"]))
        kept = draw(st.booleans())
        fields: Any = {"custody_ref": ref, "row": n, "arrival_time": arrival} if kept else None
        updated: Any
        if from_worker:
            updated = None if at is None else micros(at)
            held: Any = micros(arrival)
            fields = None if fields is None else pickle.dumps(fields)
        else:
            updated = None if at is None else at.astimezone(draw(st.sampled_from(ZONES)))
            held = arrival.astimezone(draw(st.sampled_from(ZONES)))
        rows.append((n, ref, updated, person, held, fields))
    cuts = sorted(draw(st.lists(st.integers(0, count), max_size=4)))
    chunks = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)]
    return from_worker, chunks


def oracle(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """The row chosen for each ref, worked out apart from the chooser: the latest updated_at,
    the later row between equals, and the last row when none has one."""
    chosen: dict[str, int] = {}
    for ref in dict.fromkeys(r[1] for r in rows):
        versions = [r for r in rows if r[1] == ref]
        dated = [r for r in versions if r[2] is not None]
        if dated:
            latest = max(micros(r[2]) if isinstance(r[2], datetime) else r[2] for r in dated)
            chosen[ref] = [
                r[0] for r in dated if (micros(r[2]) if isinstance(r[2], datetime) else r[2])
                == latest
            ][-1]  # fmt: skip
        else:
            chosen[ref] = versions[-1][0]
    return chosen


@settings(max_examples=150, deadline=None)
@given(feeds(), st.integers(0, 15), st.integers(1, 5))
def test_spilling_or_not_the_same_versions_and_the_same_jobs_are_chosen(
    feed: tuple[bool, list[list[tuple[Any, ...]]]], spill_from: int, size: int
) -> None:
    _from_worker, chunks = feed
    rows = [r for chunk in chunks for r in chunk]
    with Chooser(10**9) as held, Chooser(spill_from) as spilling:
        for chunk in chunks:
            held.take(chunk)
            spilling.take(chunk)
        assert not held.spilled
        assert spilling.spilled == (len(rows) > spill_from)  # versions bound detentions
        assert held.detentions == spilling.detentions == len({r[1] for r in rows})
        in_memory, on_disk = jobs_of(held, size), jobs_of(spilling, size)
    assert in_memory == on_disk
    want = oracle(rows)
    by_row = {r[0]: r for r in rows}
    assert [f["row"] for f, _ in on_disk] == [n for n in want.values() if by_row[n][5] is not None]


# --- the whole file -------------------------------------------------------------------------


def feed_rows(seed: int, count: int) -> list[dict[str, str]]:
    """Records of a few days around NOW with versions (updated_at missing, equal, earlier)
    and a few people detained again and again."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        arrival = NOW - timedelta(hours=rng.uniform(-5, 24 * 40))
        r = {
            "custody_ref": f"R-{rng.randrange(n + 1):05d}",
            "suite": rng.choice(["S1", "S2"]),
            "person_ref": rng.choice(["", "P-1", "P-2", "P-3", f"P-{n}"]),
            "legal_basis": "pace_arrest",
            "arrival_time": arrival.isoformat(),
            "date_of_birth": (arrival - timedelta(days=365.25 * rng.choice([12, 16, 30])))
            .date()
            .isoformat(),
        }
        if rng.random() < 0.6:
            r["released_time"] = (arrival + timedelta(hours=rng.uniform(1, 30))).isoformat()
        if rng.random() < 0.8:
            updated = NOW - timedelta(hours=rng.choice([1, 2, 3]))
            zone = rng.choice(ZONES)
            r["updated_at"] = updated.astimezone(zone).isoformat()
        if rng.random() < 0.01:
            r["arrival_time"] = "yesterday"  # rejected
        rows.append(r)
    return rows


NOW = datetime(2026, 10, 24, 12, tzinfo=UTC)


def write_feed(path: Path, rows: list[dict[str, str]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path
    names = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(names)] + [",".join(r.get(k, "") for k in names) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def same(a: FileAssessment, b: FileAssessment) -> None:
    assert (a.detentions, a.rejected, a.findings, a.failures) == (
        b.detentions,
        b.rejected,
        b.findings,
        b.failures,
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("workers", [0, 2])
def test_a_file_assessed_with_its_versions_on_disk_gives_what_memory_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, workers: int
) -> None:
    path = write_feed(tmp_path / f"feed{suffix}", feed_rows(workers + len(suffix), 3_000))
    fmt: FeedFormat = "csv" if suffix == ".csv" else "jsonl"
    policy = Policy(people=People.ALL)
    held = assess_file(path, fmt, naive_zone=None, policy=policy, now=NOW, workers=workers)
    assert held.findings and held.rejected
    assert any(f[3] == "repeat_detention" for f in held.findings)
    disks: list[Any] = []

    class Spied(module._Disk):
        def __init__(self) -> None:
            super().__init__()
            disks.append(self)

    monkeypatch.setattr(module, "_Disk", Spied)
    monkeypatch.setattr(module, "SPILL_FROM", 50)
    spilled = assess_file(path, fmt, naive_zone=None, policy=policy, now=NOW, workers=workers)
    assert len(disks) == 1  # it did spill
    assert not Path(disks[0].folder.name).exists()
    same(spilled, held)
