"""``create_app(web)``: the FastAPI application, one per ``WebContext``.

Open without a login: ``/healthz``, ``/metrics`` (unless ``[web] metrics_public = false``),
the Twilio webhooks (signed), ``/ack/<token>`` (the token is the credential), ``/login``
and ``/static``. Everything else needs a login."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from custody_watch.web import ack_pages, api, board, health, login, metrics, pages, twilio_hooks
from custody_watch.web.auth import Auth, LoginRequired
from custody_watch.web.context import WebContext
from custody_watch.web.security import SecurityHeaders
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
    app.add_middleware(SecurityHeaders, https=web.secure_cookies)
    app.mount("/static", StaticFiles(directory=web.templates / "static"), name="static")
    for router in (
        health.router,
        metrics.router_for(web.settings.web.metrics_public),
        twilio_hooks.router,
        ack_pages.router,
        login.router,
        board.router,
        pages.router,
        api.router,
        api.docs,
    ):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    return app
