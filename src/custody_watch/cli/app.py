"""The typer application object and the options every command shares."""

from __future__ import annotations

from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="custody-watch",
    help="Watches custody records so that no child is held too long or in the wrong place.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Help is plain text: Rich markup would eat "[web]" and "[notify] bundle_window" from
    # the help, which names config sections that way.
    rich_markup_mode=None,
)


class OutputFormat(StrEnum):
    JSON = "json"
    TABLE = "table"


class ExportFormat(StrEnum):
    """For the commands whose rows go to spreadsheets too (alerts, quarantine, audit)."""

    JSON = "json"
    TABLE = "table"
    CSV = "csv"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=(
            "Config file (default: $CUSTODY_WATCH_CONFIG, else config/custody-watch.toml, "
            "else /etc/custody-watch/custody-watch.toml)."
        ),
        dir_okay=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="json for programs, table for people.")
]
ExportFormatOption = Annotated[
    ExportFormat,
    typer.Option("--format", help="json for programs, table for people, csv for spreadsheets."),
]


def package_version() -> str:
    """The installed distribution's version: what operations must quote in a report."""
    try:
        return version("custody-watch")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"custody-watch {package_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Watches custody records so that no child is held too long or in the wrong place."""
    # A callback keeps typer in "group" mode even when only one command's module is
    # loaded (see cli.main), so `custody-watch evaluate ...` always names its command.
