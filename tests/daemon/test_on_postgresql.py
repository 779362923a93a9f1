"""The same daemon on PostgreSQL: migrations, versions, alerts, ack and resolution."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Daemon
from .test_run_once import CHILD, RELEASED

pytestmark = pytest.mark.postgres


def test_the_alert_lifecycle_runs_the_same_on_postgresql(
    make_daemon: Callable[..., Daemon], postgres_schema_url: str
) -> None:
    daemon = make_daemon(database=postgres_schema_url)
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T09:30:00Z")
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()
    assert (alert["severity"], alert["state"]) == ("high", "open")

    code, _out, err = daemon.cli(
        "ack", alert["ack_code"], "--by", "insp-a", "--now", "2026-06-10T11:05:00Z"
    )
    assert code == 0, err
    daemon.drop("update.csv", RELEASED)
    daemon.run_once("2026-06-10T11:40:00Z")

    assert daemon.alerts() == []
    [resolved] = daemon.alerts("--all")
    assert resolved["state"] == "resolved"
    assert resolved["acknowledged_by"] == "insp-a"
    events = [e["event"] for e in daemon.json("audit", "--ref", "C-1")["events"]]
    assert events[0] == "opened" and "acknowledged" in events and events[-1] in {"resolved", "sent"}
