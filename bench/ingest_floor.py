"""The ingest figure's floor: the same rows written into the product's own tables and indexes
by nothing but the database's bulk path, with no product code in the timing.

The ``ingest`` figure compares the import with a plain bulk insert of the rows into one
table with one index (the issue's "raw executemany"). The store must write more than that:
each detention's current record, and every version for audit, into two tables with six
B-trees (the unique ref, the released and next-check times, the person and arrival, the
versions' detention). This measures what that costs the database itself, so that the report
can say how much of the gap is the product's and how much is the schema's:

- ``floor_ratio``: the plain baseline's rate over this floor's, the best ratio any writer of
  this schema could reach on this machine;
- ``of_floor``: the product's rate over this floor's.

Rows are prepared (read and checked) before the clock starts: the product does that in its
worker processes. Detentions are the last accepted version of each ref, numbered in order
of first appearance; each transaction inserts the detentions first seen in its rows, then
its rows' versions, so the foreign key holds as it does for the product. Transactions are
as many rows as the import's."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from custody_watch.ingest.prepare import PreparedRow, Zones, prepare_rows
from custody_watch.sources.base import SourceRow
from custody_watch.store.db import make_engine
from custody_watch.times import utc_text

from stores import DETENTION_COLUMNS, VERSION_COLUMNS, Stores, bulk_insert  # isort: skip


def prepared(rows: Sequence[SourceRow], zones: Zones, chunk: int) -> list[PreparedRow]:
    """The accepted rows, read as the import's workers read them."""
    accepted: list[PreparedRow] = []
    for start in range(0, len(rows), chunk):
        accepted.extend(prepare_rows(rows[start : start + chunk], zones).accepted)
    return accepted


def schema_floor(
    stores: Stores,
    name: str,
    items: Sequence[PreparedRow],
    now: datetime,
    transaction_rows: int,
) -> float:
    """Seconds to write ``items`` into a fresh store ``name`` by the bulk path alone."""
    url = stores.create(name)
    postgres = stores.kind == "postgresql"

    def instant(text: str | None) -> str | None:
        # PostgreSQL reads a timestamptz from utc_text only with its zone spelled out.
        return None if text is None or not postgres else text + "+00"

    def as_given(text: str | None) -> str | None:
        return instant(text) if postgres else text

    last: dict[str, PreparedRow] = {}
    for item in items:
        last[item.custody_ref] = item
    ids = {ref: number for number, ref in enumerate(last, 1)}
    engine = make_engine(url)
    at = as_given(utc_text(now))
    started = time.perf_counter()
    seen: set[str] = set()
    for start in range(0, len(items), transaction_rows):
        part = items[start : start + transaction_rows]
        new: list[tuple[Any, ...]] = []
        for item in part:
            if item.custody_ref in seen:
                continue
            seen.add(item.custody_ref)
            current = last[item.custody_ref]
            new.append(
                (
                    ids[item.custody_ref],
                    current.custody_ref,
                    "bench",
                    current.suite,
                    current.force,
                    as_given(current.arrival_time),
                    as_given(current.released_time),
                    current.is_child,
                    current.record_json,
                    as_given(current.updated_at),
                    at,
                    at,
                    at,
                    current.person_ref,
                )
            )
        versions = [
            (
                ids[item.custody_ref],
                "bench",
                "feed.jsonl",
                item.row,
                at,
                as_given(item.updated_at),
                item.record_json,
                item is last[item.custody_ref],
            )
            for item in part
        ]
        with engine.begin() as connection:
            bulk_insert(connection, "detentions", DETENTION_COLUMNS, new)
            bulk_insert(connection, "detention_versions", VERSION_COLUMNS[1:], versions)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:  # the floor wrote what the import writes
        counted = [
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("detentions", "detention_versions")
        ]
    engine.dispose()
    assert counted == [len(last), len(items)], (counted, len(last), len(items))
    return seconds
