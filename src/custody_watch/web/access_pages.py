"""The access log on the web: ``GET /access-log`` (admins only) lists who consulted which
detention record, newest first, filtered like ``custody-watch access-log``; and
``consulted``, which the record's pages and API call to log each consultation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from custody_watch.store import access
from custody_watch.times import TimeValueError, parse_instant
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import User, client_address, page_user
from custody_watch.web.templating import error_page, render

router = APIRouter(include_in_schema=False)
PageUser = Annotated[User, Depends(page_user)]
SHOWN = 500  # the latest rows; the command line gives all of them


def consulted(session: Session, request: Request, user: User, custody_ref: str, what: str) -> None:
    """Log that ``user`` consulted ``custody_ref``'s record (in the caller's transaction, so
    the record is not shown unless the log row is written)."""
    web: WebContext = request.app.state.web
    access.record(
        session, web.clock.now(), user.username, custody_ref, what, client_address(request)
    )


@router.get("/access-log", response_class=HTMLResponse)
def access_log_page(
    request: Request,
    user: PageUser,
    ref: str = "",
    who: str = "",
    since: str = "",
) -> HTMLResponse:
    if user.role != "admin":
        return error_page(request, 403, "Not allowed", "Only admins see the access log.", user)
    web: WebContext = request.app.state.web
    start = None
    if since.strip():
        try:
            start = parse_instant(since.strip())
        except TimeValueError as exc:
            return error_page(request, 400, "Not a time", f"since: {exc}", user)
    with web.sessions() as session:
        rows = access.accesses(
            session,
            custody_ref=ref.strip() or None,
            actor=who.strip() or None,
            since=start,
            limit=SHOWN,
            newest_first=True,
        )
    return render(
        request,
        "access_log.html",
        user=user,
        title="Access log",
        rows=rows,
        shown=SHOWN,
        ref=ref,
        who=who,
        since=since,
    )
