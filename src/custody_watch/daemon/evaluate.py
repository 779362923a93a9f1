"""Running the rules over detentions that are due and keeping their alerts in step.

Detentions are handled in chunks, one transaction each. If anything in a chunk fails, the
chunk is redone one detention at a time, so one bad record is set aside (and retried later)
without holding back the others."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle
from custody_watch.daemon.context import Context
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
        with ctx.sessions() as session:
            ids = [row.id for row in detentions.due(session, now, CHUNK)]
        if not ids:
            break
        try:
            with ctx.sessions.begin() as session:
                for row_id in ids:
                    _evaluate_one(session, ctx, row_id, now)
        except Exception:
            log.exception("evaluating a chunk failed; retrying one by one")
            for row_id in ids:
                _evaluate_alone(ctx, row_id, now)
        done += len(ids)
    return done


def _evaluate_alone(ctx: Context, row_id: int, now: datetime) -> None:
    try:
        with ctx.sessions.begin() as session:
            _evaluate_one(session, ctx, row_id, now)
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


def _evaluate_one(session: Session, ctx: Context, row_id: int, now: datetime) -> None:
    row = session.get(DetentionRow, row_id)
    if row is None:
        return
    evaluation = assess(detentions.load(row), ctx.policy, now)
    lifecycle.sync(
        session,
        subject=f"detention:{row.custody_ref}",
        findings=evaluation.findings,
        ctx=ctx.alert_ctx,
        renderer=ctx.renderer,
        now=now,
        detention_id=row.id,
        custody_ref=row.custody_ref,
        suite=row.suite,
        force=row.force,
        cause="all findings cleared"
        if row.released_time is None or row.released_time > now
        else "released",
    )
    row.next_check_at = evaluation.next_change
