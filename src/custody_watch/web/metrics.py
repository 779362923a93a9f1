"""``/metrics`` for Prometheus. Every name starts ``custody_watch_``.

State (children in custody, open alerts, outbox depth, source lag) is read from the store at
scrape time by a custom collector, so every daemon and web process on one database reports
the same numbers and nothing is lost on a restart. Counters (sends by channel and result)
are counts of outbox rows, which only ever grow. The registry is the app's own."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from custody_watch.config.model import Settings, SimulatorSource
from custody_watch.domain.states import LIVE_STATES, AlertState, OutboxState
from custody_watch.liveness import JOBS, Heartbeat
from custody_watch.sources.freshness import freshness
from custody_watch.store.schema import (
    AlertRow,
    AuditRow,
    DetentionRow,
    OutboxRow,
    SourceStateRow,
)
from custody_watch.web.app_context import WebContext
from custody_watch.web.auth import api_user
from custody_watch.web.board import children_in_custody
from custody_watch.web.health import overdue_messages

SEVERITIES = ("warning", "high", "critical")
# Suite labels at most (one more, "other", sums the rest); what a label may look like.
MAX_SUITE_LABELS = 200
OTHER = "other"
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _./-]{0,63}")
SEND_RESULTS = (OutboxState.SENT, OutboxState.FAILED, OutboxState.CANCELLED)


class StoreCollector(Collector):
    def __init__(self, web: WebContext) -> None:
        self.web = web

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only; never while registering

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "custody_watch_database_up", "1 when the store answered this scrape, else 0"
        )
        try:
            families = list(self._from_store())
        except Exception:  # a scrape must still answer, saying the store is down
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield from families
        yield from self._scheduler()

    def _from_store(self) -> Iterator[Metric]:
        """Everything the store says, read in one transaction (so the families agree with
        each other), then as families: children, alerts, outbox, sends, sources, webhooks."""
        web = self.web
        now = web.clock.now()
        with web.sessions.begin() as session:
            read = read_store(session, now)
        yield from _children(read, web.settings)
        yield from _alerts(read)
        yield from _outbox(read, now)
        yield from _sends(read)
        yield from _sources(read, web.settings, now)
        yield from _webhooks(read)

    def _scheduler(self) -> Iterator[Metric]:
        heartbeat = self.web.heartbeat
        if heartbeat is None:
            return
        beat = heartbeat.read()
        cycles = SummaryMetricFamily(
            "custody_watch_cycle_duration_seconds", "How long each daemon cycle took"
        )
        cycles.add_metric([], count_value=beat.cycles, sum_value=beat.duration_sum)
        yield cycles
        last = GaugeMetricFamily(
            "custody_watch_last_cycle_duration_seconds", "How long the last cycle took"
        )
        last.add_metric([], beat.last_duration or 0.0)
        yield last
        failures = CounterMetricFamily("custody_watch_cycle_failures", "Cycles that failed")
        failures.add_metric([], beat.failures)
        yield failures
        if beat.age is not None:
            since = GaugeMetricFamily(
                "custody_watch_seconds_since_last_cycle",
                "Real seconds since the last cycle finished",
            )
            since.add_metric([], beat.age)
            yield since
        yield from self._daemon(heartbeat)

    def _daemon(self, heartbeat: Heartbeat) -> Iterator[Metric]:
        """The same conditions /healthz judges, as numbers."""
        if heartbeat.daemon is None:
            return
        view = heartbeat.daemon.read()
        running = GaugeMetricFamily(
            "custody_watch_job_running_seconds",
            "Real seconds the job in progress has been running (0 when idle)",
            labels=["job"],
        )
        for job in JOBS:
            running.add_metric([job], view.running.get(job, 0.0))
        yield running
        overruns = CounterMetricFamily(
            "custody_watch_job_overruns", "Job runs that took more than two ticks", labels=["job"]
        )
        failed = CounterMetricFamily(
            "custody_watch_job_failures", "Job runs that failed", labels=["job"]
        )
        for job in JOBS:
            overruns.add_metric([job], view.overruns.get(job, 0))
            failed.add_metric([job], view.failures.get(job, 0))
        yield overruns
        yield failed
        if view.write_age is not None:
            write = GaugeMetricFamily(
                "custody_watch_store_write_age_seconds",
                "Real seconds since this daemon's last successful write to the store",
            )
            write.add_metric([], view.write_age)
            yield write
        channels = GaugeMetricFamily(
            "custody_watch_channel_consecutive_failures",
            "Provider calls in a row that failed, by channel (0 after a success)",
            labels=["channel"],
        )
        for name, state in sorted(heartbeat.daemon.channels.read().items()):
            channels.add_metric([name], state.consecutive_failures)
        yield channels
        problems = heartbeat.daemon_problems(self.web.settings.daemon.channel_failures_unhealthy)
        healthy = GaugeMetricFamily(
            "custody_watch_daemon_healthy",
            "1 when no tick hangs, the store takes writes and every channel answers",
        )
        healthy.add_metric([], 0 if problems else 1)
        yield healthy


@dataclass(frozen=True, slots=True)
class StoreRead:
    """What one scrape reads from the store."""

    children: Sequence[Row[str, int]]  # (suite, children in custody)
    alerts: Sequence[Row[AlertState, str, int]]  # live alerts by state and severity
    depth: int | None  # messages due and not yet sent
    oldest: datetime | None  # when the longest-waiting of them fell due
    sends: Sequence[Row[str, OutboxState, int]]  # by channel and final state
    deliveries: Sequence[Row[str, str | None, int]]  # by channel and provider status
    states: dict[str, SourceStateRow]
    refused: int | None  # Twilio webhook requests refused
    overdue: int


def read_store(session: Session, now: datetime) -> StoreRead:
    children = session.execute(children_by_suite(now)).all()
    alerts = session.execute(
        select(AlertRow.state, AlertRow.severity, func.count())
        .where(AlertRow.live_key.is_not(None))
        .group_by(AlertRow.state, AlertRow.severity)
    ).all()
    depth, oldest = session.execute(
        select(func.count(), func.min(OutboxRow.due_at)).where(
            OutboxRow.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
            OutboxRow.due_at <= now,
        )
    ).one()
    sends = session.execute(
        select(OutboxRow.channel, OutboxRow.state, func.count())
        .where(OutboxRow.state.in_(SEND_RESULTS))
        .group_by(OutboxRow.channel, OutboxRow.state)
    ).all()
    deliveries = session.execute(
        select(OutboxRow.channel, OutboxRow.provider_status, func.count())
        .where(OutboxRow.provider_status.is_not(None))
        .group_by(OutboxRow.channel, OutboxRow.provider_status)
    ).all()
    states = {s.name: s for s in session.scalars(select(SourceStateRow))}
    refused = session.scalar(select(func.count()).where(AuditRow.event == "webhook_refused"))
    overdue = overdue_messages(session, now)
    return StoreRead(children, alerts, depth, oldest, sends, deliveries, states, refused, overdue)


def _children(read: StoreRead, settings: Settings) -> Iterator[Metric]:
    total = GaugeMetricFamily(
        "custody_watch_children_in_custody", "Children in custody now (all suites)"
    )
    total.add_metric([], sum(count for _, count in read.children))
    yield total
    per_suite = GaugeMetricFamily(
        "custody_watch_suite_children_in_custody", "Children in custody now", labels=["suite"]
    )
    for suite, count in suite_counts(read.children, known_suites(settings)):
        per_suite.add_metric([suite], count)
    yield per_suite


def _alerts(read: StoreRead) -> Iterator[Metric]:
    live = {(state, severity): count for state, severity, count in read.alerts}
    for alert_state in LIVE_STATES:
        family = GaugeMetricFamily(
            f"custody_watch_{alert_state}_alerts",
            f"Alerts {alert_state} now",
            labels=["severity"],
        )
        for severity in SEVERITIES:
            family.add_metric([severity], live.get((alert_state, severity), 0))
        yield family


def _outbox(read: StoreRead, now: datetime) -> Iterator[Metric]:
    queue = GaugeMetricFamily(
        "custody_watch_outbox_depth", "Messages due and not yet sent (pending or sending)"
    )
    queue.add_metric([], read.depth or 0)
    yield queue
    age = GaugeMetricFamily(
        "custody_watch_outbox_oldest_pending_age_seconds",
        "How long the oldest due message has waited (0 when none)",
    )
    age.add_metric([], max(0.0, (now - read.oldest).total_seconds()) if read.oldest else 0.0)
    yield age
    late = GaugeMetricFamily(
        "custody_watch_outbox_overdue",
        "Messages overdue by more than a minute (pending, or held by a lapsed claim)",
    )
    late.add_metric([], read.overdue)
    yield late


def _sends(read: StoreRead) -> Iterator[Metric]:
    sent = CounterMetricFamily(
        "custody_watch_sends",
        "Messages by channel and final result",
        labels=["channel", "result"],
    )
    for channel, result, count in sorted(read.sends):
        sent.add_metric([channel, result], count)
    yield sent
    delivered = GaugeMetricFamily(
        "custody_watch_provider_status_messages",
        "Messages by channel and the provider's last reported status",
        labels=["channel", "status"],
    )
    for channel, status, count in sorted(read.deliveries):
        delivered.add_metric([channel, str(status)], count)
    yield delivered


def _sources(read: StoreRead, settings: Settings, now: datetime) -> Iterator[Metric]:
    """Lag, staleness (``freshness``, as the daemon's feed_stale judges), failures, rows."""
    lag = GaugeMetricFamily(
        "custody_watch_source_lag_seconds",
        "Seconds since the source was last read successfully",
        labels=["source"],
    )
    failing = GaugeMetricFamily(
        "custody_watch_source_consecutive_failures",
        "Failed polls since the last success",
        labels=["source"],
    )
    rows = CounterMetricFamily(
        "custody_watch_source_rows", "Rows read by source", labels=["source", "outcome"]
    )
    stale = GaugeMetricFamily(
        "custody_watch_source_stale",
        "1 while the source is stale (as the daemon's feed_stale judges), else 0",
        labels=["source"],
    )
    for configured in settings.sources:
        state = read.states.get(configured.name)
        fresh = freshness(state, configured, now)
        behind = fresh.lag(now)
        if behind is not None:
            lag.add_metric([configured.name], behind.total_seconds())
        stale.add_metric([configured.name], 1.0 if fresh.stale else 0.0)
        failing.add_metric([configured.name], state.failures if state else 0)
        rows.add_metric([configured.name, "read"], state.rows_read if state else 0)
        rows.add_metric([configured.name, "rejected"], state.rows_rejected if state else 0)
    yield lag
    yield stale
    yield failing
    yield rows


def _webhooks(read: StoreRead) -> Iterator[Metric]:
    webhook = CounterMetricFamily(
        "custody_watch_webhooks_refused", "Twilio webhook requests refused (signature, off)"
    )
    webhook.add_metric([], read.refused or 0)
    yield webhook


def make_registry(web: WebContext) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(web))
    return registry


