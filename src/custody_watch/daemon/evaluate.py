"""Running the rules over detentions that are due and keeping their alerts in step.

Detentions are handled in chunks, one transaction each. If anything in a chunk fails, the
chunk is redone one detention at a time, so one bad record is set aside (and retried later)
without holding back the others.

A detention that cannot be evaluated in full is never a silent gap: operations (and the
duty inspector, who can check the child by hand) get a system alert
``evaluation_failed:<custody ref>`` at once, naming the ref, the rules that failed and the
error, but no personal data. The rules that still run for it still raise their findings; a
failing rule keeps the finding it last gave rather than clearing it. The alert clears when
the detention is next evaluated in full (a new version, a fixed rule, or its release)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle, system
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.lifecycle import Subject
from custody_watch.alerts.system import EVALUATION_FAILED, EvaluationGap
from custody_watch.daemon.runtime import Context
from custody_watch.domain import Finding, Severity
from custody_watch.rules import RuleFailure, assess
from custody_watch.rules.engine import NOT_ALERTED
from custody_watch.store import audit, detentions
from custody_watch.store.schema import DetentionRow, FindingRow

log = logging.getLogger(__name__)
CHUNK = 500
# A detention whose evaluation failed is tried again this soon (rules are deterministic,
# but a new version or a restart with a fix may have arrived), so its alert clears promptly.
RETRY_BROKEN = timedelta(minutes=5)
FAILED_RULE = EVALUATION_FAILED
ERROR_TEXT = 120  # of an error's message in an alert: enough to act on, short for SMS


def evaluate_due(
    ctx: Context, now: datetime, max_rounds: int = 1000, budget_seconds: float | None = None
) -> int:
    """Evaluate every detention due by ``now``; returns how many were evaluated.

    With ``budget_seconds``, stop starting new chunks once that much real time has gone: while
    a big feed is being stored, new detentions keep falling due, and a tick that evaluated
    them all would hold up escalation and sending for the whole ingest. What is left is
    still due and the next tick takes it up, earliest due first. One chunk always runs, so
    every tick makes progress."""
    done = 0
    started = time.monotonic()
    for _ in range(max_rounds):
        if budget_seconds is not None and done and time.monotonic() - started >= budget_seconds:
            log.info("evaluation budget spent after %d detentions; the next tick goes on", done)
            break
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
    subjects = [_subject(record.custody_ref) for record in due]
    failure_keys = [failure_key(record.custody_ref) for record in due]
    live = lifecycle.live_subjects(session, subjects + failure_keys)
    next_checks: list[tuple[detentions.DueRecord, datetime | None]] = []
    loaded = [(record, detentions.load_record(record.record)) for record in due]
    others = detentions.same_person_arrivals_of(
        session,
        [
            ask
            for _, d in loaded
            if (ask := detentions.same_person_ask(d, ctx.policy.repeat_detention.lookback, now))
        ],
    )
    for record, detention in loaded:
        evaluation = assess(
            detention,
            ctx.policy,
            now,
            same_person_arrivals=others.get(detention.custody_ref, ()),
        )
        # referral_missing is about a released child: evaluate and the digest show it,
        # no alert carries it (RULES.md, Precise reading 12).
        findings: Sequence[Finding] = [
            finding for finding in evaluation.findings if finding.rule not in NOT_ALERTED
        ]
        subject = _subject(record.custody_ref)
        if evaluation.failed and subject in live:
            findings = [*findings, *_kept(session, subject, evaluation.failed)]
        if findings or subject in live:
            _sync(session, ctx, record, findings, now)
        next_check = evaluation.next_change
        if evaluation.failed:
            retry = now + RETRY_BROKEN
            next_check = retry if next_check is None else min(next_check, retry)
            _raise_failure(session, ctx, record, _rules_failed(evaluation.failed), now)
        elif failure_key(record.custody_ref) in live:
            _clear_failure(session, ctx, record.custody_ref, now)
        next_checks.append((record, next_check))
    detentions.set_next_checks(session, next_checks)


def _evaluate_alone(ctx: Context, row_id: int, now: datetime) -> None:
    try:
        with ctx.sessions.begin() as session:
            _evaluate_chunk(session, ctx, detentions.due_records_by_id(session, [row_id]), now)
    except Exception as exc:
        log.exception("evaluating detention %s failed", row_id)
        _record_failure(ctx, row_id, exc, now)


def _record_failure(ctx: Context, row_id: int, exc: Exception, now: datetime) -> None:
    """Set the detention aside until ``RETRY_BROKEN`` and tell operations. Two transactions:
    the alert may fail for the same reason the evaluation did (a broken alert path, a
    database that has gone away), and setting the detention aside must not depend on it."""
    error = _error_text(exc)
    with ctx.sessions.begin() as session:
        detentions.set_next_check(session, row_id, now + RETRY_BROKEN)
        row = session.get(DetentionRow, row_id)
        record = (
            None
            if row is None
            else detentions.DueRecord(
                row.id,
                row.custody_ref,
                row.suite,
                row.force,
                row.released_time,
                row.record,
                row.last_changed_at,
            )
        )
        audit.record(
            session,
            now,
            FAILED_RULE,
            detail=f"{error}; retrying in {RETRY_BROKEN}",
            custody_ref=record.custody_ref if record else None,
        )
    if record is None:
        return
    try:
        with ctx.sessions.begin() as session:
            _raise_failure(session, ctx, record, f"no rule could run ({error})", now)
    except Exception:
        log.exception("the evaluation_failed alert for %s could not be raised", row_id)


failure_key = system.evaluation_failed_key


def _raise_failure(
    session: Session, ctx: Context, record: detentions.DueRecord, what: str, now: datetime
) -> None:
    """``evaluation_failed`` for the detention (``system.evaluation_failed``), with no
    personal data in what it says."""
    gap = EvaluationGap(record.custody_ref, record.suite, _redacted(what, record.record))
    raised = system.evaluation_failed(session, record.custody_ref, ctx.alerts, now, gap=gap)
    carry_out(session, raised, ctx.alerts, now)


def _clear_failure(session: Session, ctx: Context, custody_ref: str, now: datetime) -> None:
    cleared = system.evaluation_failed(session, custody_ref, ctx.alerts, now, gap=None)
    carry_out(session, cleared, ctx.alerts, now)


def _rules_failed(failed: Sequence[RuleFailure]) -> str:
    rules = ", ".join(f.rule for f in failed)
    errors = "; ".join(dict.fromkeys(f.error for f in failed))
    word = "rule" if len(failed) == 1 else "rules"
    return f"{word} {rules} failed ({_cut(errors)}); the other rules ran"


def _kept(session: Session, subject: str, failed: Sequence[RuleFailure]) -> list[Finding]:
    """The live findings of rules that failed now: a rule that cannot say whether its
    finding still holds must not clear it (nor lower the alert)."""
    alert = lifecycle.live_alert(session, subject)
    if alert is None:
        return []
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.alert_id == alert.id,
            FindingRow.rule.in_([f.rule for f in failed]),
            FindingRow.cleared_at.is_(None),
        )
    )
    return [
        Finding(alert.custody_ref or "", row.rule, Severity(row.severity), row.since, row.detail)
        for row in rows
    ]


def _error_text(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {_cut(lines[0])}" if lines else type(exc).__name__


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_TEXT else text[: ERROR_TEXT - 1] + "…"


# The record's personal fields (the contract has no name or address): an error's message
# could quote one, and a system alert goes by SMS.
_PERSONAL = ("person_ref", "date_of_birth")


def _redacted(text: str, record: dict[str, object]) -> str:
    for name in _PERSONAL:
        value = record.get(name)
        if isinstance(value, date):
            value = value.isoformat()
        if isinstance(value, str) and len(value) >= 3 and value in text:
            text = text.replace(value, f"<{name}>")
    return text


def _sync(
    session: Session,
    ctx: Context,
    record: detentions.DueRecord,
    findings: Sequence[Finding],
    now: datetime,
) -> None:
    released = record.released_time is not None and record.released_time <= now
    subject = Subject(
        _subject(record.custody_ref),
        detention_id=record.id,
        custody_ref=record.custody_ref,
        suite=record.suite,
        force=record.force,
    )
    cause = "released" if released else "all findings cleared"
    synced = lifecycle.sync(session, subject, findings, ctx.alerts, now, cause=cause)
    carry_out(session, synced, ctx.alerts, now)


def _subject(custody_ref: str) -> str:
    return f"detention:{custody_ref}"
