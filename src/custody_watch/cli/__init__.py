"""The ``custody-watch`` command line.

A user's mistake ends with exit status 2 and one line on standard error that names the
file, key, row or field, never a traceback."""

from __future__ import annotations

import sys

import typer

from custody_watch.cli.app import app
from custody_watch.errors import CustodyWatchError

# Importing the command modules registers their commands on ``app``.
from custody_watch.cli import check_config, evaluate  # noqa: E402, F401, I001


def main() -> None:
    try:
        app(prog_name="custody-watch")
    except CustodyWatchError as exc:
        print(f"custody-watch: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except typer.Exit as exc:  # pragma: no cover - typer raises this only outside standalone
        raise SystemExit(exc.exit_code) from None


__all__ = ["app", "main"]
