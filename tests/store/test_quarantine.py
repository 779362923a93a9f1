"""The quarantine keeps contract fields only, on both databases: unknown columns (a name, an
address) never reach it, an unparseable line keeps its file, row and error but no text, and
an error about a personal field keeps its reason without the value. End to end too: a drop
file with extra columns, polled by the daemon, leaves nothing of them in the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.ingest import Rejection
from custody_watch.store import quarantine
from custody_watch.store.db import make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import QuarantineRow

NOW = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
NAME, STREET = "Jonathan Example-Person", "12 Acacia Avenue"


@pytest.fixture
def sessions(fresh_engine: Engine) -> sessionmaker[Session]:
    upgrade(fresh_engine)
    return make_sessionmaker(fresh_engine)


def stored(sessions: sessionmaker[Session], *rejections: Rejection) -> list[QuarantineRow]:
    with sessions.begin() as session:
        quarantine.add(session, "suite-a", "day.csv", rejections, NOW)
    with sessions() as session:
        return list(session.scalars(select(QuarantineRow).order_by(QuarantineRow.row)))


def test_unknown_columns_are_dropped_before_the_row_is_stored(
    sessions: sessionmaker[Session],
) -> None:
    raw = json.dumps(
        {
            "custody_ref": "C-1",
            "suite": "suite-a",
            "arrival_time": "2026-01-14T08:00:00",
            "full_name": NAME,
            "home_address": STREET,
        }
    )
    [row] = stored(sessions, Rejection(2, "C-1", "arrival_time: no UTC offset", raw))
    assert json.loads(row.raw) == {
        "custody_ref": "C-1",
        "suite": "suite-a",
        "arrival_time": "2026-01-14T08:00:00",
    }
    assert NAME not in row.raw and STREET not in row.raw


def test_an_unparseable_line_keeps_its_row_and_error_but_no_text(
    sessions: sessionmaker[Session],
) -> None:
    rows = stored(
        sessions,
        Rejection(3, None, "row: not valid JSON", f'{{"custody_ref": "C-2", "name": "{NAME}"'),
        Rejection(4, None, "row: the JSON line is not an object", json.dumps([NAME, STREET])),
    )
    assert [(r.row, r.error, r.raw) for r in rows] == [
        (3, "row: not valid JSON", ""),
        (4, "row: the JSON line is not an object", ""),
    ]


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (
            "date_of_birth: not a date in the form YYYY-MM-DD: '01/06/2010'",
            "date_of_birth: not a date in the form YYYY-MM-DD: (value not kept)",
        ),
        (
            "date_of_birth: 2011-02-03 is after the date of arrival (2010-01-01)",
            "date_of_birth: the value is after the date of arrival (2010-01-01)",
        ),
        (
            f"person_ref: longer than 64 characters: '{NAME} {STREET} Leeds'... (90 characters)",
            "person_ref: longer than 64 characters: (value not kept)",
        ),
        (
            "person_ref: holds a control character: 'Jo\\nSmith'",
            "person_ref: holds a control character: (value not kept)",
        ),
        # Not a personal field: the contract's 40-character quote stays, to find the row.
        ("arrival_time: not a valid time: 'tuesday'", "arrival_time: not a valid time: 'tuesday'"),
    ],
)
def test_an_error_about_a_personal_field_keeps_the_reason_not_the_value(
    sessions: sessionmaker[Session], error: str, kept: str
) -> None:
    [row] = stored(sessions, Rejection(2, "C-1", error, ""))
    assert row.error == kept
