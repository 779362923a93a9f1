"""``custody-watch db upgrade``: apply migrations (the daemon also does this on start);
``db backup FILE``: a consistent copy of a SQLite database, taken while the daemon runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from custody_watch.cli.app import ConfigOption, app
from custody_watch.config import load_settings
from custody_watch.errors import InputError
from custody_watch.store.db import make_engine
from custody_watch.store.migrate import current_revision, head_revision, upgrade

db_app = typer.Typer(help="The database: migrations and backups.", no_args_is_help=True)
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


@db_app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="The backup file to write.", dir_okay=False)],
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite TARGET.")] = False,
) -> None:
    """Copy the SQLite database to TARGET, safely while the daemon runs (PostgreSQL: pg_dump).

    Restore: stop the daemon, put the copy where [database] url points (and delete the old
    file's -wal and -shm beside it), start it. Every timer is in the database, so escalation
    resumes from the moment of the backup."""
    settings = load_settings(config)
    url = make_url(settings.database.url)
    if url.get_backend_name() != "sqlite":
        raise InputError(
            "db backup: the database is not SQLite; back up PostgreSQL with "
            "pg_dump --format=custom (see the README)"
        )
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source.is_file():
        raise InputError(f"database.url: no SQLite file at {source}")
    if target.exists() and not force:
        raise InputError(f"{target}: already exists; pass --force to overwrite it")
    # SQLite's online backup API (the sqlite3 shell's .backup): a consistent snapshot even
    # with the daemon writing (WAL), which copying the file is not.
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
    except sqlite3.Error as exc:
        raise InputError(f"db backup: {source} -> {target}: {exc}") from None
    engine = make_engine(f"sqlite:///{target}")
    revision = current_revision(engine)
    engine.dispose()
    typer.echo(f"backed up {source} to {target} (schema revision {revision})")
