"""Running the rules over detentions that are due and keeping their alerts in step.

Detentions are handled in chunks, one transaction each. If anything in a chunk fails, the
chunk is redone one detention at a time, so one bad record is set aside (and retried later)
without holding back the others."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle
from custody_watch.daemon.context import Context
from custody_watch.domain import Finding
from custody_watch.rules import assess
from custody_watch.store import audit, detentions
from custody_watch.store.schema import DetentionRow

log = logging.getLogger(__name__)
CHUNK = 500
RETRY_BROKEN = timedelta(minutes=5)


def evaluate_due(ctx: Context, now: datetime, max_rounds: int = 1000) -> int:
    """Evaluate every detention due by ``now``; returns how many were evaluated."""
    done = 0
    for _ in range(max_rounds):
        ids: list[int] = []
        try:
            with ctx.sessions.begin() as session:
                due = detentions.due_records(session, now, CHUNK)
                ids = [record.id for record in due]
                _evaluate_chunk(session, ctx, due, now)
        except Exception:
            if not ids:
                raise
            log.exception("evaluating a chunk failed; retrying one by one")
            for row_id in ids:
                _evaluate_alone(ctx, row_id, now)
        if not ids:
            break
        done += len(ids)
    return done


def _evaluate_chunk(
    session: Session, ctx: Context, due: Sequence[detentions.DueRecord], now: datetime
) -> None:
    """One chunk in one transaction. Most detentions (adults, quiet children) have no
    findings and no alert: for them it costs the rules and one row in a bulk update."""
    live = lifecycle.live_subjects(session, [_subject(record.custody_ref) for record in due])
    next_checks = []
    for record in due:
        evaluation = assess(detentions.load_record(record.record), ctx.policy, now)
        if evaluation.findings or _subject(record.custody_ref) in live:
            _sync(session, ctx, record, evaluation.findings, now)
        next_checks.append({"id": record.id, "next_check_at": evaluation.next_change})
    detentions.set_next_checks(session, next_checks)


def _evaluate_alone(ctx: Context, row_id: int, now: datetime) -> None:
    try:
        with ctx.sessions.begin() as session:
            _evaluate_chunk(session, ctx, detentions.due_records_by_id(session, [row_id]), now)
    except Exception as exc:
        log.exception("evaluating detention %s failed", row_id)
        with ctx.sessions.begin() as session:
            detentions.set_next_check(session, row_id, now + RETRY_BROKEN)
            row = session.get(DetentionRow, row_id)
            audit.record(
                session,
                now,
                "evaluation_failed",
                detail=f"{exc!r}; retrying in {RETRY_BROKEN}",
                custody_ref=row.custody_ref if row else None,
            )


def _sync(
    session: Session,
    ctx: Context,
    record: detentions.DueRecord,
    findings: Sequence[Finding],
    now: datetime,
) -> None:
    released = record.released_time is not None and record.released_time <= now
    lifecycle.sync(
        session,
        subject=_subject(record.custody_ref),
        findings=findings,
        ctx=ctx.alert_ctx,
        renderer=ctx.renderer,
        now=now,
        detention_id=record.id,
        custody_ref=record.custody_ref,
        suite=record.suite,
        force=record.force,
        cause="released" if released else "all findings cleared",
    )


def _subject(custody_ref: str) -> str:
    return f"detention:{custody_ref}"
