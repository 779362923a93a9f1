"""``custody-watch check-config``: the same validation the daemon does at start."""

from __future__ import annotations

import os

import typer
from sqlalchemy.engine import make_url

from custody_watch.cli.app import ConfigOption, app
from custody_watch.cli.tables import stdout
from custody_watch.config import config_path, load_settings
from custody_watch.daemon.startup import check_startup
from custody_watch.errors import ConfigError
from custody_watch.messages.render import render_check
from custody_watch.times import format_duration_spec


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the configuration and say what it would do."""
    path, explicit = config_path(config)
    settings = load_settings(config)
    # Everything the daemon's start checks (database driver, secrets, channels), the same
    # function, so check-config never says "valid" to a config the daemon refuses.
    warnings = check_startup(settings, os.environ)
    console = stdout()
    origin = str(path) if explicit or path.exists() else "built-in defaults"
    console.print(f"[bold]{origin}[/]: valid")
    for warning in warnings:
        console.print(f"[yellow]{warning}[/]")
    console.print(f"data directory: {settings.paths.data_dir}")
    url = make_url(settings.database.url).render_as_string(hide_password=True)
    console.print(f"database: {url}")
    console.print(f"scope: {settings.scope.people}; time zone {settings.timezone}")
    for source in settings.sources:
        console.print(
            f"source {source.name} ({source.kind}): poll every "
            f"{format_duration_spec(source.poll_every)}, stale after "
            f"{format_duration_spec(source.stale_after)}"
        )
    for name, channel in settings.channels.items():
        console.print(f"channel {name}: {channel.kind}")
    for severity, policy in settings.escalation.items():
        ladder = " -> ".join(
            f"{'+'.join(level.notify)} by {'/'.join(level.channels)}"
            + (f" (wait {format_duration_spec(level.wait)})" if level.wait else "")
            for level in policy.levels
        )
        console.print(f"escalation {severity}: {ladder}")
    if not settings.sources:
        console.print("[yellow]no sources: nothing will be watched[/]")
    # Templates that cannot render mean alerts in fallback wording: a broken install or a
    # template typo must fail the check, as the daemon raises it to operations.
    problems = render_check()
    if problems:
        raise ConfigError(problems[0])
    console.print("templates: every message renders")
    raise typer.Exit(0)
