"""Signed acknowledgement links: ``GET /ack/<token>`` shows the alert and a button and never
acts (mail scanners and link previews follow links); ``POST /ack/<token>`` acknowledges as
the person the link was sent to.

The token is the credential (signed, naming alert and person, expiring after
``[web] ack_link_ttl``), so it also stands in for a CSRF token: a forged form cannot carry it
without already holding the link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from custody_watch.alerts.ack import acknowledge_alert
from custody_watch.alerts.links import AckLink, InvalidLink
from custody_watch.alerts.report import alert_json
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow
from custody_watch.web.context import WebContext
from custody_watch.web.templating import error_page, render

router = APIRouter(include_in_schema=False)


def _link(request: Request, token: str) -> AckLink | HTMLResponse:
    web: WebContext = request.app.state.web
    if web.links is None:
        return error_page(request, 404, "Links are off", "Acknowledgement links are not in use.")
    now = web.clock.now()
    try:
        link = web.links.read(token, now)
    except InvalidLink as exc:
        with web.sessions.begin() as session:
            audit.record(
                session,
                now,
                "ack_link_refused",
                actor=request.client.host if request.client else "unknown",
                detail=f"{exc} ({request.method})",
            )
        return error_page(
            request, 403, "Link not valid", f"{exc}. Reply ACK and the code to the SMS instead."
        )
    if link.person_id not in web.alert_ctx.directory.people:
        return error_page(
            request, 403, "Link not valid", "This link's person is no longer in the rota."
        )
    return link


@router.get("/ack/{token}", response_class=HTMLResponse)
def ack_page(request: Request, token: str) -> HTMLResponse:
    link = _link(request, token)
    if isinstance(link, HTMLResponse):
        return link
    web: WebContext = request.app.state.web
    with web.sessions.begin() as session:
        alert = session.get(AlertRow, link.alert_id)
        if alert is None:
            return error_page(request, 404, "No such alert", "This alert no longer exists.")
        item = alert_json(session, alert)
    return render(
        request,
        "ack.html",
        user=None,
        title=f"Acknowledge alert {item['ack_code']}",
        alert=item,
        person=web.alert_ctx.directory.people[link.person_id],
        expires=link.expires_at,
        result=None,
    )


@router.post("/ack/{token}", response_class=HTMLResponse)
def ack_confirm(request: Request, token: str) -> HTMLResponse:
    link = _link(request, token)
    if isinstance(link, HTMLResponse):
        return link
    web: WebContext = request.app.state.web
    now = web.clock.now()
    with web.sessions.begin() as session:
        alert = session.get(AlertRow, link.alert_id)
        if alert is None:
            return error_page(request, 404, "No such alert", "This alert no longer exists.")
        result = acknowledge_alert(
            session, alert, link.person_id, web.alert_ctx, web.renderer, now, via="link"
        )
        item = alert_json(session, alert)
    return render(
        request,
        "ack.html",
        user=None,
        status_code=200 if result.ok else 409,
        title=f"Alert {item['ack_code']}",
        alert=item,
        person=web.alert_ctx.directory.people[link.person_id],
        expires=link.expires_at,
        result=result,
    )
