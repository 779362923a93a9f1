"""Backfill (`import FILE`): a whole feed into the store, read in worker processes, stored in
feed order, every rejection naming its row in the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.daemon.backfill import INLINE_BELOW, Imported, import_feed, workers_for
from custody_watch.ingest.prepare import Zones
from custody_watch.ingest.workers import Preparers
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import (
    DetentionRow,
    DetentionVersionRow,
    QuarantineRow,
    SourceStateRow,
)

from .support import Daemon

NOW = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the night the clocks go back


def feed(count: int, bad_every: int = 0) -> str:
    lines = []
    for n in range(1, count + 1):
        record = {
            "custody_ref": f"C-{n:05d}",
            "suite": f"suite-{n % 3}",
            "arrival_time": f"2026-10-2{n % 5}T0{n % 10}:15:00+01:00",
            "date_of_birth": "2010-02-28" if n % 4 else "1990-06-01",
        }
        if bad_every and n % bad_every == 0:
            record["arrival_time"] = "yesterday"
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


@pytest.fixture
def store(tmp_path: Path) -> Callable[[str], sessionmaker[Session]]:
    def make(name: str) -> sessionmaker[Session]:
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade(engine)
        return make_sessionmaker(engine)

    return make


def run(
    sessions: sessionmaker[Session], text: str, workers: int, **options: Any
) -> tuple[Imported, list[int]]:
    """``import_feed`` of ``text`` in 50-row chunks; ``options`` are its other keywords."""
    seen: list[int] = []
    with Preparers(workers) as preparers:
        imported = import_feed(
            sessions,
            source="history",
            label="history.jsonl",
            text=text,
            fmt="jsonl",
            zones=Zones(),
            now=NOW,
            preparers=preparers,
            progress=seen.append,
            chunk_rows=50,
            **options,
        )
    return imported, seen


def contents(sessions: sessionmaker[Session]) -> tuple[list[tuple[object, ...]], ...]:
    with sessions() as session:
        detentions = session.execute(
            select(
                DetentionRow.custody_ref,
                DetentionRow.suite,
                DetentionRow.arrival_time,
                DetentionRow.is_child,
                DetentionRow.record,
            ).order_by(DetentionRow.custody_ref)
        ).all()
        versions = session.execute(
            select(DetentionVersionRow.row, DetentionVersionRow.batch).order_by(
                DetentionVersionRow.row
            )
        ).all()
        rejected = session.execute(
            select(QuarantineRow.row, QuarantineRow.error).order_by(QuarantineRow.row)
        ).all()
    return (
        [tuple(r) for r in detentions],
        [tuple(r) for r in versions],
        [tuple(r) for r in rejected],
    )


def test_worker_processes_store_exactly_what_reading_in_process_stores(store):
    text = feed(420, bad_every=97)
    in_process, _ = run(store("inline.db"), text, workers=0)
    in_workers, _ = run(store("workers.db"), text, workers=2)
    assert (in_workers.rows, in_workers.changed, in_workers.rejected) == (420, 416, 4)
    assert in_process == in_workers
    assert contents(store("inline.db")) == contents(store("workers.db"))


def test_a_rejected_row_is_named_by_its_line_in_the_file_not_in_its_chunk(store):
    sessions = store("cw.db")
    run(sessions, feed(300, bad_every=97), workers=2)
    _, versions, rejected = contents(sessions)
    assert rejected == [
        (97, "arrival_time: not a valid time: 'yesterday'"),
        (194, "arrival_time: not a valid time: 'yesterday'"),
        (291, "arrival_time: not a valid time: 'yesterday'"),
    ]
    assert [row for row, _ in versions] == [n for n in range(1, 301) if n % 97]


def test_progress_adds_up_to_the_whole_text(store):
    text = feed(130)
    _, seen = run(store("cw.db"), text, workers=1)
    assert len(seen) == 3  # chunks of 50, 50 and 30 rows
    assert sum(seen) == len(text)


def test_importing_the_same_file_again_stores_nothing_new(store):
    sessions = store("cw.db")
    text = feed(120)
    run(sessions, text, workers=1)
    again, _ = run(sessions, text, workers=1)
    assert (again.rows, again.changed) == (120, 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DetentionVersionRow)) == 120


def test_a_small_file_is_not_worth_starting_workers_for():
    assert workers_for(INLINE_BELOW - 1, 3) == 0
    assert workers_for(INLINE_BELOW, 3) == 3


def test_workers_can_be_started_before_the_first_chunk_and_then_do_the_work(store):
    with Preparers(2) as preparers:
        assert preparers.start() > 0
        imported = import_feed(
            store("cw.db"),
            source="history",
            label="history.jsonl",
            text=feed(75),
            fmt="jsonl",
            zones=Zones(),
            now=NOW,
            preparers=preparers,
            chunk_rows=10,
        )
    assert (imported.rows, imported.changed) == (75, 75)


def test_the_import_command_backfills_a_csv_file_and_reports_what_it_did(
    make_daemon: Callable[..., Daemon], tmp_path: Path
):
    daemon = make_daemon()
    history = tmp_path / "history.csv"
    history.write_text(
        "custody_ref,suite,arrival_time,date_of_birth\n"
        "H-1,suite-a,2026-02-29T23:30:00Z,2012-02-29\n"  # no 29 February in 2026
        "H-2,suite-a,2024-02-29T23:30:00Z,2012-02-29\n"
        'H-3,"suite-b",2024-03-31T00:59:59Z,\n',
        encoding="utf-8",
    )
    code, out, err = daemon.cli("import", str(history), "--workers", "0")
    assert code == 0, err
    assert out.strip() == (
        "imported history.csv: 3 rows, 2 detentions stored or updated, 1 rejected"
    )
    quarantined = daemon.json("quarantine")
    assert [(q["row"], q["error"].split(":")[0]) for q in quarantined["rejected"]] == [
        (1, "arrival_time")
    ]


def test_importing_a_file_already_imported_does_nothing_unless_asked_again(
    make_daemon: Callable[..., Daemon], tmp_path: Path
):
    daemon = make_daemon()
    history = tmp_path / "history.jsonl"
    history.write_text(feed(30, bad_every=7), encoding="utf-8")
    copy = tmp_path / "same-history-renamed.jsonl"
    copy.write_bytes(history.read_bytes())
    code, out, _ = daemon.cli("import", str(history), "--now", "2026-10-25T00:30:00Z")
    assert (code, out.strip()) == (
        0,
        "imported history.jsonl: 30 rows, 26 detentions stored or updated, 4 rejected",
    )

    # Same content under another name: remembered by content, and the rejected rows are not
    # quarantined a second time.
    code, out, _ = daemon.cli("import", str(copy))
    assert code == 0
    assert out.strip() == (
        "same-history-renamed.jsonl: already imported at Sun 25 Oct 01:30 BST as "
        "history.jsonl (30 rows, 4 rejected); nothing done (--again imports it again)"
    )
    assert len(daemon.json("quarantine")["rejected"]) == 4

    code, out, _ = daemon.cli("import", str(copy), "--again")
    assert (code, out.strip()) == (
        0,
        "imported same-history-renamed.jsonl: 30 rows, 0 detentions stored or updated, 4 rejected",
    )
    assert len(daemon.json("quarantine")["rejected"]) == 8  # asked for: every rejection kept


def versions_feed(count: int) -> str:
    """Forty detentions seen again and again across chunks: later versions, earlier ones,
    and the same record sent again word for word."""
    lines = []
    for n in range(1, count + 1):
        minute = (n * 7) % 50
        record = {
            "custody_ref": f"C-{n % 40:03d}",
            "suite": f"suite-{n % 3}",
            "arrival_time": "2026-10-24T09:15:00+01:00",
            "updated_at": f"2026-10-24T10:{minute:02d}:00+01:00",
            "date_of_birth": "2010-02-28",
        }
        if n % 11 == 0:
            del record["updated_at"]  # undated: older than any dated version
        lines.append(json.dumps(record))
    # The last version of each, sent again in later chunks as it was: nothing new to keep.
    return "\n".join(lines + lines[-40:]) + "\n"


def everything(sessions: sessionmaker[Session]) -> dict[str, list[tuple[object, ...]]]:
    with sessions() as session:
        return {
            "detentions": [
                tuple(r)
                for r in session.execute(
                    select(
                        DetentionRow.custody_ref,
                        DetentionRow.record,
                        DetentionRow.record_updated_at,
                        DetentionRow.next_check_at,
                    ).order_by(DetentionRow.custody_ref)
                )
            ],
            "versions": [
                tuple(r)
                for r in session.execute(
                    select(
                        DetentionRow.custody_ref,
                        DetentionVersionRow.row,
                        DetentionVersionRow.record,
                        DetentionVersionRow.became_current,
                    )
                    .join(DetentionRow, DetentionRow.id == DetentionVersionRow.detention_id)
                    .order_by(DetentionVersionRow.row)
                )
            ],
            "quarantine": [
                tuple(r)
                for r in session.execute(
                    select(QuarantineRow.row, QuarantineRow.error).order_by(QuarantineRow.row)
                )
            ],
            "counters": [
                tuple(r)
                for r in session.execute(
                    select(SourceStateRow.rows_read, SourceStateRow.rows_rejected)
                )
            ],
        }


@pytest.mark.parametrize("together", [2, 3, 100])
def test_chunks_stored_a_few_a_transaction_leave_the_store_as_chunk_by_chunk_does(store, together):
    text = versions_feed(400) + feed(30, bad_every=7)
    results = {}
    for per_transaction in (1, together):
        sessions = store(f"cw-{per_transaction}.db")
        imported, _ = run(sessions, text, workers=0, chunks_a_transaction=per_transaction)
        results[per_transaction] = (imported, everything(sessions))
    alone, grouped = results[1], results[together]
    assert grouped == alone
    stored = alone[1]
    # The feed does what it is meant to: versions replaced, versions kept but not current,
    # resent records not kept twice, rejected rows quarantined.
    became = [current for *_, current in stored["versions"]]
    assert True in became and False in became
    assert len(stored["versions"]) < alone[0].rows - alone[0].rejected
    assert len(stored["quarantine"]) == alone[0].rejected == 4
