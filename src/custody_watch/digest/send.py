"""Building the digest and sending it once a day, exactly once, however many daemons run.

The ``digests`` table holds one row per date (``day`` is UNIQUE). A daemon that finds a
digest due claims it by inserting that row (``claimed``, with a lease); a second daemon's
insert fails on the unique date, so it does nothing. A claim whose lease ran out (its daemon
died mid-send) or a ``failed`` send whose retry time has come is taken over by a conditional
UPDATE that only one daemon can win. The winner builds the digest, sends it to each recipient
(their channels in order, email first, until one takes it) and marks the row ``sent``.

Which dates are due: the latest date whose ``[digest] at`` has passed, and, when days were
missed (no daemon ran at ``at``), each date after the last one in the table, at most
``MAX_DAYS`` back. A digest sent more than ``LATE_AFTER`` after it was due says that it is
late.

A fresh database (no row yet) has missed nothing: its latest due date is sent only when it is
still on time; otherwise that date is marked ``skipped`` (nothing sent) so that later misses
are recognised, and the first digest goes out at the next ``at``. A new install started at
10:00 therefore does not mail yesterday's digest."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.clock import Clock
from custody_watch.config import Settings, rules_policy
from custody_watch.config.model import Person
from custody_watch.notify.base import Channel, DeliveryError, Message, address_for
from custody_watch.rules.policy import Policy
from custody_watch.store import access, audit
from custody_watch.store.schema import DigestRow

from .charts import Chart
from .charts import charts as draw_charts
from .collect import collect_for_day
from .figures import digest_figures
from .render import DigestRenderer, RenderedDigest, late_note
from .review_chart import case_review_chart
from .window import Window, digest_window, due_instant, latest_due_day

log = logging.getLogger(__name__)

# Renewed by the daemon's heartbeat while the digest is being built and sent, so a short
# lease is enough and a dead daemon's claim lapses within it (it was 10 minutes: a takeover
# after kill -9 took 11). A restarted daemon releases its own claim at once.
LEASE = timedelta(seconds=20)
RETRY_AFTER = timedelta(minutes=15)
LATE_AFTER = timedelta(hours=1)
MAX_DAYS = 7


@dataclass(frozen=True, slots=True)
class Attempt:
    person_id: str
    channel: str
    address: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Who got the digest (one attempt each that worked) and every attempt that failed."""

    reached: tuple[Attempt, ...] = ()
    failed: tuple[Attempt, ...] = ()
    unreachable: tuple[str, ...] = ()  # recipients no channel could take

    def summary(self) -> str:
        parts = [f"to {a.person_id} by {a.channel}" for a in self.reached]
        parts += [f"{a.person_id} by {a.channel} failed: {a.error}" for a in self.failed]
        parts += [f"{p} not reached" for p in self.unreachable]
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class BuiltDigest:
    day: date
    figures: dict[str, Any]
    rendered: RenderedDigest


@dataclass(frozen=True, slots=True)
class Outcome:
    day: date
    state: str  # sent | failed
    late: bool
    delivery: Delivery = field(default_factory=Delivery)


def build_digest(
    session: Session,
    settings: Settings,
    day: date,
    now: datetime,
    *,
    policy: Policy | None = None,
    renderer: DigestRenderer | None = None,
    late: str | None = None,
    with_charts: bool = True,
) -> BuiltDigest:
    """The digest dated ``day``, from what the store holds."""
    policy = policy or rules_policy(settings)
    at = settings.digest.at
    inputs = collect_for_day(session, day, at, policy)
    figures = digest_figures(day, at, policy, inputs, now=now)
    charts = (*draw_charts(figures), *_v2_charts(figures)) if with_charts else ()
    rendered = (renderer or DigestRenderer()).render(
        figures, zone=policy.zone, charts=charts, late=late
    )
    return BuiltDigest(day=day, figures=figures, rendered=rendered)


def _v2_charts(figures: dict[str, Any]) -> tuple[Chart, ...]:
    chart = case_review_chart(figures)
    return () if chart is None else (chart,)


def deliver(
    rendered: RenderedDigest,
    settings: Settings,
    channels: Mapping[str, Channel],
    *,
    reference: str = "",
) -> Delivery:
    """Send to every recipient: their channels in order until one accepts."""
    people = {p.id: p for p in settings.people}
    reached: list[Attempt] = []
    failed: list[Attempt] = []
    unreachable: list[str] = []
    for person_id in settings.digest.recipients:
        person = people.get(person_id)
        routes = [] if person is None else routes_for(person, settings, channels)
        ok = False
        for name, address in routes:
            channel = channels[name]
            try:
                channel.send(_message(rendered, channel, address, reference))
            except DeliveryError as exc:
                failed.append(Attempt(person_id, name, address, str(exc)))
                continue
            reached.append(Attempt(person_id, name, address))
            ok = True
            break
        if not ok:
            unreachable.append(person_id)
    return Delivery(tuple(reached), tuple(failed), tuple(unreachable))


