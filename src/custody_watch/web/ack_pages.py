"""Signed acknowledgement links: ``GET /ack/<token>`` shows the alert and a button and never
acts (mail scanners and link previews follow links); ``POST /ack/<token>`` acknowledges as
the person the link was sent to.

The token is the credential (signed, naming alert, round and person, expiring after
``[web] ack_link_ttl``), so it also stands in for a CSRF token: a forged form cannot carry it
without already holding the link. A link works only in the escalation round it was sent for
(``alerts.ack_round``): after an acknowledgement, an ack timeout, a resolve or a re-raise it
is refused, both to look at and to act on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from custody_watch.alerts.ack import acknowledge_alert
from custody_watch.alerts.links import EARLIER_ROUND, AckLink, InvalidLink
from custody_watch.alerts.report import alert_json
from custody_watch.store import audit
from custody_watch.store.schema import AlertRow
from custody_watch.web.app_context import WebContext
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
    if link.person_id not in web.alerts.directory.people:
        return error_page(
            request, 403, "Link not valid", "This link's person is no longer in the rota."
        )
    return link


def _round_ended(
    request: Request, session: Session, link: AckLink, alert: AlertRow
) -> HTMLResponse | None:
    """The refusal page when the round the link was sent for is over, else None."""
    if alert.ack_round == link.ack_round:
        return None
    _refused(request, session, link, alert)
    return error_page(
        request, 403, "Link no longer valid", f"{EARLIER_ROUND[:1].upper()}{EARLIER_ROUND[1:]}."
    )


def _refused(request: Request, session: Session, link: AckLink, alert: AlertRow) -> None:
    web: WebContext = request.app.state.web
    audit.record(
        session,
        web.clock.now(),
        "ack_link_refused",
        actor=link.person_id,
        detail=(
            f"link for round {link.ack_round}, alert is in round {alert.ack_round} "
            f"({request.method})"
        ),
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )


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
        ended = _round_ended(request, session, link, alert)
        if ended is not None:
            return ended
        item = alert_json(session, alert)
    return render(
        request,
        "ack.html",
        user=None,
        title=f"Acknowledge alert {item['ack_code']}",
        alert=item,
        person=web.alerts.directory.people[link.person_id],
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
        ended = _round_ended(request, session, link, alert)
        if ended is not None:
            return ended
        result = acknowledge_alert(
            session,
            alert,
            link.person_id,
            web.alerts,
            now,
            via="link",
            ack_round=link.ack_round,
        )
        item = alert_json(session, alert)
    return render(
        request,
        "ack.html",
        user=None,
        status_code=200 if result.ok else 409,
        title=f"Alert {item['ack_code']}",
        alert=item,
        person=web.alerts.directory.people[link.person_id],
        expires=link.expires_at,
        result=result,
    )
