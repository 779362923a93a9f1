from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from custody_watch.errors import ConfigError
from custody_watch.ingest import parse_row
from custody_watch.ingest.parse import RowError
from custody_watch.sources.base import PollResult, SourceError
from custody_watch.sources.sql import NOTHING_DATED_YET, SqlTable
from custody_watch.times import LONDON

from .conftest import SeenSet

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
COLUMNS = {"custody_ref": "ref", "arrival_time": "arrived"}


class Db:
    """One test table: ``ref``, ``suite``, ``arrived``, ``date_of_birth``, ``reviews``,
    ``notes`` (not a spec field) and ``updated_at``; timestamps aware on PostgreSQL."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url)
        self.aware = self.engine.dialect.name == "postgresql"
        stamp = sa.DateTime(timezone=self.aware)
        self.table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column("ref", sa.String(20), primary_key=True),
            sa.Column("suite", sa.String(10)),
            sa.Column("arrived", stamp),
            sa.Column("date_of_birth", sa.Date),
            sa.Column("reviews", sa.Text),
            sa.Column("notes", sa.Text),
            sa.Column("updated_at", stamp, nullable=True),
        )
        self.table.create(self.engine)

    def time(self, at: datetime) -> datetime:
        return at if self.aware else at.replace(tzinfo=None)

    def add(self, ref: str, updated: datetime | None, **values: Any) -> None:
        row = {
            "ref": ref,
            "suite": "S1",
            "arrived": self.time(T0),
            "updated_at": self.time(updated) if updated else None,
            **values,
        }
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(**row))

    def touch(self, ref: str, updated: datetime) -> None:
        with self.engine.begin() as conn:
            stmt = self.table.update().where(self.table.c.ref == ref)
            conn.execute(stmt.values(updated_at=self.time(updated)))

    def source(self, **kwargs: Any) -> SqlTable:
        kwargs.setdefault("columns", COLUMNS)
        return SqlTable("db", self.url, self.table.name, **kwargs)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    if request.param == "sqlite":
        database = Db(f"sqlite:///{tmp_path / 'custody.db'}", "custody_records")
    else:
        url, table = request.getfixturevalue("pg_table")
        database = Db(url, table)
    yield database
    database.engine.dispose()


def refs(result: PollResult) -> list[str]:
    return [str(row.values["custody_ref"]) for b in result.batches for row in b.rows]


def test_it_maps_columns_onto_spec_fields_and_ingest_reads_the_rows(db: Db) -> None:
    db.add("C-1", T0, date_of_birth=date(2010, 5, 1), reviews="2026-06-10T14:00:00Z")
    source = db.source()

    rows = source.poll(None, SeenSet(), NOW).batches[0].rows

    values = dict(rows[0].values)
    assert "notes" not in values and "ref" not in values
    assert values["custody_ref"] == "C-1" and values["suite"] == "S1"
    assert values["date_of_birth"] == "2010-05-01"
    detention = parse_row(values, naive_zone=LONDON)
    # SQLite gives naive times back; read as London wall time, 08:00 BST is 07:00Z.
    assert detention.arrival_time == (T0 if db.aware else T0 - timedelta(hours=1))
    assert detention.reviews == (datetime(2026, 6, 10, 14, tzinfo=UTC),)
    source.close()


def test_a_naive_database_time_stays_without_offset_so_ingest_decides(tmp_path: Path) -> None:
    db = Db(f"sqlite:///{tmp_path / 'naive.db'}", "records")
    db.add("C-1", T0)

    values = db.source().poll(None, SeenSet(), NOW).batches[0].rows[0].values

    assert values["arrival_time"] == "2026-06-10T08:00:00"
    with pytest.raises(RowError, match="arrival_time: no UTC offset"):
        parse_row(values)


@pytest.mark.postgres
def test_a_timestamptz_comes_out_with_its_offset(pg_table: tuple[str, str]) -> None:
    db = Db(*pg_table)
    db.add("C-1", T0)

    values = db.source().poll(None, SeenSet(), NOW).batches[0].rows[0].values

    assert parse_row(values).arrival_time == T0
    assert str(values["arrival_time"]).endswith("+00:00")
    db.engine.dispose()


def test_later_polls_read_only_rows_changed_after_the_watermark(db: Db) -> None:
    db.add("C-1", T0)
    db.add("C-2", T0 + timedelta(minutes=5))
    source = db.source()
    first = source.poll(None, SeenSet(), NOW)
    assert refs(first) == ["C-1", "C-2"]

    assert not source.poll(first.watermark, SeenSet(), NOW).batches

    db.touch("C-1", T0 + timedelta(minutes=10))
    db.add("C-3", T0 + timedelta(minutes=7))
    later = source.poll(first.watermark, SeenSet(), NOW)
    assert refs(later) == ["C-3", "C-1"]
    assert later.watermark is not None
    assert datetime.fromisoformat(later.watermark) == db.time(T0 + timedelta(minutes=10))


def test_rows_without_updated_at_are_read_on_the_first_poll_only(db: Db) -> None:
    db.add("N-1", None)
    source = db.source()

    first = source.poll(None, SeenSet(), NOW)
    assert refs(first) == ["N-1"]
    assert first.watermark == NOTHING_DATED_YET

    db.add("N-2", None)
    db.add("C-1", T0)
    second = source.poll(first.watermark, SeenSet(), NOW)
    assert refs(second) == ["C-1"]


def test_an_empty_table_keeps_the_first_poll_for_later(db: Db) -> None:
    source = db.source()
    assert source.poll(None, SeenSet(), NOW) == PollResult(watermark=None)

    db.add("N-1", None)
    assert refs(source.poll(None, SeenSet(), NOW)) == ["N-1"]


def test_a_backlog_streams_by_pages_without_losing_rows_that_share_a_time(db: Db) -> None:
    # Five rows; C-2, C-3 and C-4 share a time that straddles the first page boundary.
    db.add("C-1", T0)
    for ref in ("C-2", "C-3", "C-4"):
        db.add(ref, T0 + timedelta(minutes=1))
    db.add("C-5", T0 + timedelta(minutes=2))
    source = db.source(page_size=2)

    first = source.poll(None, SeenSet(), NOW)
    # The page of two ends inside the tie, so the whole tie is read with it.
    assert sorted(refs(first)) == ["C-1", "C-2", "C-3", "C-4"]
    assert first.more

    second = source.poll(first.watermark, SeenSet(), NOW)
    assert refs(second) == ["C-5"]
    assert not second.more


def test_the_watermark_is_bound_as_a_value_never_spliced_into_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'text.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE feed (custody_ref, suite, arrival_time, updated_at)"))
        conn.execute(sa.text("INSERT INTO feed VALUES ('C-1', 'S1', 'x', '2026-06-10T08:00Z')"))
    source = SqlTable("db", url, "feed")

    assert not source.poll("9' OR '1'='1", SeenSet(), NOW).batches
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM feed")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"table": "records; DROP TABLE records"}, "table"),
        ({"table": 'records" --'}, "table"),
        ({"table": "main.records"}, "table"),
        ({"table": "records", "schema": "public; --"}, "schema"),
        ({"table": "records", "columns": {"custody_ref": "ref) OR 1=1 --"}}, "columns.custody_ref"),
        ({"table": "records", "updated_at_column": "1updated"}, "updated_at_column"),
    ],
)
def test_a_malicious_looking_identifier_is_refused_when_the_source_is_built(
    kwargs: dict[str, Any], key: str
) -> None:
    table = kwargs.pop("table")

    with pytest.raises(ConfigError, match=f"{key} .* is not a plain SQL identifier"):
        SqlTable("db", "sqlite://", table, **kwargs)


def test_a_column_map_naming_an_unknown_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"columns\.custody_id: not a field"):
        SqlTable("db", "sqlite://", "records", columns={"custody_id": "ref"})


def test_a_missing_table_or_column_fails_as_not_transient(db: Db) -> None:
    with pytest.raises(SourceError, match="no table or view") as caught:
        SqlTable("db", db.url, "no_such_table").poll(None, SeenSet(), NOW)
    assert not caught.value.transient

    with pytest.raises(SourceError, match="no column 'nope'") as caught:
        db.source(columns={"suite": "nope", **COLUMNS}).poll(None, SeenSet(), NOW)
    assert not caught.value.transient


def test_a_table_without_a_required_field_fails_as_not_transient(db: Db) -> None:
    with pytest.raises(SourceError, match=r"required field.* custody_ref, arrival_time"):
        db.source(columns={}).poll(None, SeenSet(), NOW)


def test_a_database_that_cannot_be_reached_fails_as_transient(tmp_path: Path) -> None:
    source = SqlTable("db", f"sqlite:///{tmp_path / 'absent' / 'x.db'}", "records")

    with pytest.raises(SourceError, match="db: database error") as caught:
        source.poll(None, SeenSet(), NOW)

    assert caught.value.transient


@pytest.mark.postgres
def test_a_schema_and_a_text_updated_at_column_work_on_postgresql(
    pg_table: tuple[str, str],
) -> None:
    url, name = pg_table
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f'CREATE TABLE public."{name}" '
                "(custody_ref text, suite text, arrival_time text, changed text)"
            )
        )
        conn.execute(
            sa.text(f'INSERT INTO public."{name}" VALUES (:r, :s, :a, :c)'),
            [
                {"r": "C-1", "s": "S1", "a": "2026-06-10T08:00:00Z", "c": "2026-06-10T08:01:00Z"},
                {"r": "C-2", "s": "S1", "a": "2026-06-10T08:00:00Z", "c": "2026-06-10T08:02:00Z"},
            ],
        )
    engine.dispose()
    source = SqlTable("db", url, name, schema="public", updated_at_column="changed")

    first = source.poll("2026-06-10T08:01:00Z", SeenSet(), NOW)

    assert refs(first) == ["C-2"]
    assert first.watermark == "2026-06-10T08:02:00Z"
    assert first.batches[0].rows[0].values["updated_at"] == "2026-06-10T08:02:00Z"
    source.close()


def test_after_a_database_error_the_table_is_looked_at_again(tmp_path: Path) -> None:
    db = Db(f"sqlite:///{tmp_path / 'renamed.db'}", "records")
    db.add("C-1", T0)
    source = db.source()
    source.poll(None, SeenSet(), NOW)
    with db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE records RENAME COLUMN suite TO suite_code"))

    with pytest.raises(SourceError, match="database error") as failed:
        source.poll(None, SeenSet(), NOW)
    assert failed.value.transient

    with pytest.raises(SourceError, match=r"required field\(s\) suite") as reflected:
        source.poll(None, SeenSet(), NOW)
    assert not reflected.value.transient


def test_the_spec_fields_are_the_format_s_v1_and_v2_fields_and_nothing_else() -> None:
    from custody_watch.sources.sql import SPEC_FIELDS

    # feed_carries is what a Detention records of a feed, not a column a table may map.
    assert "feed_carries" not in SPEC_FIELDS
    assert {"welfare_person_informed_time", "looked_after", "cell_visit_times"} <= set(SPEC_FIELDS)