def routes_for(
    person: Person, settings: Settings, channels: Mapping[str, Channel]
) -> list[tuple[str, str]]:
    """(channel, address) pairs to try: ``[digest] channels`` in order, or every channel
    that can reach the person, email channels first."""
    names = list(settings.digest.channels) or sorted(
        channels, key=lambda n: channels[n].address_kind != "email"
    )
    routes = []
    for name in names:
        channel = channels.get(name)
        if channel is None:
            continue
        address = _address(person, channel.address_kind)
        if address:
            routes.append((name, address))
    return routes


def _address(person: Person, kind: str) -> str | None:
    return address_for(kind, phone=person.phone, email=person.email, name=person.id)


def _message(rendered: RenderedDigest, channel: Channel, to: str, reference: str) -> Message:
    if channel.address_kind == "phone":
        return Message(to=to, text=rendered.short_text, reference=reference)
    return Message(
        to=to,
        text=rendered.text,
        subject=rendered.subject,
        html=rendered.html,
        images=rendered.images,
        reference=reference,
    )


def due_days(
    session: Session, latest: date, now: datetime, max_days: int = MAX_DAYS
) -> tuple[list[date], bool]:
    """Dates to send now: new ones after the last in the table (or just ``latest`` on a
    fresh database), and claimed or failed ones whose lease has run out; and whether the
    database is fresh (no digest row at all)."""
    earliest = latest - timedelta(days=max_days - 1)
    last = session.scalar(select(func.max(DigestRow.day)))
    if last is None:
        return [latest], True
    else:
        first = max(last + timedelta(days=1), earliest)
        new = [first + timedelta(days=i) for i in range((latest - first).days + 1)]
    stale = session.scalars(
        select(DigestRow.day).where(
            DigestRow.day >= earliest,
            DigestRow.day <= latest,
            DigestRow.state.in_(("claimed", "failed")),
            DigestRow.lease_until < now,
        )
    ).all()
    return sorted(set(new) | set(stale)), False


