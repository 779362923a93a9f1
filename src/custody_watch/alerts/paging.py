"""Paging: turning a decided page or notice into outbox rows. Who (the ``Page`` names them),
where (the level's channels), what (rendered now, so the row is what will be sent), and the
same words made again at the moment of sending (``refresh``, ``bundle_as_of``).

A leaf of the alert side: it reads the alert and writes outbox rows and their audit
entries, and decides nothing about the alert itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custody_watch.alerts.deps import AlertDeps, Person
from custody_watch.alerts.fresh import Fresh, fresh_findings
from custody_watch.alerts.transition import Notice, Page
from custody_watch.messages.render import AlertView, Rendered, finding_lines, held_for
from custody_watch.rules.facts import age_of
from custody_watch.rules.policy import Policy
from custody_watch.store import audit, detentions, outbox
from custody_watch.store.schema import AlertRow, DetentionRow, FindingRow, OutboxRow
from custody_watch.times import format_local


@dataclass(frozen=True, slots=True)
class About:
    """What a message is (``notify``, ``acknowledged``, ``resolved``), why it is sent now,
    and what it is on the ladder ("REPEAT 2")."""

    purpose: str
    reason: str = ""
    marker: str = ""


@dataclass(frozen=True, slots=True)
class _Addressee:
    person: Person
    channel: str
    level: int | None  # the ladder level (0-based) a page is for; None for a notice


def view_of(
    session: Session, alert: AlertRow, about: About, deps: AlertDeps, now: datetime
) -> AlertView:
    """What messages about ``alert`` say as of ``now``: read once per step, then personalised
    for each recipient with ``for_person`` (only the ack link differs). Made again when each
    message is sent (``refresh``), so the held time and the details are the send's."""
    findings = session.scalars(
        select(FindingRow).where(FindingRow.alert_id == alert.id, FindingRow.cleared_at.is_(None))
    ).all()
    age: int | None = None
    arrival: datetime | None = None
    fresh: dict[str, Fresh] = {}
    if alert.detention_id is not None:
        row = session.get(DetentionRow, alert.detention_id)
        if row is not None:
            detention = detentions.load(row)
            age = age_of(detention, Policy(zone=deps.zone))
            in_custody = row.released_time is None or row.released_time > now
            arrival = row.arrival_time if in_custody else None
            if deps.rules is not None and in_custody:
                fresh = fresh_findings(detention, deps.rules, now, {f.rule for f in findings})
    return AlertView(
        alert_id=alert.id,
        purpose=about.purpose,
        severity=alert.severity,
        state=alert.state,
        ack_code=alert.ack_code,
        custody_ref=alert.custody_ref,
        suite=alert.suite,
        age=age,
        held_for=held_for(arrival, now),
        opened_at=format_local(alert.opened_at, deps.zone),
        findings=finding_lines(
            [
                (
                    f.rule,
                    f.severity,
                    f.since,
                    fresh[f.rule].detail if f.rule in fresh else f.detail,
                    fresh[f.rule].limit if f.rule in fresh else None,
                )
                for f in findings
            ],
            deps.zone,
            now,
        ),
        summary=alert.summary,
        acknowledged_by=alert.acknowledged_by,
        ack_url=None,
        level=max(alert.level, 0),
        reason=about.reason,
        marker=about.marker,
        as_of=format_local(now, deps.zone),
    )


def for_person(
    view: AlertView, person: Person, deps: AlertDeps, now: datetime, ack_round: int
) -> AlertView:
    if deps.ack_link is None:
        return view
    return replace(view, ack_url=deps.ack_link(view.alert_id, ack_round, person.id, now))


def page(session: Session, alert: AlertRow, decided: Page, deps: AlertDeps, now: datetime) -> None:
    """Queue the page to everyone ``decided`` names, on each of its level's channels, and
    record the step (who, or nobody)."""
    alert.step += 1
    people = decided.people
    if people:
        about = About(outbox.PAGE, decided.reason, decided.marker)
        view = view_of(session, alert, about, deps, now)
        for person in people:
            personal = for_person(view, person, deps, now, alert.ack_round)
            for channel in decided.level.channels:
                to = _Addressee(person, channel, decided.index)
                _queue_one(session, alert, to, personal, deps, now)
    if alert.first_notified_at is None and people:
        alert.first_notified_at = now
    audit.record(
        session,
        now,
        "escalation_step",
        detail=(
            f"level {decided.index + 1}: {', '.join(p.id for p in people) or 'nobody'}; "
            f"{decided.reason}"
        ),
        alert_id=alert.id,
        custody_ref=alert.custody_ref,
    )