def _scrape(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def bearer_ok(request: Request, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def router_for(public: bool) -> APIRouter:
    """``/metrics``: with ``[web] metrics_token_env`` set, for the bearer of that token
    only; else open, or (``metrics_public = false``) for a logged-in user."""
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        web: WebContext = request.app.state.web
        if web.metrics_token is not None:
            if not bearer_ok(request, web.metrics_token):
                return Response(
                    "a bearer token is required",
                    status_code=401,
                    media_type="text/plain",
                    headers={"WWW-Authenticate": 'Bearer realm="custody-watch metrics"'},
                )
        elif not public:
            api_user(request)  # 401 without a login
        return _scrape(request)

    return router


def known_suites(settings: Settings) -> list[str]:
    """Suites the config names (the rota's, the simulator's): always their own label."""
    named = [entry.suite for entry in settings.rota if entry.suite]
    for source in settings.sources:
        if isinstance(source, SimulatorSource):
            named.extend(source.suites)
    return list(dict.fromkeys(named))


def suite_counts(
    counts: Iterable[tuple[str, int]], known: Iterable[str], cap: int = MAX_SUITE_LABELS
) -> list[tuple[str, int]]:
    """Children in custody by suite label. A suite the config names keeps its own label;
    other suites come from the feed, so only as many as ``cap`` (the largest first) and
    only plain names get one, and the rest are summed as ``other``: a feed must not be able
    to grow the scrape (or a monitoring database) without bound, or put text in a label."""
    named = set(known)
    by_suite = dict(counts)
    labels = [s for s in by_suite if s in named]
    others = sorted(
        (s for s in by_suite if s not in named and _PLAIN_LABEL.fullmatch(s) and s != OTHER),
        key=lambda s: (-by_suite[s], s),
    )
    labels += others[: max(0, cap - len(labels))]
    kept = set(labels[:cap])
    rest = sum(count for suite, count in by_suite.items() if suite not in kept)
    out = sorted((suite, by_suite[suite]) for suite in kept)
    if rest:
        out.append((OTHER, rest))
    return out


def children_by_suite(now: datetime) -> Select[str, int]:
    return (
        select(DetentionRow.suite, func.count())
        .where(*children_in_custody(now))
        .group_by(DetentionRow.suite)
        .order_by(DetentionRow.suite)
    )
