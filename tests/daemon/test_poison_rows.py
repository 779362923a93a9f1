"""Through the whole daemon: a row too long to store (a custody ref longer than its
column; the reader refuses it, and were one to get past, the store would refuse it alone:
``test_store_isolation``) costs only itself, on SQLite and on PostgreSQL; the file is read
once; and a source that fails is shown by ``sources`` with its count and last error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Daemon
from .test_evaluation_failed import CHILD_1, CHILD_2

LONG_REF = "C-" + "7" * 300
POISON = (
    f"{LONG_REF},suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-79\n"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def daemon(request: pytest.FixtureRequest, make_daemon: Callable[..., Daemon]) -> Daemon:
    if request.param == "sqlite":
        return make_daemon()
    return make_daemon(database=request.getfixturevalue("postgres_schema_url"))


def test_a_custody_ref_too_long_to_store_costs_only_its_row_and_the_file_is_read_once(
    daemon: Daemon,
) -> None:
    daemon.drop("day.csv", CHILD_1 + POISON + CHILD_2)
    daemon.run_once("2026-06-10T09:30:00Z")

    assert sorted(a["custody_ref"] for a in daemon.alerts()) == ["C-1", "C-2"]
    [rejected] = daemon.json("quarantine")["rejected"]
    assert (rejected["file"], rejected["row"]) == ("day.csv", 2)
    assert rejected["error"].startswith("custody_ref: ")
    assert LONG_REF not in rejected["error"]
    [source] = daemon.json("sources")["sources"]
    assert (source["failures"], source["last_error"]) == (0, None)

    daemon.run_once("2026-06-10T09:35:00Z")  # marked read: not read, nor quarantined, again
    assert len(daemon.json("quarantine")["rejected"]) == 1


def test_a_source_that_fails_is_shown_with_its_count_and_last_error(daemon: Daemon) -> None:
    daemon.drop("day.csv", CHILD_1)
    daemon.run_once("2026-06-10T09:00:00Z")
    daemon.inbox.rename(daemon.inbox.with_name("gone"))
    daemon.run_once("2026-06-10T09:05:00Z")
    daemon.run_once("2026-06-10T09:06:00Z")

    [source] = daemon.json("sources")["sources"]
    assert source["failures"] == 2
    assert source["last_error"] and source["last_error_at"] == "2026-06-10T09:06:00Z"
    code, out, _err = daemon.cli("sources")
    assert code == 0 and "failures" in out
    # The cycle went on: C-1's alert is still evaluated and live.
    assert [a["custody_ref"] for a in daemon.alerts()] == ["C-1"]
