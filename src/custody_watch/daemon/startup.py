"""What the daemon checks before it starts, beyond the file itself: the database driver,
secrets in the environment, and the channels they make. ``check-config`` and the daemon's
start (``daemon.compose.build_context``) both call ``check_startup``, so a config the one
refuses, the other refuses the same way, naming the key.

The file's own checks (types, bounds, names that point at nothing) are in ``config.load``
and run first, when the file is read."""

from __future__ import annotations

import io
from collections.abc import Mapping

from custody_watch.config.model import HttpJsonSource, Settings, TwilioChannel
from custody_watch.config.secrets import TWILIO_AUTH_TOKEN, secret
from custody_watch.errors import ConfigError

SECRET_KEY_ENV = "CUSTODY_WATCH_SECRET_KEY"
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})


def check_startup(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Raise ``ConfigError`` for the first problem that would stop the daemon or leave it
    unable to alert; return warnings about what will run but not as a person might expect.
    Connects to nothing and sends nothing."""
    check_database_driver(settings.database.url)
    check_web(settings)
    _check_secrets(settings, env)
    return list(_warnings(settings, env))


def check_database_driver(url: str) -> None:
    """The URL names a database SQLAlchemy knows and whose driver is installed. An engine
    is made (which imports the driver) but never connected. The URL is never echoed: it
    may hold a password."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("database.url: not a database URL") from None
    name = parsed.drivername
    try:
        engine = create_engine(parsed)
    except NoSuchModuleError:
        raise ConfigError(f"database.url: no database kind {name!r} is known") from None
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise ConfigError(
            f"database.url: the driver for {name!r} is not installed (no module {missing!r}); "
            "install it, or use postgresql+psycopg:// or sqlite:///"
        ) from None
    except Exception as exc:  # bad options in the URL's query, and the like
        raise ConfigError(f"database.url: cannot be used ({type(exc).__name__})") from None
    engine.dispose()
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        # The store uses what only these two have in common (migrations, SKIP LOCKED).
        raise ConfigError(
            f"database.url: custody-watch stores its data in sqlite or postgresql, not {name!r}"
        )


def check_web(settings: Settings) -> None:
    """A trusted user header from anywhere would let any client name itself an admin: the
    header needs the proxies it may come from."""
    web = settings.web
    if web.trusted_user_header and not web.trusted_proxies:
        raise ConfigError(
            "web.trusted_proxies: must name the proxy addresses (or CIDR ranges) that may "
            f"send web.trusted_user_header ({web.trusted_user_header!r}); without them any "
            "client could name itself a user"
        )


def _check_secrets(settings: Settings, env: Mapping[str, str]) -> None:
    """Every secret the daemon will read: readable when named by ``NAME_FILE``, not given
    twice, and given in pairs where it comes in pairs. Building the channels is exactly
    what the daemon does, so their checks (a half-set SMTP login) are the daemon's."""
    # Imported here, when the checks run: commands that only read the store import
    # daemon.compose (for alert_deps) and must start without loading the twilio SDK.
    from custody_watch.notify.channels import build_channels

    build_channels(settings, env, stream=io.StringIO(), allow_console_fallback=True)
    for i, source in enumerate(settings.sources):
        if isinstance(source, HttpJsonSource):
            try:
                secret(source.token_env, env)
            except ConfigError as exc:
                raise ConfigError(f"sources[{i}].token_env: {exc}") from None
    secret(SECRET_KEY_ENV, env)
    token_env = settings.web.metrics_token_env
    if token_env:
        try:
            token = secret(token_env, env)
        except ConfigError as exc:
            raise ConfigError(f"web.metrics_token_env: {exc}") from None
        if not token:
            # Fail closed: a missing token must not leave /metrics as open as before.
            raise ConfigError(f"web.metrics_token_env: {token_env} is not set in the environment")


def _warnings(settings: Settings, env: Mapping[str, str]) -> list[str]:
    out = []
    for name, channel in settings.channels.items():
        if isinstance(channel, TwilioChannel) and secret(TWILIO_AUTH_TOKEN, env) is None:
            # Not refused: a fresh install runs on the console until it has credentials
            # (README), and the shared example config must be accepted as it is.
            out.append(
                f"channels.{name}: {TWILIO_AUTH_TOKEN} is not set: SMS will be printed on "
                "the console, not sent"
            )
    return out