def notify(
    session: Session, alert: AlertRow, notice: Notice, deps: AlertDeps, now: datetime
) -> None:
    """Queue a notice (acknowledged, resolved) to the (person, channel) pairs it names."""
    alert.step += 1
    pairs = list(dict.fromkeys(notice.told))
    if not pairs:
        return
    view = view_of(session, alert, About(notice.purpose, notice.reason), deps, now)
    for person_id, channel in pairs:
        person = deps.directory.people.get(person_id)
        if person is not None:
            personal = for_person(view, person, deps, now, alert.ack_round)
            _queue_one(session, alert, _Addressee(person, channel, None), personal, deps, now)


def _queue_one(
    session: Session,
    alert: AlertRow,
    to: _Addressee,
    view: AlertView,
    deps: AlertDeps,
    now: datetime,
) -> None:
    kind = deps.directory.channel_kinds.get(to.channel)
    address = to.person.address(kind) if kind else None
    if kind is None or address is None:
        audit.record(
            session,
            now,
            "no_address",
            detail=f"{to.person.id} has no address for channel {to.channel!r}",
            alert_id=alert.id,
            custody_ref=alert.custody_ref,
        )
        return
    message = deps.renderer.for_kind(kind, view)
    route = outbox.Route(
        dedupe_key=f"alert:{alert.id}:{alert.step}:{to.person.id}:{to.channel}",
        alert_id=alert.id,
        purpose=view.purpose,
        person_id=to.person.id,
        channel=to.channel,
        address=address,
        level=to.level,
    )
    row = outbox.pending(
        route, outbox.Body(message.subject, message.text, message.html), deps.max_attempts, now
    )
    if view.purpose == outbox.PAGE:
        # A page is made again when it is sent (``refresh``): this is what it needs then.
        row.render = {"reason": view.reason, "marker": view.marker, "round": alert.ack_round}
    session.add(row)


def view_for_row(
    session: Session, row: OutboxRow, deps: AlertDeps, now: datetime
) -> AlertView | None:
    """What the page in ``row`` says as of ``now`` (for its person, with its marker and
    reason); None when the row has nothing to make it from (see ``refresh``)."""
    if row.render is None or row.alert_id is None:
        return None
    alert = session.get(AlertRow, row.alert_id)
    person = deps.directory.people.get(row.person_id)
    if alert is None or person is None:
        return None
    about = About(row.purpose, str(row.render.get("reason", "")), str(row.render.get("marker", "")))
    view = view_of(session, alert, about, deps, now)
    return for_person(view, person, deps, now, int(row.render.get("round", alert.ack_round)))


def refresh(session: Session, row: OutboxRow, deps: AlertDeps, now: datetime) -> bool:
    """Make a claimed page again as of ``now``, the moment it is sent: the held time, the
    details and the limits are the send's, not the queueing's (a repeat sent 15 minutes on
    says 15 minutes more). The row keeps the text that went. False (the text written when
    the page was decided is sent) when the row has nothing to make it from."""
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    kind = deps.directory.channel_kinds.get(row.channel)
    if alert is None or kind is None or alert.detention_id is None:
        # A system alert's text (feed silent, someone unreachable) has no clock in it, and
        # its summary may have been reworded since for a later page: it goes as decided.
        return False
    view = view_for_row(session, row, deps, now)
    if view is None:
        return False
    message = deps.renderer.for_kind(kind, view)
    row.subject, row.body_text, row.body_html = message.subject, message.text, message.html
    return True


def bundle_as_of(
    session: Session, rows: Sequence[OutboxRow], deps: AlertDeps, now: datetime
) -> Rendered | None:
    """One message for pages about several alerts to one person on one channel (``rows``:
    one page an alert), each made as of ``now``; None when none has anything to make it
    from (the first page then goes as it was decided)."""
    views = [view for row in rows if (view := view_for_row(session, row, deps, now)) is not None]
    if not views:
        return None
    kind = deps.directory.channel_kinds.get(rows[0].channel, "any")
    return deps.renderer.bundle(kind, views)
