"""Everything a cycle needs, built once from config by ``daemon.build``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts.context import AlertContext
from custody_watch.clock import Clock
from custody_watch.config.model import Settings
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.messages.render import Renderer
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
    alert_ctx: AlertContext
    renderer: Renderer
    dispatcher: Dispatcher
    worker: str
    # Per-source "when did we last poll" (in memory: a restart polls at once, which is right).
    last_polled: dict[str, object] = field(default_factory=dict)
