"""Logging in and out, and an admin's page of live sessions (``/admin/sessions``) with a
button that ends one user's or everyone's. Every form is CSRF-checked like every other."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custody_watch.store import audit, web_sessions
from custody_watch.store.users import end_sessions, find_user
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import (
    User,
    admin_user,
    auth_of,
    client_address,
    safe_next,
)
from custody_watch.web.templating import error_page, render

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[User, Depends(admin_user)]


def _form(
    request: Request,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    auth = auth_of(request)
    form = auth.read_login_form(request) or auth.new_login_form()
    response = render(
        request,
        "login.html",
        user=None,
        status_code=status_code,
        title="Log in",
        csrf=auth.login_csrf(form),
        next=safe_next(next_path),
        error=error,
    )
    response.headers.update(headers or {})
    auth.set_login_cookie(response, form)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    if auth_of(request).current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    auth = auth_of(request)
    form = auth.read_login_form(request)
    if form is None or not hmac.compare_digest(auth.login_csrf(form).encode(), csrf.encode()):
        return _form(request, next, "This form had expired. Please try again.", 403)
    try:
        user = auth.check_login(username.strip(), password, client_address(request))
    except HTTPException as exc:
        return _form(request, next, str(exc.detail), exc.status_code, exc.headers)
    if user is None:
        return _form(request, next, "Wrong user name or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    # A new session, never one the browser brought (no fixation); the old one ends.
    auth.end_session(request, web_sessions.LOGOUT)
    auth.set_session_cookie(response, auth.start_session(request, user.username))
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    auth = auth_of(request)
    user = auth.current_user(request)
    response = RedirectResponse("/login", status_code=303)
    if user is None:
        auth.clear_cookie(response)
        return response
    if not auth.csrf_ok(request, user, csrf):
        return error_page(request, 403, "Form expired", "Reload the page and try again.", user)
    auth.end_session(request, web_sessions.LOGOUT)
    web: WebContext = request.app.state.web
    with web.sessions.begin() as db:
        audit.record(db, web.clock.now(), "logout", actor=user.username)
    auth.clear_cookie(response)
    return response


@router.get("/admin/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, user: AdminUser, ended: int | None = None) -> HTMLResponse:
    web: WebContext = request.app.state.web
    now = web.clock.now()
    with web.sessions.begin() as db:
        rows = web_sessions.live(db, now, web.settings.web.session_idle_timeout)
        items = [
            {
                "username": row.username,
                "created_at": row.created_at,
                "last_seen_at": row.last_seen_at,
                "expires_at": min(
                    row.expires_at, row.last_seen_at + web.settings.web.session_idle_timeout
                ),
                "address": row.address or "-",
            }
            for row in rows
        ]
    return render(
        request,
        "admin_sessions.html",
        user=user,
        title="Sessions",
        sessions=items,
        users=sorted({item["username"] for item in items}),
        ended=ended,
    )


@router.post("/admin/sessions/end")
def end_sessions_action(
    request: Request,
    user: AdminUser,
    csrf: Annotated[str, Form(max_length=128)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """End one user's sessions (``username``) or, with none named, everyone's: the admin's
    own included, who then logs in again."""
    web: WebContext = request.app.state.web
    auth = auth_of(request)
    if not auth.csrf_ok(request, user, csrf):
        return error_page(request, 403, "Form expired", "Reload the page and try again.", user)
    name = username.strip() or None
    with web.sessions.begin() as db:
        if name is not None and find_user(db, name) is None:
            return error_page(request, 404, "No such user", f"There is no user {name!r}.", user)
        ended = end_sessions(db, name, web.clock.now(), actor=user.username)
    return RedirectResponse(f"/admin/sessions?ended={ended}", status_code=303)
