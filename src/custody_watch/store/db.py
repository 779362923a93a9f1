"""Engine and session factories. No global session: the daemon builds these once and
passes them down; each job run or request opens its own transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.errors import ConfigError


def make_engine(url: str, **options: Any) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long message
        raise ConfigError(f"database.url: not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **options)
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_engine(url: str, database: str | None, **options: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the web side read while the daemon writes; busy_timeout makes two
        # daemons on one file wait for each other instead of failing.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # A feed writes a detention, its version and their indexes for every row: with
        # SQLite's 2 MiB default page cache and a checkpoint every 4 MiB of WAL, a store of
        # a few hundred thousand detentions spent more time re-reading index pages and
        # checkpointing than inserting. 32 MiB of cache and a 16 MiB WAL (4,000 pages of
        # 4 KiB) before each automatic checkpoint: measured by bench/run.py.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.execute("PRAGMA wal_autocheckpoint=4000")
        cursor.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
