"""Which config file to read, found without loading the config models (``evaluate`` over a
file with no config pays nothing for them)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CUSTODY_WATCH_CONFIG"
# Looked for in this order when no file is named: the checkout's (the README's commands run
# from there, and the CLI contract names it), then the server's.
DEFAULT_PATH = Path("config/custody-watch.toml")
SYSTEM_PATH = Path("/etc/custody-watch/custody-watch.toml")


def config_path(named: Path | None) -> tuple[Path, bool]:
    """The file to read and whether someone named it: ``--config``, else
    ``$CUSTODY_WATCH_CONFIG``, else the first of ``config/custody-watch.toml`` (in the working
    directory) and ``/etc/custody-watch/custody-watch.toml`` that exists. With none of them,
    ``config/custody-watch.toml`` unnamed: the built-in defaults apply."""
    if named is not None:
        return named, True
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env), True
    for found in (DEFAULT_PATH, SYSTEM_PATH):
        if found.is_file():
            return found, False
    return DEFAULT_PATH, False


def defaults_apply(named: Path | None) -> bool:
    """True when no file is named and none is found: the built-in defaults are the config."""
    path, explicit = config_path(named)
    return not explicit and not path.exists()
