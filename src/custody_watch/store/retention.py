"""Retention: deleting what the store has held longer than ``[retention]`` allows.

What goes, each counted from its own time:

- a detention released more than ``released_detentions`` ago (by ``released_time``), with
  its versions, its alerts and their findings, messages and notes. Never a detention still
  open (no ``released_time``) nor one with a live alert, whatever its dates;
- quarantined rows received more than ``quarantine`` ago;
- access log rows more than ``access_log`` old, audit rows more than ``audit_log`` old (this
  job is the one sanctioned deleter of those append-only tables: ``store.access``).

Deletion goes in batches of ``batch`` rows (detentions: ``batch`` detentions with what
belongs to them) a transaction, so a first run over years of history never holds a long
lock on tables the daemon writes every tick. Each run ends with one audit row giving the
counts. ``due`` counts what a run would delete now, without deleting it (``--dry-run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.store import audit
from custody_watch.store.access import RETENTION, allow_retention_delete
from custody_watch.store.schema import (
    AccessRow,
    AlertNoteRow,
    AlertRow,
    AuditRow,
    DetentionRow,
    DetentionVersionRow,
    FindingRow,
    OutboxRow,
    QuarantineRow,
)

if TYPE_CHECKING:
    from custody_watch.config.model import RetentionSettings

# The kinds counted, in the order they are shown.
KINDS = (
    "detentions",
    "detention_versions",
    "alerts",
    "findings",
    "messages",
    "alert_notes",
    "quarantine",
    "access_log",
    "audit_log",
)


@dataclass(frozen=True, slots=True)
class Periods:
    released_detentions: timedelta
    quarantine: timedelta
    access_log: timedelta
    audit_log: timedelta
    batch: int = 1000

    @classmethod
    def of(cls, settings: RetentionSettings) -> Periods:
        """From ``[retention]``."""
        return cls(
            settings.released_detentions,
            settings.quarantine,
            settings.access_log,
            settings.audit_log,
            settings.batch,
        )


def _expired_detentions(periods: Periods, now: datetime) -> ColumnElement[bool]:
    live = exists().where(AlertRow.detention_id == DetentionRow.id, AlertRow.live_key.is_not(None))
    return (
        DetentionRow.released_time.is_not(None)
        & (DetentionRow.released_time < now - periods.released_detentions)
        & ~live
    )


def due(session: Session, periods: Periods, now: datetime) -> dict[str, int]:
    """How many rows of each kind a run at ``now`` would delete."""
    ids = select(DetentionRow.id).where(_expired_detentions(periods, now))
    alert_ids = select(AlertRow.id).where(AlertRow.detention_id.in_(ids))

    def count(query: Select[Any]) -> int:
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    return {
        "detentions": count(ids),
        "detention_versions": count(
            select(DetentionVersionRow.id).where(DetentionVersionRow.detention_id.in_(ids))
        ),
        "alerts": count(alert_ids),
        "findings": count(select(FindingRow.id).where(FindingRow.alert_id.in_(alert_ids))),
        "messages": count(select(OutboxRow.id).where(OutboxRow.alert_id.in_(alert_ids))),
        "alert_notes": count(select(AlertNoteRow.id).where(AlertNoteRow.alert_id.in_(alert_ids))),
        "quarantine": count(
            select(QuarantineRow.id).where(QuarantineRow.received_at < now - periods.quarantine)
        ),
        "access_log": count(select(AccessRow.id).where(AccessRow.at < now - periods.access_log)),
        "audit_log": count(select(AuditRow.id).where(AuditRow.at < now - periods.audit_log)),
    }


def run(
    sessions: sessionmaker[Session],
    periods: Periods,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
) -> dict[str, int]:
    """Delete everything past its period, ``periods.batch`` rows a transaction; one audit
    row with the counts at the end. Returns the counts."""
    counts = dict.fromkeys(KINDS, 0)
    while _detention_batch(sessions, periods, now, counts):
        pass
    for model, column, period, kind in (
        (QuarantineRow, QuarantineRow.received_at, periods.quarantine, "quarantine"),
        (AccessRow, AccessRow.at, periods.access_log, "access_log"),
        (AuditRow, AuditRow.at, periods.audit_log, "audit_log"),
    ):
        counts[kind] += _rows(sessions, model, column < now - period, periods)
    with sessions.begin() as session:
        audit.record(
            session,
            now,
            "retention",
            actor=actor,
            detail="deleted "
            + ", ".join(f"{counts[kind]} {kind}" for kind in KINDS)
            + f" (older than: detentions released {periods.released_detentions.days}d, "
            f"quarantine {periods.quarantine.days}d, access log {periods.access_log.days}d, "
            f"audit log {periods.audit_log.days}d)",
        )
    return counts


def _detention_batch(
    sessions: sessionmaker[Session], periods: Periods, now: datetime, counts: dict[str, int]
) -> bool:
    """Delete up to ``periods.batch`` expired detentions with what belongs to them; False
    when none was left."""
    with sessions.begin() as session:
        query = (
            select(DetentionRow.id)
            .where(_expired_detentions(periods, now))
            .order_by(DetentionRow.id)
            .limit(periods.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Rows another transaction is changing (a new version re-opening one) are left
            # for the next run; the condition is read again under the lock.
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return False
        alert_ids = list(session.scalars(select(AlertRow.id).where(AlertRow.detention_id.in_(ids))))
        done = {
            "alert_notes": _delete(session, AlertNoteRow, AlertNoteRow.alert_id, alert_ids),
            "findings": _delete(session, FindingRow, FindingRow.alert_id, alert_ids),
            "messages": _delete(session, OutboxRow, OutboxRow.alert_id, alert_ids),
            "alerts": _delete(session, AlertRow, AlertRow.id, alert_ids),
            "detention_versions": _delete(
                session, DetentionVersionRow, DetentionVersionRow.detention_id, ids
            ),
            "detentions": _delete(session, DetentionRow, DetentionRow.id, ids),
        }
    for kind, count in done.items():
        counts[kind] += count
    return len(ids) == periods.batch


def _delete(session: Session, model: type[Any], column: Any, ids: list[int], **options: Any) -> int:
    total = 0
    for start in range(0, len(ids), 500):  # bound the IN list (SQLite's variable limit)
        result = session.execute(
            delete(model)
            .where(column.in_(ids[start : start + 500]))
            .execution_options(synchronize_session=False, **options)
        )
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


def _rows(
    sessions: sessionmaker[Session],
    model: type[Any],
    expired: ColumnElement[bool],
    periods: Periods,
) -> int:
    """Delete ``model`` rows matching ``expired``, a batch a transaction."""
    total = 0
    while True:
        with sessions.begin() as session:
            ids = list(
                session.scalars(
                    select(model.id).where(expired).order_by(model.id).limit(periods.batch)
                )
            )
            if not ids:
                return total
            allow_retention_delete(session)
            # The marked DELETE: the append-only guard lets only this one through.
            total += _delete(session, model, model.id, ids, **{RETENTION: True})
        if len(ids) < periods.batch:
            return total
