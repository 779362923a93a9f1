"""``/healthz``: the database, every source's freshness, the outbox, and the scheduler's
heartbeat, jobs and channels.

Unhealthy (503) also when: any channel has failed its last ``[daemon]
channel_failures_unhealthy`` tries; the outbox has rows overdue by more than a minute; the
store's last successful write by this daemon is older than two ticks (read-only or locked
store); or a tick has been running for more than two ticks (a hung statement).

200 ``{"status": "ok", ...}`` when all is well, 503 ``{"status": "degraded", "problems":
[...]}`` otherwise (shared/spec/cli.md, "HTTP"). Open to anyone (load balancers and
monitors), so without a login it gives the status and the names of the checks only
(``"checks"``, and each problem as its check's name): a source's error, its URL, ages and
beats are for a logged-in user, who gets one plain sentence per problem and the details."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from custody_watch.config.model import Source as SourceSettings
from custody_watch.domain.states import OutboxState
from custody_watch.redact import redact_urls
from custody_watch.sources.freshness import freshness
from custody_watch.store import sources as source_store
from custody_watch.store.schema import OutboxRow, SourceStateRow
from custody_watch.times import format_duration, utc_z
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import auth_of

# A message due this long ago and not sent is overdue: something is stuck.
OVERDUE_AFTER = timedelta(minutes=1)


def health_report(web: WebContext) -> tuple[bool, dict[str, Any]]:
    """Healthy or not, and the report: the database, then through it the outbox and every
    source, then the scheduler. Each check adds its entry and its problems."""
    now = web.clock.now()
    problems: list[str] = []
    report: dict[str, Any] = {"now": utc_z(now)}
    read = _read_store(web, now, problems)
    report["database"] = "ok" if read is not None else "unreachable"
    if read is not None:
        states, overdue = read
        report["outbox"] = _outbox_entry(overdue, problems)
        report["sources"] = {
            configured.name: _source_entry(configured, states.get(configured.name), now, problems)
            for configured in web.settings.sources
        }
    report["scheduler"] = _scheduler_entry(web, problems)
    if problems:
        return False, {"status": "degraded", "problems": problems, **report}
    return True, {"status": "ok", **report}


def _read_store(
    web: WebContext, now: datetime, problems: list[str]
) -> tuple[dict[str, SourceStateRow], int] | None:
    """Each source's state and the overdue messages; None when the database cannot say."""
    try:
        with web.sessions.begin() as session:
            session.execute(text("SELECT 1"))
            states = {state.name: state for state in source_store.all_states(session)}
            return states, overdue_messages(session, now)
    except Exception as exc:  # any driver error means the same thing here
        problems.append(f"database: {_first_line(exc)}")
        return None


def _outbox_entry(overdue: int, problems: list[str]) -> dict[str, Any]:
    if overdue:
        problems.append(
            f"outbox: {overdue} messages overdue by more than {format_duration(OVERDUE_AFTER)}"
        )
    return {"overdue": overdue}


def _source_entry(
    configured: SourceSettings, state: SourceStateRow | None, now: datetime, problems: list[str]
) -> dict[str, Any]:
    fresh = freshness(state, configured, now)  # as the daemon's feed_stale judges
    last, behind = fresh.last_heard, fresh.lag(now)
    entry: dict[str, Any] = {
        "last_success": utc_z(last) if last else None,
        "lag_seconds": None if behind is None else int(behind.total_seconds()),
        "failures": state.failures if state else 0,
        # Rows kept before errors were redacted at the source may still quote a URL.
        "last_error": redact_urls(state.last_error) if state and state.last_error else None,
    }
    if fresh.stale:
        entry["status"] = "stale"
        problems.append(
            f"source {configured.name}: stale, {fresh.reason}"
            + (
                f" (last error: {redact_urls(state.last_error)})"
                if state and state.last_error
                else ""
            )
        )
    elif last is None:
        entry["status"] = "never read"
        problems.append(f"source {configured.name}: never read successfully")
    else:
        entry["status"] = "ok"
    return entry


def _scheduler_entry(web: WebContext, problems: list[str]) -> dict[str, Any]:
    if web.heartbeat is None:
        return {"status": "not in this process"}
    beat = web.heartbeat.read()
    problem = web.heartbeat.problem()
    entry: dict[str, Any] = {
        "status": "ok" if problem is None else "stale",
        "last_cycle": utc_z(beat.last_at) if beat.last_at else None,
        "last_cycle_seconds": beat.last_duration,
        "seconds_since": None if beat.age is None else round(beat.age, 1),
    }
    if problem:
        problems.append(problem)
    daemon = web.heartbeat.daemon_problems(web.settings.daemon.channel_failures_unhealthy)
    if daemon:
        entry["status"] = "degraded"
        problems.extend(daemon)
    return entry


def overdue_messages(session: Session, now: datetime) -> int:
    """Messages due more than a minute ago and not sent: pending past their due time, or
    held by a claim that lapsed that long ago."""
    late = now - OVERDUE_AFTER
    count = session.scalar(
        select(func.count(OutboxRow.id)).where(
            or_(
                and_(OutboxRow.state == OutboxState.PENDING, OutboxRow.due_at < late),
                and_(OutboxRow.state == OutboxState.SENDING, OutboxRow.lease_until < late),
            )
        )
    )
    return int(count or 0)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def public_report(web: WebContext, ok: bool, body: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see: the status and each check's name with ok or failing. A problem
    is named by its check, the text before its first colon ("source suite-a: stale, ..."
    is the check "source suite-a"); what follows may quote an error and stays private."""
    failing = [str(problem).split(":", 1)[0].strip() for problem in body.get("problems", [])]
    names = ["database", "outbox", *(f"source {s.name}" for s in web.settings.sources)]
    names.append("scheduler")
    checks = {name: "ok" for name in names}
    checks.update(dict.fromkeys(failing, "failing"))
    if ok:
        return {"status": "ok", "checks": checks}
    return {"status": "degraded", "problems": list(dict.fromkeys(failing)), "checks": checks}


router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    web: WebContext = request.app.state.web
    ok, body = health_report(web)
    if auth_of(request).current_user(request, allow_basic=True) is None:
        body = public_report(web, ok, body)
    return JSONResponse(body, status_code=200 if ok else 503)
