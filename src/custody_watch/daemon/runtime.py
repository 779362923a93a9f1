"""Everything the daemon's jobs need, built once from config by ``daemon.compose``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts.deps import AlertDeps
from custody_watch.clock import Clock
from custody_watch.config.model import Settings
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.liveness import DaemonStatus
from custody_watch.rules.policy import Policy
from custody_watch.sources.base import Source


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    policy: Policy
    sources: Mapping[str, Source]
    # The alert side's dependencies (ladders, directory, renderer...): ``deps`` where passed.
    alerts: AlertDeps
    dispatcher: Dispatcher
    worker: str
    # Per-source "when did we last poll" (in memory: a restart polls at once, which is right).
    last_polled: dict[str, object] = field(default_factory=dict)
    # Cycle steps known to have no live ``cycle_step_failed`` alert (``cycle.guarded``):
    # empty at start, so each step checks once for an alert a previous run left.
    steps_known_clear: set[str] = field(default_factory=set)
    # What the scheduler's jobs are doing, for /healthz and /metrics.
    status: DaemonStatus = field(default_factory=lambda: DaemonStatus(tick_seconds=2.0))