def claim(
    sessions: sessionmaker[Session],
    day: date,
    window: tuple[datetime, datetime],
    worker: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> bool:
    """True when this worker now holds the digest for ``day``: a new row, or a stale claim
    or failed send taken over. Only one worker can win either."""
    try:
        with sessions.begin() as session:
            session.add(
                DigestRow(
                    day=day,
                    window_start=window[0],
                    window_end=window[1],
                    state="claimed",
                    claimed_by=worker,
                    claimed_at=now,
                    lease_until=now + lease,
                    late=False,
                )
            )
        return True
    except IntegrityError:
        pass  # the row exists: sent, held by another worker, or stale
    with sessions.begin() as session:
        result = session.execute(
            update(DigestRow)
            .where(
                DigestRow.day == day,
                DigestRow.state.in_(("claimed", "failed")),
                DigestRow.lease_until < now,
            )
            .values(state="claimed", claimed_by=worker, claimed_at=now, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def renew_claims(session: Session, worker: str, now: datetime, lease: timedelta = LEASE) -> int:
    """The heartbeat, while the digest job runs: keep this worker's live claims."""
    result = session.execute(
        update(DigestRow)
        .where(
            DigestRow.state == "claimed",
            DigestRow.claimed_by == worker,
            DigestRow.lease_until >= now,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def release_own(session: Session, worker: str, now: datetime) -> int:
    """On start: a claim this worker id held when its process died lapses now, so the
    digest is taken over at once instead of after its lease."""
    result = session.execute(
        update(DigestRow)
        .where(DigestRow.state == "claimed", DigestRow.claimed_by == worker)
        .values(lease_until=now - timedelta(microseconds=1))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def send_due_digest(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: Mapping[str, Channel],
    worker: str,
    now: datetime,
    *,
    policy: Policy | None = None,
    renderer: DigestRenderer | None = None,
    max_days: int = MAX_DAYS,
    lease: timedelta = LEASE,
    clock: Clock | None = None,
) -> list[Outcome]:
    """Send every digest that is due and not yet sent (see the module docstring). Never
    raises for a failed send: the row is marked ``failed`` and tried again later."""
    if not settings.digest.recipients:
        return []
    policy = policy or rules_policy(settings)
    zone = policy.zone
    at = settings.digest.at
    latest = latest_due_day(now, at, zone)
    with sessions() as session:
        days, fresh = due_days(session, latest, now, max_days)
    if fresh and now - due_instant(latest, at, zone) > LATE_AFTER:
        _skip(sessions, latest, digest_window(latest, at, zone), worker, now)
        return []
    outcomes = []
    for day in days:
        window = digest_window(day, at, zone)
        # The lease runs from the clock at the claim, not from the job's start: an earlier
        # day's digest in this run may have taken a while.
        claimed_at = clock.now() if clock is not None else now
        if not claim(sessions, day, (window.start, window.end), worker, claimed_at, lease):
            continue
        outcomes.append(
            _send_claimed(sessions, settings, channels, worker, day, now, policy, renderer)
        )
    return outcomes


def _skip(
    sessions: sessionmaker[Session], day: date, window: Window, worker: str, now: datetime
) -> None:
    """Mark ``day`` as passed before custody-watch first ran (fresh database)."""
    try:
        with sessions.begin() as session:
            session.add(
                DigestRow(
                    day=day,
                    window_start=window.start,
                    window_end=window.end,
                    state="skipped",
                    claimed_by=worker,
                    claimed_at=now,
                    late=False,
                    error="custody-watch first ran after this digest was due",
                )
            )
    except IntegrityError:
        pass  # another daemon marked or claimed it first


def _send_claimed(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: Mapping[str, Channel],
    worker: str,
    day: date,
    now: datetime,
    policy: Policy,
    renderer: DigestRenderer | None,
) -> Outcome:
    due = due_instant(day, settings.digest.at, policy.zone)
    late = now - due > LATE_AFTER
    late_line = late_note(due, now, policy.zone) if late else None
    figures, delivery, error = _build_and_deliver(
        sessions, settings, channels, day, now, policy, renderer, late_line
    )
    state = "sent" if delivery.reached else "failed"
    with sessions.begin() as session:
        result = session.execute(
            update(DigestRow)
            .where(DigestRow.day == day, DigestRow.claimed_by == worker)
            .where(DigestRow.state == "claimed")
            .values(
                state=state,
                sent_at=now if state == "sent" else None,
                late=late,
                figures=figures,
                error=error,
                lease_until=None if state == "sent" else now + RETRY_AFTER,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("digest for %s: the claim was taken over while sending", day)
        if state == "sent":
            # A disclosure of each child's record it names (DPA 2018 s.62): logged with the
            # recipients it reached.
            access.record_many(
                session,
                now,
                access.DIGEST_ACTOR,
                named_refs(figures),
                "digest sent",
                ", ".join(a.person_id for a in delivery.reached),
            )
        audit.record(
            session,
            now,
            "digest_sent" if state == "sent" else "digest_failed",
            actor=worker,
            detail=f"{day}{' (late)' if late else ''}: {delivery.summary() or error or ''}",
        )
    return Outcome(day=day, state=state, late=late, delivery=delivery)


def named_refs(figures: Mapping[str, Any] | None) -> list[str]:
    """The custody refs a digest names (its children, those refused bail), in order."""
    if not figures:
        return []
    refs: list[str] = []
    for key in ("children", "charged_refused_bail_children"):
        for item in figures.get(key) or ():
            ref = item.get("custody_ref") if isinstance(item, Mapping) else None
            if isinstance(ref, str) and ref:
                refs.append(ref)
    return list(dict.fromkeys(refs))


def _build_and_deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: Mapping[str, Channel],
    day: date,
    now: datetime,
    policy: Policy,
    renderer: DigestRenderer | None,
    late_line: str | None,
) -> tuple[dict[str, Any] | None, Delivery, str | None]:
    """(figures, delivery, error). Never raises: a bug must not stop the daemon, and the
    claimed row is retried later."""
    figures: dict[str, Any] | None = None  # kept when the digest was built but not sent
    try:
        with sessions() as session:
            built = build_digest(
                session, settings, day, now, policy=policy, renderer=renderer, late=late_line
            )
        figures = built.figures
        delivery = deliver(built.rendered, settings, channels, reference=f"digest:{day}")
    except Exception as exc:
        log.exception("digest for %s could not be built or sent", day)
        unreached = Delivery(unreachable=tuple(settings.digest.recipients))
        return figures, unreached, f"{type(exc).__name__}: {exc}"
    error = delivery.summary() if delivery.failed or delivery.unreachable else None
    return figures, delivery, error


def resend(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: Mapping[str, Channel],
    day: date,
    now: datetime,
    *,
    actor: str = "cli",
    policy: Policy | None = None,
) -> Delivery:
    """``digest --send``: build the day's digest again and send it now, whatever the table
    says (it neither claims nor changes the day's row)."""
    with sessions() as session:
        built = build_digest(session, settings, day, now, policy=policy)
    delivery = deliver(built.rendered, settings, channels, reference=f"digest:{day}")
    with sessions.begin() as session:
        if delivery.reached:  # disclosed: each child it names (DPA 2018 s.62)
            access.record_many(
                session,
                now,
                access.DIGEST_ACTOR,
                named_refs(built.figures),
                "digest sent",
                ", ".join(a.person_id for a in delivery.reached),
            )
        audit.record(
            session, now, "digest_resent", actor=actor, detail=f"{day}: {delivery.summary()}"
        )
    return delivery


def recipients_problem(settings: Settings, channels: Sequence[str]) -> str | None:
    if not settings.digest.recipients:
        return "digest.recipients: nobody to send the digest to"
    if not channels:
        return "channels: no channel is configured"
    return None
