"""What every request needs, built once from the daemon's ``Context``.

Nothing here is module-level state: two apps in one process (tests) never share anything."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.links import AckLinks
from custody_watch.clock import Clock
from custody_watch.config.model import Settings
from custody_watch.config.secrets import TWILIO_AUTH_TOKEN, secret
from custody_watch.daemon.build import ack_links, signing_key
from custody_watch.daemon.context import Context
from custody_watch.errors import ConfigError
from custody_watch.resources import templates_dir
from custody_watch.rules.policy import Policy
from custody_watch.web.health import Heartbeat


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    # The alert side's one object (its renderer included): acknowledging, snoozing and
    # reassigning from the web change alerts exactly as the CLI and the daemon do.
    alerts: AlertDeps
    policy: Policy
    # Signs session cookies and CSRF tokens (each use with its own salt).
    signing_key: str
    # Signed acknowledgement links; None when ``[web] public_base_url`` is empty.
    links: AckLinks | None
    # Twilio's auth token. None: the webhooks are off and answer 403.
    twilio_auth_token: str | None
    # The bearer token /metrics requires ([web] metrics_token_env); None: no token.
    metrics_token: str | None = None
    # Updated by the scheduler after each cycle; None when no scheduler runs in this process.
    heartbeat: Heartbeat | None = None
    # Page templates and static files (``static/``): the installed package's, never a path
    # relative to the working directory, which under a service manager is anywhere.
    templates: Path = field(default_factory=lambda: templates_dir() / "web")
    # argon2id with the library's own (RFC 9106) parameters; tests pass a cheaper one.
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)

    @property
    def zone(self) -> tzinfo:
        return self.policy.zone

    @property
    def secure_cookies(self) -> bool:
        return self.settings.web.public_base_url.lower().startswith("https://")


def metrics_token(settings: Settings, env: Mapping[str, str]) -> str | None:
    name = settings.web.metrics_token_env
    if not name:
        return None
    token = secret(name, env)
    if not token:
        # check_startup refuses this first; never fall back to an open /metrics.
        raise ConfigError(f"web.metrics_token_env: {name} is not set in the environment")
    return token


def build_web_context(
    ctx: Context, env: Mapping[str, str] | None = None, *, heartbeat: Heartbeat | None = None
) -> WebContext:
    env = os.environ if env is None else env
    now = ctx.clock.now()
    return WebContext(
        settings=ctx.settings,
        sessions=ctx.sessions,
        clock=ctx.clock,
        alerts=ctx.alerts,
        policy=ctx.policy,
        signing_key=signing_key(ctx.sessions, env, now),
        links=ack_links(ctx.settings, ctx.sessions, env, now),
        twilio_auth_token=secret(TWILIO_AUTH_TOKEN, env),
        metrics_token=metrics_token(ctx.settings, env),
        heartbeat=heartbeat,
        templates=templates_dir() / "web",
    )
