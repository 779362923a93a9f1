"""Pages behind the login: alerts (and acknowledging one), a detention's timeline,
quarantine, sources and who is on call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from custody_watch.alerts.ack import acknowledge_alert
from custody_watch.alerts.deps import Person
from custody_watch.alerts.report import alert_json, alert_rows
from custody_watch.domain import Severity
from custody_watch.domain.states import AlertState
from custody_watch.redact import redact_urls
from custody_watch.sources.freshness import freshness
from custody_watch.store import detentions
from custody_watch.store import sources as source_store
from custody_watch.store.schema import AlertRow, OutboxRow, QuarantineRow
from custody_watch.web.access_pages import consulted
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import User, auth_of, page_user, safe_next
from custody_watch.web.board import entry, ladder_label, paging
from custody_watch.web.lookup import alert_by_id
from custody_watch.web.templating import error_page, render
from custody_watch.web.timeline import alert_events, detention_timeline

router = APIRouter(include_in_schema=False)
PageUser = Annotated[User, Depends(page_user)]
SEVERITY_ORDER = {"critical": 0, "high": 1, "warning": 2, "info": 3}


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: PageUser, show: str = "live") -> HTMLResponse:
    web = _web(request)
    with web.sessions.begin() as session:
        rows = alert_rows(session, show == "all")
        items = [alert_json(session, alert) | {"ladder": ladder_label(alert)} for alert in rows]
    items.sort(
        key=lambda a: (
            a["state"] != AlertState.OPEN,
            SEVERITY_ORDER.get(a["severity"], 9),
            a["opened_at"],
        )
    )
    return render(
        request, "alerts.html", user=user, title="Alerts", alerts=items, show_all=show == "all"
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, user: PageUser, alert_id: int) -> HTMLResponse:
    web = _web(request)
    with web.sessions.begin() as session:
        alert = alert_by_id(session, alert_id)
        if alert is None:
            return error_page(request, 404, "No such alert", f"There is no alert {alert_id}.", user)
        item = alert_json(session, alert)
        events = sorted(alert_events(session, [alert.id], None), key=lambda e: e.at)
        if alert.custody_ref is not None:  # a detention's alert timeline: part of its record
            consulted(session, request, user, alert.custody_ref, "alert timeline")
        messages = session.scalars(
            select(OutboxRow).where(OutboxRow.alert_id == alert.id).order_by(OutboxRow.id)
        ).all()
        times = {
            key: getattr(alert, key)
            for key in ("opened_at", "acknowledged_at", "resolved_at", "next_action_at")
        }
        ladder = paging(alert, messages, web.clock.now()) if alert.live_key else None
    # The one to act on first: most severe, then the longest standing.
    findings = sorted(item["findings"], key=lambda f: (-Severity(f["severity"]).rank, f["since"]))
    return render(
        request,
        "alert.html",
        user=user,
        title=f"Alert {alert_id}",
        alert=item,
        findings=findings,
        times=times,
        paging=ladder,
        events=events,
        messages=messages,
    )


@router.post("/alerts/{alert_id}/ack")
def acknowledge(
    request: Request,
    user: PageUser,
    alert_id: int,
    csrf: Annotated[str, Form(max_length=128)] = "",
    back: Annotated[str, Form(max_length=2048)] = "/alerts",
) -> Response:
    web = _web(request)
    if not auth_of(request).csrf_ok(request, user, csrf):
        return error_page(
            request, 403, "Form expired", "Reload the page and acknowledge again.", user
        )
    if not user.can_ack:
        return error_page(
            request, 403, "Not allowed", "Only inspectors and admins acknowledge alerts.", user
        )
    now = web.clock.now()
    with web.sessions.begin() as session:
        alert = alert_by_id(session, alert_id)
        if alert is None:
            return error_page(request, 404, "No such alert", f"There is no alert {alert_id}.", user)
        result = acknowledge_alert(session, alert, user.actor, web.alerts, now, via="web")
    if not result.ok:
        return error_page(request, 409, "Not acknowledged", result.message, user)
    return RedirectResponse(safe_next(back, "/alerts"), status_code=303)


@router.get("/detentions/{custody_ref:path}", response_class=HTMLResponse)
def detention_page(request: Request, user: PageUser, custody_ref: str) -> HTMLResponse:
    web = _web(request)
    now = web.clock.now()
    with web.sessions.begin() as session:
        row = detentions.by_ref(session, custody_ref)
        if row is None:
            return error_page(
                request, 404, "No such detention", f"Nothing is known of {custody_ref}.", user
            )
        alerts = session.scalars(
            select(AlertRow).where(AlertRow.detention_id == row.id).order_by(AlertRow.id)
        ).all()
        live = next((a for a in alerts if a.live_key is not None), None)
        summary = entry(row, live, web.policy, now)
        events = detention_timeline(session, row)
        record = row.record
        in_custody = row.released_time is None or row.released_time > now
        consulted(session, request, user, row.custody_ref, "detention page")
    return render(
        request,
        "detention.html",
        user=user,
        title=custody_ref,
        d=summary,
        alerts=alerts,
        events=events,
        record=_shown_record(record),
        in_custody=in_custody,
    )


# Fields of the record not shown on the page (a person reference is enough to find them).
HIDDEN_FIELDS = frozenset({"person_ref"})


def _shown_record(record: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in record.items():
        if key in HIDDEN_FIELDS or value in (None, "", [], 0):
            continue
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        out.append((key.replace("_", " "), shown))
    return out


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(request: Request, user: PageUser) -> HTMLResponse:
    web = _web(request)
    with web.sessions.begin() as session:
        total = session.scalar(select(func.count()).select_from(QuarantineRow)) or 0
        rows = session.scalars(
            select(QuarantineRow)
            .order_by(QuarantineRow.received_at.desc(), QuarantineRow.id.desc())
            .limit(500)
        ).all()
    return render(
        request,
        "quarantine.html",
        user=user,
        title="Quarantine",
        rows=rows,
        total=total,
        show_raw=user.role == "admin",
    )


@dataclass(frozen=True, slots=True)
class SourceView:
    name: str
    kind: str
    configured: bool
    poll_every: timedelta | None
    stale_after: timedelta | None
    last_poll: datetime | None
    last_success: datetime | None
    lag: timedelta | None
    stale: bool
    status: str
    reason: str
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    rows_read: int
    rows_rejected: int


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, user: PageUser) -> HTMLResponse:
    web = _web(request)
    now = web.clock.now()
    with web.sessions.begin() as session:
        states = {s.name: s for s in source_store.all_states(session)}
    views = []
    for configured in web.settings.sources:
        state = states.pop(configured.name, None)
        fresh = freshness(state, configured, now)  # as the daemon's feed_stale judges
        last = fresh.last_heard
        views.append(
            SourceView(
                name=configured.name,
                kind=configured.kind,
                configured=True,
                poll_every=configured.poll_every,
                stale_after=configured.stale_after,
                last_poll=state.last_poll_at if state else None,
                last_success=last,
                lag=fresh.lag(now),
                stale=fresh.stale,
                status=str(fresh.status),
                reason=fresh.reason,
                failures=state.failures if state else 0,
                last_error=redact_urls(state.last_error) if state and state.last_error else None,
                last_error_at=state.last_error_at if state else None,
                rows_read=state.rows_read if state else 0,
                rows_rejected=state.rows_rejected if state else 0,
            )
        )
    for state in states.values():  # imports by hand, and sources since removed from config
        views.append(
            SourceView(
                name=state.name,
                kind=state.kind or "import",
                configured=False,
                poll_every=None,
                stale_after=None,
                last_poll=state.last_poll_at,
                last_success=state.last_success_at,
                lag=None,
                stale=False,
                status="not configured",
                reason="not polled by the daemon",
                failures=state.failures,
                last_error=redact_urls(state.last_error) if state.last_error else None,
                last_error_at=state.last_error_at,
                rows_read=state.rows_read,
                rows_rejected=state.rows_rejected,
            )
        )
    return render(request, "sources.html", user=user, title="Sources", sources=views)


@dataclass(frozen=True, slots=True)
class RoleView:
    role: str
    scope: str
    people: list[Person]


@router.get("/oncall", response_class=HTMLResponse)
def oncall_page(request: Request, user: PageUser) -> HTMLResponse:
    web = _web(request)
    now = web.clock.now()
    directory = web.alerts.directory
    rota = directory.rota
    scopes = sorted(
        {(s.suite, s.force) for s in rota.shifts}, key=lambda x: (x[0] or "", x[1] or "")
    )
    if (None, None) not in scopes:
        scopes.insert(0, (None, None))
    roles: list[RoleView] = []
    for role in sorted(rota.roles() | {"duty_inspector", "superintendent", "operations"}):
        for suite, force in scopes:
            if (suite, force) != (None, None) and not any(
                s.role == role and s.suite == suite and s.force == force for s in rota.shifts
            ):
                continue
            scope = " / ".join(x for x in (force, suite) if x) or "everywhere"
            ids = rota.on_call(role, now, suite=suite, force=force)
            people = [directory.people[i] for i in ids if i in directory.people]
            roles.append(RoleView(role, scope, people))
    shifts = [
        {
            "role": s.role,
            "person": s.person,
            "days": ", ".join(s.days) if s.days else "every day",
            "hours": f"{s.start:%H:%M}-{s.end:%H:%M}" if s.start and s.end else "all day",
            "scope": " / ".join(x for x in (s.force, s.suite) if x) or "everywhere",
            "override": s.is_override,
            "override_from": s.override_from,
            "override_until": s.override_until,
        }
        for s in rota.shifts
    ]
    return render(request, "oncall.html", user=user, title="On call", roles=roles, shifts=shifts)
