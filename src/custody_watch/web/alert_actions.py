"""Snooze, note, escalate-now and reassign from the alert page (forms with the session's CSRF
token, as acknowledging does) and from the JSON API (a JSON body; a cookie session must send
its CSRF token in ``X-CSRF-Token``, as must a trusted header's user; HTTP Basic needs none), and the
alerts as a CSV download. Each action is ``alerts.actions``: the same as the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from custody_watch.alerts import actions
from custody_watch.alerts.actions import ActionResult
from custody_watch.alerts.report import ALERT_CSV_HEADER, alert_csv_rows, alert_json, alert_rows
from custody_watch.store.schema import AlertRow
from custody_watch.times import TimeValueError, parse_duration
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import User, api_user, auth_of, page_user
from custody_watch.web.lookup import alert_by_id
from custody_watch.web.templating import error_page

Action = Callable[[Session, AlertRow, str, WebContext, datetime], ActionResult]
PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]

router = APIRouter()


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _run(request: Request, user: User, alert_id: int, action: Action) -> ActionResult | None:
    """None: no such alert. The action and its audit row commit together."""
    web = _web(request)
    now = web.clock.now()
    with web.sessions.begin() as session:
        alert = alert_by_id(session, alert_id)
        if alert is None:
            return None
        return action(session, alert, user.actor, web, now)


def snooze_action(length: str, reason: str) -> Action:
    def act(
        session: Session, alert: AlertRow, by: str, _web: WebContext, now: datetime
    ) -> ActionResult:
        try:
            span = parse_duration(length)
        except TimeValueError as exc:
            return ActionResult(False, f"for: {exc}", alert.id)
        return actions.snooze(session, alert, by, span, reason, now)

    return act


def note_action(text: str) -> Action:
    return lambda session, alert, by, _web, now: actions.add_note(session, alert, by, text, now)


def escalate_action() -> Action:
    return lambda session, alert, by, web, now: actions.escalate_now(
        session, alert, by, web.alerts, now
    )


def reassign_action(to: str) -> Action:
    return lambda session, alert, by, web, now: actions.reassign(
        session, alert, by, to.strip(), web.alerts, now
    )


# --- the alert page's forms ----------------------------------------------------------


def _form(
    request: Request, user: User, alert_id: int, csrf: str, action: Action, what: str
) -> Response:
    if not auth_of(request).csrf_ok(request, user, csrf):
        return error_page(request, 403, "Form expired", "Reload the page and try again.", user)
    if not user.can_ack:
        return error_page(
            request, 403, "Not allowed", f"Only inspectors and admins {what} alerts.", user
        )
    result = _run(request, user, alert_id, action)
    if result is None:
        return error_page(request, 404, "No such alert", f"There is no alert {alert_id}.", user)
    if not result.ok:
        return error_page(request, 409, "Not done", result.message, user)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


Csrf = Annotated[str, Form(max_length=128)]


@router.post("/alerts/{alert_id}/snooze")
def snooze_form(
    request: Request,
    user: PageUser,
    alert_id: int,
    reason: Annotated[str, Form(max_length=500)] = "",
    length: Annotated[str, Form(alias="for", max_length=16)] = "30m",
    csrf: Csrf = "",
) -> Response:
    return _form(request, user, alert_id, csrf, snooze_action(length, reason), "snooze")


@router.post("/alerts/{alert_id}/note")
def note_form(
    request: Request,
    user: PageUser,
    alert_id: int,
    text: Annotated[str, Form(max_length=actions.MAX_NOTE)] = "",
    csrf: Csrf = "",
) -> Response:
    return _form(request, user, alert_id, csrf, note_action(text), "add notes to")


@router.post("/alerts/{alert_id}/escalate")
def escalate_form(request: Request, user: PageUser, alert_id: int, csrf: Csrf = "") -> Response:
    return _form(request, user, alert_id, csrf, escalate_action(), "escalate")


@router.post("/alerts/{alert_id}/reassign")
def reassign_form(
    request: Request,
    user: PageUser,
    alert_id: int,
    to: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    return _form(request, user, alert_id, csrf, reassign_action(to), "reassign")


@router.get("/alerts.csv")
def alerts_csv(request: Request, user: PageUser, all: bool = False) -> Response:
    """The alerts page as a spreadsheet: the rows of ``alerts --format csv``."""
    with _web(request).sessions.begin() as session:
        data = [alert_json(session, alert) for alert in alert_rows(session, all)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ALERT_CSV_HEADER)
    writer.writerows(["" if v is None else v for v in row] for row in alert_csv_rows(data))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="alerts.csv"'},
    )


# --- the JSON API --------------------------------------------------------------------


class SnoozeIn(BaseModel):
    reason: str = Field(max_length=500)
    duration: str = Field(default="30m", max_length=16, description="e.g. 30m, at most 2h")


class NoteIn(BaseModel):
    text: str = Field(max_length=actions.MAX_NOTE)


class ReassignIn(BaseModel):
    to: str = Field(max_length=64, description="a person id from the config")


class ActionOut(BaseModel):
    ok: bool
    message: str
    alert_id: int


api = APIRouter(prefix="/api", tags=["api"])


def _api(request: Request, user: User, alert_id: int, action: Action) -> JSONResponse:
    if user.via in ("session", "header"):
        # A cookie rides along on any cross-site request, and a trusted proxy adds its user
        # header to whatever the browser sends: both must prove the page with its token.
        token = request.headers.get("x-csrf-token", "")
        if not auth_of(request).csrf_ok(request, user, token):
            raise HTTPException(403, "send the session's CSRF token in X-CSRF-Token")
    if not user.can_ack:
        raise HTTPException(403, "only inspectors and admins act on alerts")
    result = _run(request, user, alert_id, action)
    if result is None:
        raise HTTPException(404, f"no alert {alert_id}")
    body = ActionOut(ok=result.ok, message=result.message, alert_id=alert_id)
    return JSONResponse(body.model_dump(), status_code=200 if result.ok else 409)


@api.post("/alerts/{alert_id}/snooze", summary="Pause paging (at most 2h, with a reason)")
def snooze_api(request: Request, user: ApiUser, alert_id: int, body: SnoozeIn) -> JSONResponse:
    return _api(request, user, alert_id, snooze_action(body.duration, body.reason))


@api.post("/alerts/{alert_id}/notes", summary="Add a note (a handover)")
def note_api(request: Request, user: ApiUser, alert_id: int, body: NoteIn) -> JSONResponse:
    return _api(request, user, alert_id, note_action(body.text))


@api.post("/alerts/{alert_id}/escalate", summary="Escalate to the next level now")
def escalate_api(request: Request, user: ApiUser, alert_id: int) -> JSONResponse:
    return _api(request, user, alert_id, escalate_action())


@api.post("/alerts/{alert_id}/reassign", summary="Page this person instead of the rota")
def reassign_api(request: Request, user: ApiUser, alert_id: int, body: ReassignIn) -> JSONResponse:
    return _api(request, user, alert_id, reassign_action(body.to))
