"""Detentions and their versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from custody_watch.domain import Detention
from custody_watch.ingest.record import from_record, to_record
from custody_watch.store.schema import DetentionRow, DetentionVersionRow


@dataclass(frozen=True, slots=True)
class Incoming:
    """One read row of a batch: its feed row number, the detention, and whether the person
    is a child (worked out by the caller, which holds the policy)."""

    row: int
    detention: Detention
    is_child: bool
    # The stored form, when the caller has it already (``ingest.record.as_given``).
    record: dict[str, Any] | None = None


def record_versions(
    session: Session, *, source: str, batch: str, items: Sequence[Incoming], now: datetime
) -> int:
    """Store one batch of versions with a handful of statements; returns how many current
    records changed (each is due for the rules now).

    1. Read the stored current record of every custody ref in the batch (one query a chunk).
    2. Per ref, the batch's own winner (the feed's version rule) replaces the stored record
       when it is newer: a later ``updated_at`` wins, a version without one is older than
       any with one, and between equals the one received later wins.
    3. Insert new detentions, update changed ones, and keep every version that says
       something new, for audit: bulk statements, not a round trip per row."""
    records = [item.record or to_record(item.detention) for item in items]
    refs = list(dict.fromkeys(item.detention.custody_ref for item in items))
    stored = _stored(session, refs)
    winner: dict[str, int] = {}
    for index, item in enumerate(items):
        ref = item.detention.custody_ref
        best = winner.get(ref)
        if best is None or _beats(item.detention.updated_at, items[best].detention.updated_at):
            winner[ref] = index
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    became: set[int] = set()
    for ref, index in winner.items():
        item, record, current = items[index], records[index], stored.get(ref)
        if current is not None and current.record == record:
            continue  # the same content again (a re-sent row): nothing changes
        if current is None:
            inserts.append(
                {"custody_ref": ref, "source": source, "first_seen_at": now}
                | _columns(item.detention, record, item.is_child, now)
            )
            became.add(index)
        elif _is_newer(item.detention.updated_at, current.record_updated_at):
            updates.append(
                {"id": current.id} | _columns(item.detention, record, item.is_child, now)
            )
            became.add(index)
    ids = {ref: current.id for ref, current in stored.items()}
    if inserts:
        # Core statements on the tables: the ORM's bulk path adds per-row bookkeeping that
        # costs more than the database work here.
        created = session.execute(
            insert(DETENTIONS).returning(DETENTIONS.c.id, DETENTIONS.c.custody_ref), inserts
        )
        ids.update({ref: row_id for row_id, ref in created})
    if updates:
        session.execute(update(DetentionRow), updates)
    versions = [
        {
            "detention_id": ids[item.detention.custody_ref],
            "source": source,
            "batch": batch,
            "row": item.row,
            "received_at": now,
            "record_updated_at": item.detention.updated_at,
            "record": record,
            "became_current": index in became,
        }
        for index, (item, record) in enumerate(zip(items, records, strict=True))
        if (current := stored.get(item.detention.custody_ref)) is None or current.record != record
    ]
    if versions:
        session.execute(insert(VERSIONS), versions)
    return len(inserts) + len(updates)


def record_version(
    session: Session,
    *,
    source: str,
    batch: str,
    row: int,
    detention: Detention,
    is_child: bool,
    now: datetime,
) -> bool:
    """Store one version (see ``record_versions``); True when the current record changed."""
    items = [Incoming(row, detention, is_child)]
    return record_versions(session, source=source, batch=batch, items=items, now=now) == 1


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    record_updated_at: datetime | None
    record: dict[str, Any]


def _stored(session: Session, refs: Sequence[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    for start in range(0, len(refs), 500):
        query = select(
            DetentionRow.custody_ref,
            DetentionRow.id,
            DetentionRow.record_updated_at,
            DetentionRow.record,
        ).where(DetentionRow.custody_ref.in_(refs[start : start + 500]))
        for ref, row_id, updated_at, record in session.execute(query):
            found[ref] = _Stored(row_id, updated_at, record)
    return found


def _beats(incoming: datetime | None, best: datetime | None) -> bool:
    """Within one feed: later updated_at wins; undated is oldest; a tie goes to the later row."""
    if incoming is None:
        return best is None
    return best is None or incoming >= best


DETENTIONS: Table = DetentionRow.__table__  # type: ignore[assignment]
VERSIONS: Table = DetentionVersionRow.__table__  # type: ignore[assignment]


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool:
    if incoming is None:
        return stored is None
    return stored is None or incoming >= stored


def _columns(
    detention: Detention, record: dict[str, object], is_child: bool, now: datetime
) -> dict[str, object]:
    return {
        "suite": detention.suite,
        "force": detention.force,
        "arrival_time": detention.arrival_time,
        "released_time": detention.released_time,
        "is_child": is_child,
        "record": record,
        "record_updated_at": detention.updated_at,
        "last_changed_at": now,
        "next_check_at": now,  # due now: the rules must see the change
    }


@dataclass(frozen=True, slots=True)
class DueRecord:
    """What evaluation needs of a detention row, read without the ORM's identity map."""

    id: int
    custody_ref: str
    suite: str
    force: str | None
    released_time: datetime | None
    record: dict[str, Any]


_DUE_COLUMNS = (
    DetentionRow.id,
    DetentionRow.custody_ref,
    DetentionRow.suite,
    DetentionRow.force,
    DetentionRow.released_time,
    DetentionRow.record,
)


def due_records(session: Session, now: datetime, limit: int = 5000) -> list[DueRecord]:
    """Detentions whose rules must run: changed, or a threshold or event time reached."""
    query = (
        select(*_DUE_COLUMNS)
        .where(DetentionRow.next_check_at <= now)
        .order_by(DetentionRow.next_check_at, DetentionRow.id)
        .limit(limit)
    )
    return [DueRecord(*row) for row in session.execute(query)]


def due_records_by_id(session: Session, ids: Sequence[int]) -> list[DueRecord]:
    query = select(*_DUE_COLUMNS).where(DetentionRow.id.in_(ids))
    return [DueRecord(*row) for row in session.execute(query)]


def set_next_checks(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """``[{"id": ..., "next_check_at": ...}]`` in one executemany."""
    if rows:
        session.execute(update(DetentionRow), list(rows))


def load_record(record: dict[str, Any]) -> Detention:
    return from_record(record)


def set_next_check(session: Session, detention_id: int, at: datetime | None) -> None:
    session.execute(
        update(DetentionRow).where(DetentionRow.id == detention_id).values(next_check_at=at)
    )


def load(row: DetentionRow) -> Detention:
    return from_record(row.record)


def by_ref(session: Session, custody_ref: str) -> DetentionRow | None:
    return session.scalar(select(DetentionRow).where(DetentionRow.custody_ref == custody_ref))
