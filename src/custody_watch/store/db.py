"""Engine and session factories. No global session: the daemon builds these once and
passes them down; each job run or request opens its own transaction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.errors import ConfigError

# Every statement is bounded (``[database]`` overrides these): a table locked by someone
# else, or a server that stops answering, ends the job in hand with an error that the log,
# /healthz and /metrics show, instead of hanging it while health still says ok.
STATEMENT_TIMEOUT = timedelta(seconds=30)
LOCK_TIMEOUT = timedelta(seconds=10)


def make_engine(
    url: str,
    *,
    statement_timeout: timedelta = STATEMENT_TIMEOUT,
    lock_timeout: timedelta = LOCK_TIMEOUT,
    **options: Any,
) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long message
        raise ConfigError(f"database.url: not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, lock_timeout, **options)
    if parsed.get_backend_name() == "postgresql":
        # Given as connection options (not SET after connecting) so that they hold from the
        # first statement, migrations included, and survive a pool reconnect. Options the
        # URL already has (a search_path, say) are kept.
        bounds = (
            f"-c statement_timeout={_ms(statement_timeout)} -c lock_timeout={_ms(lock_timeout)}"
        )
        given = parsed.query.get("options")
        given_text = " ".join(given) if isinstance(given, tuple) else (given or "")
        parsed = parsed.update_query_dict({"options": f"{given_text} {bounds}".strip()})
    return create_engine(parsed, pool_pre_ping=True, **options)


def _ms(duration: timedelta) -> int:
    return max(1, int(duration.total_seconds() * 1000))


def _sqlite_engine(
    url: str, database: str | None, lock_timeout: timedelta, **options: Any
) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    busy_ms = _ms(lock_timeout)
    engine = create_engine(
        url, connect_args={"timeout": busy_ms / 1000, "check_same_thread": False}, **options
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the web side and the daemon's other jobs (poll, tick, digest, heartbeat:
        # one thread each) read while one writes; busy_timeout makes writers wait for each
        # other, up to the lock timeout, instead of failing at once.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
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
