"""Retention end to end, on SQLite and PostgreSQL: a child's detention goes through the
daemon (alert raised, resolved on release), another child is still held; years later
``custody-watch retention --dry-run`` counts what would go without deleting it, ``retention``
deletes exactly that and audits the counts, and the daemon's daily job does the same with its
own clock. The held child and its live alert are kept."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.scheduler import add_jobs, run_retention
from custody_watch.times import parse_instant

from .support import Daemon
from .test_run_once import CHILD, RELEASED

HELD = (
    "C-3,suite-a,2026-06-10T09:00:00+01:00,2011-05-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-78\n"
)
YEARS_LATER = "2032-06-11T00:00:00Z"  # past the six-year default for the release on 10 June 2026
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def history(daemon: Daemon) -> None:
    daemon.drop("day.csv", CHILD + HELD)
    daemon.run_once("2026-06-10T09:30:00Z")
    daemon.run_once("2026-06-10T11:00:00Z")
    daemon.drop("update.csv", RELEASED)
    daemon.run_once("2026-06-10T11:40:00Z")
    refs = {(a["custody_ref"], a["state"]) for a in daemon.alerts("--all")}
    assert ("C-1", "resolved") in refs and ("C-3", "open") in refs


def counts(daemon: Daemon, *args: str) -> dict[str, Any]:
    return daemon.json("retention", "--now", YEARS_LATER, *args)


def url_for(request: pytest.FixtureRequest, database: str) -> str | None:
    return request.getfixturevalue("postgres_schema_url") if database == "postgresql" else None


@pytest.mark.parametrize("database", DATABASES)
def test_the_dry_run_counts_and_the_command_deletes_exactly_that(
    make_daemon: Callable[..., Daemon], request: pytest.FixtureRequest, database: str
) -> None:
    daemon = make_daemon(database=url_for(request, database))
    history(daemon)

    dry = counts(daemon, "--dry-run")
    assert dry["dry_run"] is True and dry["at"] == YEARS_LATER
    assert dry["counts"]["detentions"] == 1 and dry["counts"]["alerts"] == 1
    assert dry["counts"]["detention_versions"] == 2  # C-1's first row and its release
    assert dry["counts"]["messages"] >= 1
    assert counts(daemon, "--dry-run") == dry  # nothing was deleted

    done = counts(daemon)
    assert done["dry_run"] is False and done["counts"] == dry["counts"]
    assert [a["custody_ref"] for a in daemon.alerts("--all")] == ["C-3"]
    assert counts(daemon, "--dry-run")["counts"]["detentions"] == 0
    events = daemon.json("audit")["events"]
    [audited] = [e for e in events if e["event"] == "retention"]
    assert audited["actor"] == "cli" and audited["detail"].startswith("deleted 1 detentions")

    code, out, _err = daemon.cli("retention", "--dry-run", "--now", YEARS_LATER)
    assert code == 0 and "would delete" in out and "detentions" in out


def test_a_bad_time_is_refused(make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    code, _out, err = daemon.cli("retention", "--now", "someday")
    assert code == 2 and err.startswith("custody-watch: --now:")


def test_the_daemon_runs_retention_daily_with_its_own_clock(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    history(daemon)
    clock = FixedClock(parse_instant(YEARS_LATER))
    ctx = build_context(read_settings(daemon.config), clock, stream=io.StringIO())
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    job = scheduler.get_job("retention")
    assert job is not None and job.trigger.interval.total_seconds() == 24 * 3600

    run_retention(ctx)
    ctx.engine.dispose()
    assert [a["custody_ref"] for a in daemon.alerts("--all")] == ["C-3"]
    [audited] = [e for e in daemon.json("audit")["events"] if e["event"] == "retention"]
    assert audited["at"] == YEARS_LATER and audited["actor"] != "cli"
