"""Secrets come from the environment only, never from the config file.

``NAME`` holds the value itself; ``NAME_FILE`` names a file holding it (Docker and Kubernetes
secrets are mounted as files, which keeps them out of ``ps`` and crash dumps)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from custody_watch.errors import ConfigError

TWILIO_AUTH_TOKEN = "CUSTODY_WATCH_TWILIO_AUTH_TOKEN"
SMTP_USERNAME = "CUSTODY_WATCH_SMTP_USERNAME"
SMTP_PASSWORD = "CUSTODY_WATCH_SMTP_PASSWORD"


def secret(name: str, env: Mapping[str, str]) -> str | None:
    """The value of ``name`` or of the file named by ``name_FILE``; None when neither is set.

    Setting both is an error rather than a silent choice: the two would usually differ, and
    the wrong one would only show when the first alert fails to go out."""
    file_name = f"{name}_FILE"
    value = env.get(name, "").strip()
    path = env.get(file_name, "").strip()
    if value and path:
        raise ConfigError(f"{name} and {file_name} are both set; set one of them")
    if not path:
        return value or None
    try:
        content = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{file_name}: cannot read {path}: {reason}") from None
    if not content:
        raise ConfigError(f"{file_name}: {path} is empty")
    return content
