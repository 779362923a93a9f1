"""A detention's story in time order: versions received, custody events, findings,
notifications and acknowledgements, from what the store holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from custody_watch.domain import Detention
from custody_watch.messages.labels import rule_label
from custody_watch.store import detentions
from custody_watch.store.schema import (
    AlertRow,
    AuditRow,
    DetentionRow,
    DetentionVersionRow,
    FindingRow,
    OutboxRow,
)

EVENT_FIELDS = (
    ("arrest_time", "arrested"),
    ("arrival_time", "arrived at the custody suite"),
    ("relevant_time", "PACE relevant time"),
    ("detention_authorised_time", "detention authorised"),
    ("appropriate_adult_requested_time", "appropriate adult requested"),
    ("appropriate_adult_arrived_time", "appropriate adult arrived"),
    ("superintendent_extension_time", "superintendent's extension"),
    ("warrant_time", "warrant of further detention"),
    ("mha_extension_time", "MHA extension"),
    ("police_protection_start", "police protection began"),
    ("charged_time", "charged"),
    ("bail_refused_time", "bail refused"),
    ("la_accommodation_requested_time", "local authority accommodation requested"),
    ("s38_certificate_time", "s.38(6) certificate"),
    ("released_time", "released"),
)


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str  # version | custody | finding | notification | ack | audit
    text: str
    actor: str | None = None


def custody_events(detention: Detention) -> list[Event]:
    events = []
    for name, label in EVENT_FIELDS:
        at = getattr(detention, name)
        if at is None:
            continue
        if name == "released_time" and detention.release_reason is not None:
            label = f"released ({detention.release_reason.value})"
        events.append(Event(at, "custody", label))
    for n, review in enumerate(sorted(detention.reviews), start=1):
        events.append(Event(review, "custody", f"PACE review {n}"))
    return events


def _changed(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    keys = sorted(set(before) | set(after))
    return [key for key in keys if before.get(key) != after.get(key) and key != "updated_at"]


def detention_timeline(session: Session, row: DetentionRow) -> list[Event]:
    events = custody_events(detentions.load(row))
    previous: dict[str, Any] | None = None
    for version in session.scalars(
        select(DetentionVersionRow)
        .where(DetentionVersionRow.detention_id == row.id)
        .order_by(DetentionVersionRow.received_at, DetentionVersionRow.id)
    ):
        where = f"{version.source}: {version.batch} row {version.row}"
        if not version.became_current:
            text = f"older version received ({where}); kept for audit, not used"
        elif previous is None:
            text = f"first seen ({where})"
        else:
            changed = _changed(previous, version.record)
            text = f"record updated ({where}): {', '.join(changed) or 'no field changed'}"
        if version.became_current:
            previous = version.record
        events.append(Event(version.received_at, "version", text, version.source))
    alert_ids = list(session.scalars(select(AlertRow.id).where(AlertRow.detention_id == row.id)))
    events.extend(alert_events(session, alert_ids, row.custody_ref))
    events.sort(key=lambda e: (e.at, _ORDER.get(e.kind, 9)))
    return events


_ORDER = {"custody": 0, "version": 1, "finding": 2, "audit": 3, "ack": 3, "notification": 4}


def alert_events(session: Session, alert_ids: list[int], custody_ref: str | None) -> list[Event]:
    events: list[Event] = []
    if alert_ids:
        for finding in session.scalars(
            select(FindingRow).where(FindingRow.alert_id.in_(alert_ids)).order_by(FindingRow.id)
        ):
            events.append(
                Event(
                    finding.raised_at,
                    "finding",
                    f"{finding.severity}: {rule_label(finding.rule)} ({finding.detail})",
                )
            )
            if finding.cleared_at is not None:
                events.append(
                    Event(finding.cleared_at, "finding", f"cleared: {rule_label(finding.rule)}")
                )
        for message in session.scalars(
            select(OutboxRow).where(OutboxRow.alert_id.in_(alert_ids)).order_by(OutboxRow.id)
        ):
            status = message.state + (
                f", {message.provider_status}" if message.provider_status else ""
            )
            error = f"; {message.last_error}" if message.last_error else ""
            events.append(
                Event(
                    message.sent_at or message.created_at,
                    "notification",
                    f"{message.purpose} to {message.person_id} by {message.channel} "
                    f"({status}{error})",
                    message.person_id,
                )
            )
    conditions: list[ColumnElement[bool]] = []
    if alert_ids:
        conditions.append(AuditRow.alert_id.in_(alert_ids))
    if custody_ref:
        conditions.append(AuditRow.custody_ref == custody_ref)
    if conditions:
        for row in session.scalars(
            select(AuditRow).where(or_(*conditions)).order_by(AuditRow.at, AuditRow.id)
        ):
            if row.event in ("sent", "finding_raised", "finding_changed", "finding_cleared"):
                continue  # told better by the outbox and findings rows
            kind = "ack" if "ack" in row.event else "audit"
            events.append(
                Event(row.at, kind, f"{row.event.replace('_', ' ')}: {row.detail}", row.actor)
            )
    return events
