"""The typer application object and the options every command shares."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="custody-watch",
    help="Watches custody records so that no child is held too long or in the wrong place.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    JSON = "json"
    TABLE = "table"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: $CUSTODY_WATCH_CONFIG, else config/custody-watch.toml).",
        dir_okay=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="json for programs, table for people.")
]


@app.callback()
def _root() -> None:
    """Watches custody records so that no child is held too long or in the wrong place."""
    # A callback keeps typer in "group" mode even when only one command's module is
    # loaded (see cli.main), so `custody-watch evaluate ...` always names its command.
