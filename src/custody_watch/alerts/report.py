"""Alerts as data for people and programs: the ``alerts --format json`` shape (cli.md),
shared by the command line, the web pages and the JSON API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.domain.states import AlertState
from custody_watch.store.schema import AlertNoteRow, AlertRow, FindingRow
from custody_watch.times import utc_z_or_none as z


def alert_rows(session: Session, show_all: bool) -> list[AlertRow]:
    query = select(AlertRow).order_by(AlertRow.id)
    if not show_all:
        query = query.where(AlertRow.state != AlertState.RESOLVED)
    return list(session.scalars(query))


def alert_json(session: Session, alert: AlertRow) -> dict[str, Any]:
    findings = session.scalars(
        select(FindingRow).where(FindingRow.alert_id == alert.id).order_by(FindingRow.id)
    ).all()
    if alert.state == AlertState.RESOLVED:
        # What it was about when it resolved: the findings cleared with it.
        shown = [f for f in findings if f.cleared_at == alert.resolved_at] or list(findings)
    else:
        shown = [f for f in findings if f.cleared_at is None]
    return {
        "id": alert.id,
        "custody_ref": alert.custody_ref,
        "suite": alert.suite,
        "severity": alert.severity,
        "state": alert.state,
        "ack_code": alert.ack_code,
        "opened_at": z(alert.opened_at),
        "acknowledged_at": z(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": z(alert.resolved_at),
        "findings": [
            {"rule": f.rule, "severity": f.severity, "since": z(f.since), "detail": f.detail}
            for f in shown
        ],
        "summary": alert.summary,
        "opened_severity": alert.opened_severity,
        "first_notified_at": z(alert.first_notified_at),
        "first_acknowledged_at": z(alert.first_acknowledged_at),
        "escalation_level": max(alert.level, -1) + 1,
        "next_action_at": z(alert.next_action_at),
        # Snooze, reassignment and handover notes (``alerts.actions``).
        "snoozed_until": z(alert.snoozed_until),
        "snoozed_by": alert.snoozed_by,
        "snooze_reason": alert.snooze_reason,
        "assigned_to": alert.assigned_to,
        "notes": [
            {"at": z(n.at), "author": n.author, "text": n.text}
            for n in session.scalars(
                select(AlertNoteRow)
                .where(AlertNoteRow.alert_id == alert.id)
                .order_by(AlertNoteRow.at, AlertNoteRow.id)
            )
        ],
    }


# ``alerts --format csv`` and the alerts page's CSV download: one row an alert, the JSON's
# fields (findings as "rule:severity" joined by "; "), times UTC with Z.
ALERT_CSV_HEADER = (
    "id",
    "custody_ref",
    "suite",
    "severity",
    "state",
    "ack_code",
    "opened_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "escalation_level",
    "next_action_at",
    "findings",
    "summary",
)


def alert_csv_rows(data: list[dict[str, Any]]) -> list[list[object]]:
    return [
        [
            *(item[name] for name in ALERT_CSV_HEADER[:-2]),
            "; ".join(f"{f['rule']}:{f['severity']}" for f in item["findings"]),
            item["summary"],
        ]
        for item in data
    ]
