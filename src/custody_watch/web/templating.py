"""Server-rendered pages: one Jinja2 environment per app, with filters for local times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from custody_watch.messages.labels import rule_label
from custody_watch.messages.render import template_environment
from custody_watch.sources.freshness import Freshness, freshness
from custody_watch.store import sources as source_store
from custody_watch.times import (
    format_duration,
    format_local,
    format_relative,
    parse_instant,
    utc_z,
)
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import User, auth_of

NAV = (
    ("/", "Board"),
    ("/alerts", "Alerts"),
    ("/quarantine", "Quarantine"),
    ("/sources", "Sources"),
    ("/oncall", "On call"),
)
LEGAL_BASES = {
    "pace_arrest": "PACE arrest",
    "bail_return": "answering bail",
    "warrant": "warrant",
    "mha_s136": "MHA s.136",
    "mha_s135": "MHA s.135",
    "police_protection": "police protection",
    "other": "other",
}


def environment(web: WebContext) -> Environment:
    env = template_environment(web.templates)
    zone = web.zone

    def local(at: datetime | str | None, with_date: bool = True) -> str:
        if at is None or at == "":
            return "-"
        # JSON-shaped values (``alert_json``) carry UTC text; shown the same way.
        when = parse_instant(at) if isinstance(at, str) else at
        return format_local(when, zone, with_date=with_date)

    def duration(value: timedelta | None) -> str:
        return "-" if value is None else format_duration(value)

    def until(at: datetime | None) -> str:
        if at is None:
            return "-"
        left = at - web.clock.now()
        if left >= timedelta(0):
            return f"in {format_duration(left)}"
        return f"{format_duration(left)} overdue"

    def since(at: datetime | None) -> str:
        return "-" if at is None else format_duration(web.clock.now() - at)

    def ago(at: datetime | None) -> str:
        return "-" if at is None else format_relative(at, web.clock.now())

    env.filters["local"] = local
    env.filters["since"] = since
    env.filters["ago"] = ago
    env.filters["until"] = until
    env.filters["z"] = lambda at: "" if at is None else utc_z(at)
    env.filters["duration"] = duration
    env.filters["rule"] = rule_label
    env.filters["basis"] = lambda value: LEGAL_BASES.get(str(value), str(value))
    env.globals["nav"] = NAV
    return env


def render(
    request: Request,
    template: str,
    *,
    user: User | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    web: WebContext = request.app.state.web
    env: Environment = request.app.state.jinja
    now = web.clock.now()
    context: dict[str, Any] = {
        "user": user,
        "csrf": auth_of(request).csrf_token(request, user) if user else "",
        "now": now,
        "path": request.url.path,
        "title": "custody-watch",
        "zone_name": str(web.zone),
    }
    # Only for people logged in: the login page tells a stranger nothing about the feeds.
    context["stale_feeds"] = stale_feeds(web, now) if user is not None else []
    context.update(values)
    html = env.get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code)


def stale_feeds(web: WebContext, now: datetime) -> list[tuple[str, Freshness]]:
    """Every configured feed that is stale now, for the banner on every page: a monitor that
    has gone silent must never look like a quiet night. Judged by the same function as the
    daemon's ``feed_stale``."""
    with web.sessions() as session:
        states = {s.name: s for s in source_store.all_states(session)}
    judged = [(c.name, freshness(states.get(c.name), c, now)) for c in web.settings.sources]
    return [(name, fresh) for name, fresh in judged if fresh.stale]


def error_page(
    request: Request, status_code: int, title: str, message: str, user: User | None = None
) -> HTMLResponse:
    return render(
        request, "error.html", user=user, status_code=status_code, title=title, message=message
    )
