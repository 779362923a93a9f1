"""The ``custody-watch`` command line.

A user's mistake ends with exit status 2 and one line on standard error that names the
file, key, row or field, never a traceback."""

from __future__ import annotations

import importlib
import sys

import typer

from custody_watch.cli.app import app
from custody_watch.errors import CustodyWatchError

# Which module registers each command. Only the named command's module is imported, so
# `evaluate` (run thousands of times by scripts and tests) does not pay for SQLAlchemy,
# Alembic, the twilio SDK and the web stack; `--help` imports them all.
COMMANDS = {
    "evaluate": "evaluate",
    "check-config": "check_config",
    "run": "run",
    "alerts": "alerts",
    "ack": "alerts",
    "snooze": "alerts",
    "note": "alerts",
    "escalate": "alerts",
    "reassign": "alerts",
    "quarantine": "records",
    "audit": "records",
    "access-log": "access_log",
    "retention": "retention",
    "sources": "records",
    "import": "records",
    "db": "db",
    "oncall": "oncall",
    "digest": "digest",
    "web": "web",
    "user": "users",
    "init": "init",
}


def load_commands(argv: list[str]) -> None:
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    if named is None and "--version" in argv:
        return  # answered by the root callback; no command module is needed
    modules = {COMMANDS[named]} if named in COMMANDS else set(COMMANDS.values())
    for module in sorted(modules):
        importlib.import_module(f"custody_watch.cli.{module}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        load_commands(args)
        # standalone_mode=False lets us print click's usage errors as one line, as the CLI
        # contract asks, instead of click's multi-line box.
        result = app(args=args, prog_name="custody-watch", standalone_mode=False)
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
