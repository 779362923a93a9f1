"""What every request needs, built once from the daemon's ``Context`` by the daemon
(``daemon.web_side``): the web side imports nothing of the daemon.

Nothing here is module-level state: two apps in one process (tests) never share anything."""

from __future__ import annotations

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
from custody_watch.config.secrets import secret
from custody_watch.errors import ConfigError
from custody_watch.liveness import Heartbeat
from custody_watch.resources import templates_dir
from custody_watch.rules.policy import Policy


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
