"""``custody-watch init DIR``: a commented starter config and the sample feed, checked."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Annotated

import typer

from custody_watch.cli.app import app
from custody_watch.config import read_settings
from custody_watch.errors import ConfigError, InputError
from custody_watch.messages.render import render_check
from custody_watch.resources import sample_dir

CONFIG_NAME = "custody-watch.toml"
SAMPLE_FILES = ("suite-day.csv", "suite-day.jsonl", "README.md")


def starter_config(directory: Path) -> str:
    """The starter text with this directory's paths in it (absolute, so that the file works
    from any working directory, as a service's does)."""
    text = files("custody_watch.config").joinpath("starter.toml").read_text(encoding="utf-8")
    # safe_substitute: the comments also mention $STATE_DIRECTORY, which must stay as it is.
    return Template(text).safe_substitute(
        config_file=str(directory / CONFIG_NAME), sample_dir=str(directory / "sample")
    )


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the config (made if absent).")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing config file.")
    ] = False,
) -> None:
    """Write a commented starter config and the sample feed into DIRECTORY, and check them."""
    directory = directory.absolute()
    target = directory / CONFIG_NAME
    if target.exists() and not force:
        raise InputError(f"{target}: already exists; pass --force to overwrite it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(starter_config(directory), encoding="utf-8")
        (directory / "sample").mkdir(exist_ok=True)
        for name in SAMPLE_FILES:
            shutil.copyfile(sample_dir() / name, directory / "sample" / name)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write ({exc.strerror or exc})") from None
    # The same checks as check-config: a starter that does not validate, or templates this
    # install cannot render, must fail here rather than at the first alert.
    settings = read_settings(target)
    problems = render_check()
    if problems:
        raise ConfigError(problems[0])
    typer.echo(f"wrote {target} (valid) and the sample feed in {directory / 'sample'}")
    typer.echo(f"data directory: {settings.paths.data_dir}; database: {settings.database.url}")
    typer.echo("next:")
    typer.echo(f"  custody-watch check-config --config {target}")
    typer.echo(f"  custody-watch run --config {target} --speed 60")
