"""``custody-watch db upgrade``: apply migrations (the daemon also does this on start)."""

from __future__ import annotations

import typer

from custody_watch.cli.app import ConfigOption, app
from custody_watch.config import load_settings
from custody_watch.store.db import make_engine
from custody_watch.store.migrate import current_revision, head_revision, upgrade

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema up to date."""
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    before = current_revision(engine)
    upgrade(engine)
    typer.echo(f"database at revision {head_revision()} (was {before or 'empty'})")
    engine.dispose()
