"""Where the benchmark's stores live: SQLite files in the work folder (a default install),
or schemas of one PostgreSQL database (``bench/run.py --database URL``).

A store is named (``base``, ``cycle-10000``...) and reached by a URL the product's own
``make_engine`` takes, so every figure runs the product's code the same way on both. On
PostgreSQL each store is a schema of its own (the URL sets ``search_path``), made by the
product's migrations and dropped at the end; a copy is made by the migrations and then
``INSERT ... SELECT`` table by table, with the id sequences moved on."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from custody_watch.store.db import make_engine
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import Base


class Stores:
    def __init__(self, work: Path, server: str | None = None) -> None:
        self.work = work
        self.server = server
        # Several benchmark runs may share one server: the process id keeps them apart.
        self.prefix = f"bench_{os.getpid()}_"
        self.made: list[str] = []
        if server is not None:
            backend = make_url(server).get_backend_name()
            if backend != "postgresql":
                raise SystemExit(f"--database: PostgreSQL URLs only, not {backend}")

    @property
    def kind(self) -> str:
        return "sqlite" if self.server is None else "postgresql"

    def url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.work / (name + '.db')}"
        options = quote(f"-csearch_path={self._schema(name)}", safe="")
        joiner = "&" if "?" in self.server else "?"
        return f"{self.server}{joiner}options={options}"

    def create(self, name: str) -> str:
        """An empty store, migrated as the daemon migrates on start."""
        if self.server is not None:
            self._admin(f'DROP SCHEMA IF EXISTS "{self._schema(name)}" CASCADE')
            self._admin(f'CREATE SCHEMA "{self._schema(name)}"')
            self.made.append(name)
        engine = make_engine(self.url(name))
        upgrade(engine)
        engine.dispose()
        return self.url(name)

    def copy(self, base: str, name: str) -> str:
        """A copy of store ``base`` as store ``name``."""
        if self.server is None:
            shutil.copyfile(self.work / f"{base}.db", self.work / f"{name}.db")
            return self.url(name)
        self.create(name)
        source, target = self._schema(base), self._schema(name)
        engine = make_engine(self.server)
        with engine.begin() as connection:
            for table in Base.metadata.sorted_tables:  # parents before children (keys)
                connection.exec_driver_sql(
                    f'INSERT INTO "{target}"."{table.name}" SELECT * FROM "{source}"."{table.name}"'
                )
                if "id" in table.c:
                    connection.exec_driver_sql(
                        f'SELECT setval(pg_get_serial_sequence(\'"{target}"."{table.name}"\','
                        f' \'id\'), COALESCE((SELECT max(id) FROM "{target}"."{table.name}"),'
                        " 0) + 1, false)"
                    )
        engine.dispose()
        return self.url(name)

    def size_mb(self, name: str) -> float:
        if self.server is None:
            return (self.work / f"{name}.db").stat().st_size / 2**20
        engine = make_engine(self.server)
        size = schema_mb(engine, self._schema(name))
        engine.dispose()
        return size

    def settle(self) -> None:
        """Before timing: on PostgreSQL, finish the checkpoint that the bulk loads before
        started (a million history rows; the ingest figure's imports, baselines and
        floors). The server spreads a checkpoint's writes over minutes
        (``checkpoint_completion_target``), so a cycle timed just after a load shared the
        disk with a gigabyte of background writes: in steady running the WAL grows by a
        cycle's changes, not by a bulk load's. SQLite checkpoints in the writer's own
        commits, so there is nothing left to settle."""
        if self.server is not None:
            self._admin("CHECKPOINT")

    def close(self) -> None:
        """Drop the schemas made (SQLite files go with the work folder)."""
        for name in self.made:
            self._admin(f'DROP SCHEMA IF EXISTS "{self._schema(name)}" CASCADE')
        self.made.clear()

    def _schema(self, name: str) -> str:
        return self.prefix + name.replace("-", "_")

    def _admin(self, sql: str) -> None:
        assert self.server is not None
        engine = make_engine(self.server)
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
        engine.dispose()


def schema_mb(engine: Engine, schema: str) -> float:
    """The tables (and their indexes and TOAST) of one PostgreSQL schema, in MiB."""
    with engine.connect() as connection:
        size = connection.execute(
            text(
                "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND c.relkind = 'r'"
            ),
            {"schema": schema},
        ).scalar_one()
    return float(size) / 2**20


# The columns of the two tables a bulk load writes, in table order (history keeps its own
# version ids; the ingest floor lets the table number its versions).
DETENTION_COLUMNS = (
    *("id", "custody_ref", "source", "suite", "force", "arrival_time", "released_time"),
    *("is_child", "record", "record_updated_at", "first_seen_at", "last_changed_at"),
    *("next_check_at", "person_ref"),
)
VERSION_COLUMNS = (
    *("id", "detention_id", "source", "batch", "row", "received_at", "record_updated_at"),
    *("record", "became_current"),
)


def bulk_insert(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Rows as they are, the fastest way each database takes them: ``executemany`` on
    SQLite, ``COPY`` on PostgreSQL (psycopg's, which converts the values itself)."""
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
