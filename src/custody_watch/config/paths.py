"""Where a server keeps its data: ``[paths] data_dir``, by default systemd's
``$STATE_DIRECTORY`` (set by ``StateDirectory=`` in the unit), else ``./var``.

The default SQLite database lives there, and with it everything the daemon generates and
must keep (the signing key for acknowledgement links and sessions is stored in the
database). A ``[database] url`` that is written out is used as it is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STATE_ENV = "STATE_DIRECTORY"
FALLBACK_DATA_DIR = "var"
DATABASE_FILE = "custody-watch.db"


def default_data_dir(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    # systemd joins several StateDirectory= entries with ':'; the first is the service's own.
    first = env.get(STATE_ENV, "").split(":")[0].strip()
    return first or FALLBACK_DATA_DIR


def sqlite_url(data_dir: str) -> str:
    # "sqlite:///" + a relative path is relative to the working directory; + "/abs" gives
    # the four slashes SQLAlchemy wants for an absolute path.
    return f"sqlite:///{Path(data_dir) / DATABASE_FILE}"


def with_data_dir_defaults(
    data: dict[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw config with ``paths.data_dir`` and, when no URL is written, ``database.url``
    filled in. Anything of the wrong shape is left for validation to name."""
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        return data
    data_dir = paths.get("data_dir")
    if data_dir is None:
        data_dir = default_data_dir(env)
        data = {**data, "paths": {**paths, "data_dir": data_dir}}
    database = data.get("database", {})
    if isinstance(data_dir, str) and isinstance(database, dict) and "url" not in database:
        data = {**data, "database": {**database, "url": sqlite_url(data_dir)}}
    return data
