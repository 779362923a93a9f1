"""The JSON API (login required: a session, the trusted header, or HTTP Basic), described by
``/openapi.json`` and ``/api/docs``. Alerts have the same shape as ``custody-watch alerts
--format json``; times are UTC with ``Z``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from custody_watch.alerts.report import alert_json, alert_rows
from custody_watch.store import detentions
from custody_watch.store.schema import AlertRow
from custody_watch.times import utc_z_or_none as z
from custody_watch.web.access_pages import consulted
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import User, api_user, page_user
from custody_watch.web.board import BoardEntry, board_entries, entry
from custody_watch.web.lookup import alert_by_id
from custody_watch.web.templating import render
from custody_watch.web.timeline import Event, alert_events, detention_timeline


class FindingOut(BaseModel):
    rule: str
    severity: str
    since: str | None
    detail: str


class NoteOut(BaseModel):
    at: str | None
    author: str
    text: str


class AlertOut(BaseModel):
    id: int
    custody_ref: str | None
    suite: str | None
    severity: str
    state: str
    ack_code: str
    opened_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    findings: list[FindingOut]
    summary: str
    opened_severity: str
    first_notified_at: str | None
    first_acknowledged_at: str | None
    escalation_level: int
    next_action_at: str | None
    snoozed_until: str | None = None
    snoozed_by: str | None = None
    snooze_reason: str | None = None
    assigned_to: str | None = None
    notes: list[NoteOut] = []


class AlertsOut(BaseModel):
    alerts: list[AlertOut]


class EventOut(BaseModel):
    at: str
    kind: str
    text: str
    actor: str | None


class AlertDetailOut(AlertOut):
    events: list[EventOut]


class DeadlineOut(BaseModel):
    at: str | None
    note: str


class AlertStateOut(BaseModel):
    id: int
    state: str
    severity: str
    ack_code: str
    acknowledged_by: str | None
    acknowledged_at: str | None


class DetentionOut(BaseModel):
    custody_ref: str
    suite: str
    force: str | None
    age: int | None
    legal_basis: str
    arrival_time: str
    held_minutes: int
    pace_limit: DeadlineOut
    next_review: DeadlineOut
    appropriate_adult: str
    findings: list[FindingOut]
    alert: AlertStateOut | None


class DetentionsOut(BaseModel):
    now: str
    detentions: list[DetentionOut]


class DetentionDetailOut(DetentionOut):
    in_custody: bool
    record: dict[str, Any]
    alerts: list[AlertOut]
    timeline: list[EventOut]


router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(api_user)])


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _events(events: list[Event]) -> list[EventOut]:
    return [EventOut(at=z(e.at) or "", kind=e.kind, text=e.text, actor=e.actor) for e in events]


def _detention(item: BoardEntry) -> dict[str, Any]:
    alert = item.alert
    return {
        "custody_ref": item.custody_ref,
        "suite": item.suite,
        "force": item.force,
        "age": item.age,
        "legal_basis": item.legal_basis,
        "arrival_time": z(item.arrival),
        "held_minutes": int(item.held.total_seconds() // 60),
        "pace_limit": DeadlineOut(at=z(item.pace_limit.at), note=item.pace_limit.note),
        "next_review": DeadlineOut(at=z(item.next_review.at), note=item.next_review.note),
        "appropriate_adult": item.appropriate_adult,
        "findings": [
            FindingOut(rule=f.rule, severity=f.severity.value, since=z(f.since), detail=f.detail)
            for f in item.findings
        ],
        "alert": None
        if alert is None
        else AlertStateOut(
            id=alert.id,
            state=alert.state,
            severity=alert.severity,
            ack_code=alert.ack_code,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=z(alert.acknowledged_at),
        ),
    }


@router.get("/alerts", summary="Open and acknowledged alerts (all=true: resolved too)")
def list_alerts(request: Request, all: bool = False) -> AlertsOut:
    with _web(request).sessions.begin() as session:
        items = [alert_json(session, alert) for alert in alert_rows(session, all)]
    return AlertsOut.model_validate({"alerts": items})


@router.get("/alerts/{alert_id}", summary="One alert with its findings, messages and events")
def get_alert(
    request: Request, alert_id: int, user: Annotated[User, Depends(api_user)]
) -> AlertDetailOut:
    with _web(request).sessions.begin() as session:
        alert = alert_by_id(session, alert_id)
        if alert is None:
            raise HTTPException(404, f"no alert {alert_id}")
        item = alert_json(session, alert)
        events = sorted(alert_events(session, [alert.id], None), key=lambda e: e.at)
        if alert.custody_ref is not None:  # a detention's alert timeline: part of its record
            consulted(session, request, user, alert.custody_ref, "api alert timeline")
    return AlertDetailOut.model_validate({**item, "events": _events(events)})


@router.get("/detentions", summary="Children in custody now, with their clocks and alerts")
def list_detentions(request: Request) -> DetentionsOut:
    web = _web(request)
    now = web.clock.now()
    with web.sessions.begin() as session:
        entries = board_entries(session, web.policy, now)
    return DetentionsOut.model_validate(
        {"now": z(now), "detentions": [_detention(item) for item in entries]}
    )


@router.get("/detentions/{custody_ref:path}", summary="One detention with its timeline")
def get_detention(
    request: Request, custody_ref: str, user: Annotated[User, Depends(api_user)]
) -> DetentionDetailOut:
    web = _web(request)
    now = web.clock.now()
    with web.sessions.begin() as session:
        row = detentions.by_ref(session, custody_ref)
        if row is None:
            raise HTTPException(404, f"no detention {custody_ref}")
        alerts = session.scalars(
            select(AlertRow).where(AlertRow.detention_id == row.id).order_by(AlertRow.id)
        ).all()
        live = next((a for a in alerts if a.live_key is not None), None)
        summary = _detention(entry(row, live, web.policy, now))
        record = {k: v for k, v in row.record.items() if k != "person_ref"}
        alert_items = [alert_json(session, a) for a in alerts]
        events = detention_timeline(session, row)
        consulted(session, request, user, row.custody_ref, "api record")
    return DetentionDetailOut.model_validate(
        {
            **summary,
            "in_custody": row.released_time is None or row.released_time > now,
            "record": record,
            "alerts": alert_items,
            "timeline": _events(events),
        }
    )


# The description itself, behind the same login.
docs = APIRouter(include_in_schema=False)


@docs.get("/openapi.json")
def openapi(request: Request, user: Annotated[User, Depends(api_user)]) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@docs.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
    spec = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", "")}
        for path, methods in spec.get("paths", {}).items()
        for method, op in methods.items()
    ]
    return render(request, "api_docs.html", user=user, title="JSON API", operations=operations)
