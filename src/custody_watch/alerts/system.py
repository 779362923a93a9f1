"""Alerts about custody-watch itself rather than a detention: a silent feed, a person who
could not be reached, a role with nobody on call. They have no custody ref; their rule is
their one finding. A monitor that goes silent must never look like a quiet night."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle
from custody_watch.alerts.context import AlertContext
from custody_watch.domain import Finding, Severity
from custody_watch.messages.render import Renderer
from custody_watch.store.schema import AlertRow
from custody_watch.times import format_local


def raise_system(
    session: Session,
    *,
    key: str,
    rule: str,
    severity: Severity,
    since: datetime,
    summary: str,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
    with_inspector: bool = True,
    detail: str | None = None,
) -> AlertRow | None:
    """Open or update the system alert ``key``. ``summary`` says what is wrong in a line;
    ``detail`` (the finding's text, default the summary) may say more, such as an error."""
    finding = Finding(
        custody_ref="",
        rule=rule,
        severity=severity,
        since=since,
        detail=summary if detail is None else detail,
    )
    return lifecycle.sync(
        session,
        subject=key,
        findings=[finding],
        ctx=ctx,
        renderer=renderer,
        now=now,
        summary=summary,
        ladders=ctx.system_ladders(with_inspector=with_inspector),
    )


def clear_system(
    session: Session, key: str, ctx: AlertContext, renderer: Renderer, now: datetime, cause: str
) -> None:
    lifecycle.sync(
        session, subject=key, findings=[], ctx=ctx, renderer=renderer, now=now, cause=cause
    )


def feed_stale(
    session: Session,
    source: str,
    silent_since: datetime,
    stale: bool,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
) -> None:
    key = f"feed_stale:{source}"
    if not stale:
        if lifecycle.live_alert(session, key) is not None:
            clear_system(session, key, ctx, renderer, now, f"source {source} is delivering again")
        return
    raise_system(
        session,
        key=key,
        rule="feed_stale",
        severity=Severity.HIGH,
        since=silent_since,
        summary=(
            f"source {source} has delivered nothing since {format_local(silent_since, ctx.zone)}"
        ),
        ctx=ctx,
        renderer=renderer,
        now=now,
    )


def nobody_on_call(
    session: Session,
    roles: Sequence[str],
    about: AlertRow,
    ctx: AlertContext,
    renderer: Renderer,
    now: datetime,
) -> None:
    """A level named a role that nobody holds now: operations must fix the rota."""
    for role in roles:
        key = f"nobody_on_call:{role}"
        if about.subject == key or lifecycle.live_alert(session, key) is not None:
            continue  # never page about paging about the same empty role
        raise_system(
            session,
            key=key,
            rule="nobody_on_call",
            severity=Severity.HIGH,
            since=now,
            summary=f"nobody is on call as {role} (needed for alert {about.ack_code})",
            ctx=ctx,
            renderer=renderer,
            now=now,
        )
