"""Logging in and out. Both forms are CSRF-checked like every other form."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custody_watch.store import audit
from custody_watch.web.auth import auth_of, client_address, safe_next
from custody_watch.web.templating import error_page, render

router = APIRouter(include_in_schema=False)


def _form(
    request: Request, next_path: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    auth = auth_of(request)
    session = auth.read_session(request) or auth.new_session(None)
    response = render(
        request,
        "login.html",
        user=None,
        status_code=status_code,
        title="Log in",
        csrf=auth.csrf_for(session.nonce),
        next=safe_next(next_path),
        error=error,
    )
    auth.set_cookie(response, session)
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
    session = auth.read_session(request)
    if session is None or not hmac.compare_digest(auth.csrf_for(session.nonce), csrf):
        return _form(request, next, "This form had expired. Please try again.", 403)
    try:
        user = auth.check_login(username.strip(), password, client_address(request))
    except HTTPException as exc:
        return _form(request, next, str(exc.detail), exc.status_code)
    if user is None:
        return _form(request, next, "Wrong user name or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.set_cookie(response, auth.new_session(user.username))  # a new nonce: no fixation
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    auth = auth_of(request)
    user = auth.current_user(request)
    response = RedirectResponse("/login", status_code=303)
    if user is None:
        return response
    if not auth.csrf_ok(request, user, csrf):
        return error_page(request, 403, "Form expired", "Reload the page and try again.", user)
    web = request.app.state.web
    with web.sessions.begin() as db:
        audit.record(db, web.clock.now(), "logout", actor=user.username)
    auth.clear_cookie(response)
    return response
