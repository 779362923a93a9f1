"""``create_app(web)``: the FastAPI application, one per ``WebContext``.

Open without a login: ``/healthz`` (status and check names; details need a login),
``/metrics`` (unless ``[web] metrics_public = false`` or ``metrics_token_env`` is set), the
Twilio webhooks (signed), ``/ack/<token>`` (the token is the credential), ``/login`` and
``/static``. Everything else needs a login; ``/admin/...`` needs an admin."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from custody_watch.store import audit
from custody_watch.web import (
    access_pages,
    ack_pages,
    alert_actions,
    api,
    board,
    health,
    login,
    metrics,
    pages,
    twilio_hooks,
)
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import Auth, LoginRequired, SessionCookies
from custody_watch.web.security import BodyLimit, SecurityHeaders
from custody_watch.web.templating import environment

DESCRIPTION = (
    "Children in custody, their alerts and who acknowledged them. Log in with a session "
    "cookie (the login page), the configured trusted header, or HTTP Basic."
)


def create_app(web: WebContext) -> FastAPI:
    app = FastAPI(
        title="custody-watch",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # /api/docs instead: Swagger UI would load scripts from a CDN
        redoc_url=None,
        openapi_url=None,  # served by api.docs, behind the login
    )
    app.state.web = web
    app.state.auth = Auth(web)
    app.state.jinja = environment(web)
    app.state.registry = metrics.make_registry(web)
    # The last added runs first: security headers wrap everything, the body limit's 413
    # and 415 included, and no route sees a body before its size is known.
    app.add_middleware(SessionCookies)
    app.add_middleware(BodyLimit, on_refused=_audit_refused_webhook(web))
    app.add_middleware(SecurityHeaders, https=web.secure_cookies)
    app.mount("/static", StaticFiles(directory=web.templates / "static"), name="static")
    for router in (
        health.router,
        metrics.router_for(web.settings.web.metrics_public),
        twilio_hooks.router,
        ack_pages.router,
        login.router,
        board.router,
        alert_actions.router,
        pages.router,
        access_pages.router,
        alert_actions.api,
        api.router,
        api.docs,
    ):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    return app


def _audit_refused_webhook(web: WebContext) -> Callable[[str, str, str], None]:
    """A refused Twilio webhook is audited, as the webhooks audit every other refusal."""

    def refused(path: str, client: str, reason: str) -> None:
        if not path.startswith("/twilio/"):
            return
        with web.sessions.begin() as session:
            audit.record(
                session,
                web.clock.now(),
                "webhook_refused",
                actor=client[:64],
                detail=f"twilio {path.removeprefix('/twilio/')[:32]}: {reason}",
            )

    return refused
