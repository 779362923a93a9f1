"""The ``custody-watch`` command line.

A user's mistake ends with exit status 2 and one line on standard error that names the
file, key, row or field, never a traceback."""

from __future__ import annotations

import sys

import typer

# Importing the command modules registers their commands on ``app``.
from custody_watch.cli import alerts, check_config, db, evaluate, oncall, records, run  # noqa: F401
from custody_watch.cli.app import app
from custody_watch.errors import CustodyWatchError


def main(argv: list[str] | None = None) -> None:
    try:
        # standalone_mode=False lets us print click's usage errors as one line, as the CLI
        # contract asks, instead of click's multi-line box.
        result = app(args=argv, prog_name="custody-watch", standalone_mode=False)
    except CustodyWatchError as exc:
        print(f"custody-watch: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except typer.TyperException as exc:  # usage errors (typer carries its own click)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"custody-watch: {' '.join(message.split())}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except typer.Abort:
        print("custody-watch: aborted", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(result if isinstance(result, int) else 0)


__all__ = ["app", "main"]
