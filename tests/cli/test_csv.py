"""``--format csv`` for quarantine, audit and the digest's figures: the JSON's fields as
columns, one row each, readable by the stdlib's csv reader."""

from __future__ import annotations

import csv
import io

from daemon.conftest import make_daemon

from .test_alert_actions import CHILD, T

__all__ = ["make_daemon"]

BAD = "C-9,suite-a,2026-06-10T09:00:00,2011-03-01,pace_arrest,,,,,,P-9\n"  # no UTC offset


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_quarantine_and_audit_as_csv_have_the_json_fields(make_daemon) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD + BAD)
    daemon.run_once(T)

    code, out, err = daemon.cli("quarantine", "--format", "csv")
    assert code == 0, err
    [rejected] = rows_of(out)
    assert list(rejected) == ["source", "file", "row", "custody_ref", "error", "received_at"]
    assert rejected["custody_ref"] == "C-9" and rejected["row"] == "2"

    code, out, err = daemon.cli("audit", "--ref", "C-1", "--format", "csv")
    assert code == 0, err
    events = rows_of(out)
    assert events and list(events[0]) == [
        "at",
        "alert_id",
        "custody_ref",
        "event",
        "actor",
        "detail",
    ]
    assert {e["custody_ref"] for e in events} == {"C-1"}
    assert "opened" in {e["event"] for e in events}
    json_events = daemon.json("audit", "--ref", "C-1")["events"]
    assert [e["event"] for e in events] == [e["event"] for e in json_events]


def test_the_digest_figures_as_csv_are_the_json_figures_by_dotted_name(make_daemon) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once(T)
    code, out, err = daemon.cli("digest", "--date", "2026-06-11", "--format", "csv", "--now", T)
    assert code == 0, err
    figures = {r["figure"]: r["value"] for r in rows_of(out)}
    data = daemon.json("digest", "--date", "2026-06-11", "--now", T)
    some = next(k for k, v in data["totals"].items() if isinstance(v, int))
    assert figures[f"totals.{some}"] == str(data["totals"][some])
