"""The composition root: the only place that reads settings and names concrete classes."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps, Directory, Person
from custody_watch.alerts.links import AckLinks
from custody_watch.clock import Clock
from custody_watch.config import Settings, rules_policy
from custody_watch.config.secrets import secret
from custody_watch.daemon.runtime import Context
from custody_watch.daemon.startup import check_startup
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.domain import Severity
from custody_watch.escalation.ladders import Ladder, Ladders, Level
from custody_watch.escalation.rota import Rota, Shift
from custody_watch.liveness import DaemonStatus
from custody_watch.messages.render import Renderer
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.instance_keys import instance_secret
from custody_watch.store.migrate import upgrade
from custody_watch.times import parse_zone

log = logging.getLogger(__name__)


def build_context(
    settings: Settings,
    clock: Clock,
    *,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    migrate: bool = True,
) -> Context:
    # Imported here so that commands which only read the store (alerts, ack, audit) do not
    # load the twilio SDK, httpx and database drivers for sources.
    from custody_watch.notify.channels import build_channels
    from custody_watch.sources.kinds import build_source

    env = os.environ if env is None else env
    # The same checks as check-config, so the daemon refuses what it refuses (exit 2).
    for warning in check_startup(settings, env):
        log.warning("%s", warning)
    engine = make_engine(
        settings.database.url,
        statement_timeout=settings.database.statement_timeout,
        lock_timeout=settings.database.lock_timeout,
    )
    if migrate:
        upgrade(engine)
    sessions = make_sessionmaker(engine)
    channels = build_channels(settings, env, stream=stream, allow_console_fallback=True)
    links = ack_links(settings, sessions, env, clock.now())
    alerts = alert_deps(
        settings, {name: ch.address_kind for name, ch in channels.items()}, links=links
    )
    worker = worker_id(settings)
    dispatcher = Dispatcher(
        sessions=sessions,
        channels=channels,
        alerts=AlertDelivery(alerts),
        worker=worker,
        status_callback_base=settings.web.public_base_url or None,
        # No clock here: one cycle (``run --once``) is one instant; the running daemon
        # gives the dispatcher its clock (daemon.scheduler), so leases run from real time.
        lease=settings.daemon.lease,
        time_budget=settings.daemon.tick.total_seconds(),
    )
    return Context(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        policy=rules_policy(settings),
        sources={s.name: build_source(s, env=env) for s in settings.sources},
        alerts=alerts,
        dispatcher=dispatcher,
        worker=worker,
        status=DaemonStatus(
            tick_seconds=settings.daemon.tick.total_seconds(), channels=dispatcher.health
        ),
    )


def worker_id(settings: Settings) -> str:
    """Who this daemon is in claims (``outbox.claimed_by``, ``digests.claimed_by``): the same
    after a restart, so a restarted daemon takes its own claims back at once instead of
    waiting out their leases; different for two daemons on one database. The host name
    with a digest of the database and the web address (two daemons on one host cannot
    listen on one port), or ``[daemon] worker_id``."""
    if settings.daemon.worker_id:
        return settings.daemon.worker_id
    seen = f"{settings.database.url}|{settings.web.listen if settings.web.enabled else ''}"
    return f"{socket.gethostname()}:{hashlib.sha256(seen.encode()).hexdigest()[:12]}"


ADDRESS_KINDS = {"twilio": "phone", "smtp": "email", "console": "any"}


def channel_kinds(settings: Settings) -> dict[str, str]:
    """Which address each configured channel needs, without building any client."""
    return {name: ADDRESS_KINDS[channel.kind] for name, channel in settings.channels.items()}


SECRET_KEY_ENV = "CUSTODY_WATCH_SECRET_KEY"


def signing_key(sessions: sessionmaker[Session], env: Mapping[str, str], now: datetime) -> str:
    """From the environment when given (several daemons must share it); else a key this
    instance made and keeps in its database, so links survive restarts."""
    given = secret(SECRET_KEY_ENV, env)
    if given:
        return given
    with sessions.begin() as session:
        return instance_secret(session, "signing-key", now)


def ack_links(
    settings: Settings, sessions: sessionmaker[Session], env: Mapping[str, str], now: datetime
) -> AckLinks | None:
    if not settings.web.public_base_url:
        return None
    return AckLinks(
        signing_key(sessions, env, now), settings.web.public_base_url, settings.web.ack_link_ttl
    )


def alert_deps(
    settings: Settings, channel_kinds: Mapping[str, str], *, links: AckLinks | None = None
) -> AlertDeps:
    zone = parse_zone(settings.timezone)
    people = {
        p.id: Person(id=p.id, name=p.name, phone=p.phone, email=p.email) for p in settings.people
    }
    rota = Rota(
        shifts=tuple(
            Shift(
                role=entry.role,
                person=entry.person,
                days=tuple(entry.days) if entry.days else None,
                start=entry.from_time,
                end=entry.to_time,
                force=entry.force,
                suite=entry.suite,
                override_from=entry.start,
                override_until=entry.end,
            )
            for entry in settings.rota
        ),
        zone=zone,
    )
    return AlertDeps(
        ladders=ladders(settings),
        directory=Directory(people=people, rota=rota, channel_kinds=dict(channel_kinds)),  # type: ignore[arg-type]
        renderer=Renderer(),
        zone=zone,
        public_base_url=settings.web.public_base_url,
        ack_link=links.url if links else None,
        rules=rules_policy(settings),
        bundle_window=settings.notify.bundle_window,
    )


def escalation_roles(settings: Settings) -> set[str]:
    """Every rota role an escalation level names (people named directly are not roles)."""
    people = {p.id for p in settings.people}
    return {
        entry
        for policy in settings.escalation.values()
        for level in policy.levels
        for entry in level.notify
        if entry not in people
    }


def ladders(settings: Settings) -> Ladders:
    return {
        Severity(severity): Ladder(
            levels=tuple(
                Level(notify=tuple(level.notify), channels=tuple(level.channels), wait=level.wait)
                for level in policy.levels
            ),
            repeat_every=policy.repeat_every,
            ack_timeout=policy.ack_timeout,
        )
        for severity, policy in settings.escalation.items()
    }
