"""The v2 rules through the daemon (issue 16): a drop folder, ``run --once --now``, the
store and the alert lifecycle. ``repeat_detention`` counts records stored by earlier polls;
``referral_missing`` never becomes an alert; a looked-after child's alert is raised a step
and no SMS says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Daemon

# Both databases: repeat_detention's look-up is a query on the store.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def v2_daemon(request: pytest.FixtureRequest, make_daemon: Callable[..., Daemon]) -> Daemon:
    if request.param == "sqlite":
        return make_daemon()
    return make_daemon(database=request.getfixturevalue("postgres_schema_url"))


HEADER = (
    "custody_ref,suite,arrival_time,date_of_birth,person_ref,looked_after,"
    "appropriate_adult_arrived_time,welfare_person_informed_time,interview_times,cell_time,"
    "released_time,social_care_referral_time\n"
)
# Two earlier detentions of P-5, both within 90 days of 10 June, both long released.
EARLIER = (
    "R-1,suite-a,2026-05-01T10:00:00Z,2011-03-01,P-5,false,2026-05-01T10:00:00Z,"
    "2026-05-01T10:10:00Z,,,2026-05-01T12:00:00Z,2026-05-01T12:30:00Z\n"
    "R-2,suite-a,2026-06-01T10:00:00Z,2011-03-01,P-5,false,2026-06-01T10:00:00Z,"
    "2026-06-01T10:10:00Z,,,2026-06-01T12:00:00Z,2026-06-01T12:30:00Z\n"
)
# On 10 June (BST): P-5 again; a looked-after child interviewed at 09:30 BST before the
# appropriate adult came at 10:00, put in a cell with no reason at 09:10, welfare contact
# not told; a child released at 09:30 BST with no referral (the feed carries the column).
TODAY = (
    "R-3,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,P-5,false,2026-06-10T09:00:00+01:00,"
    "2026-06-10T09:10:00+01:00,,,,\n"
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,P-9,true,2026-06-10T10:00:00+01:00,,"
    "2026-06-10T09:30:00+01:00,2026-06-10T09:10:00+01:00,,\n"
    "RF-1,suite-a,2026-06-10T08:00:00+01:00,2011-03-01,P-8,false,2026-06-10T08:00:00+01:00,"
    "2026-06-10T08:10:00+01:00,,,2026-06-10T09:30:00+01:00,\n"
)


def drop(daemon: Daemon, name: str, rows: str) -> None:
    partial = daemon.inbox / f".{name}.partial"
    partial.write_text(HEADER + rows, encoding="utf-8")
    partial.rename(daemon.inbox / name)


def test_the_v2_findings_raise_alerts_end_to_end(v2_daemon: Daemon) -> None:
    daemon = v2_daemon
    drop(daemon, "earlier.csv", EARLIER)
    daemon.run_once("2026-06-09T12:00:00Z")
    assert daemon.alerts() == []

    drop(daemon, "today.csv", TODAY)
    out = daemon.run_once("2026-06-10T09:15:00Z")  # 10:15 BST

    alerts = {alert["custody_ref"]: alert for alert in daemon.alerts()}
    assert set(alerts) == {"R-3", "C-1"}  # RF-1's referral_missing is no alert

    repeat = alerts["R-3"]
    assert [(f["rule"], f["severity"], f["since"]) for f in repeat["findings"]] == [
        ("repeat_detention", "warning", "2026-06-10T08:00:00Z")
    ]

    child = alerts["C-1"]
    assert child["severity"] == "critical"
    found = {f["rule"]: (f["severity"], f["since"]) for f in child["findings"]}
    assert found == {
        # looked after: high -> critical, warning (1h) -> high
        "interview_without_aa": ("critical", "2026-06-10T08:30:00Z"),
        "child_in_cell": ("critical", "2026-06-10T08:10:00Z"),
        "welfare_not_informed": ("high", "2026-06-10T09:00:00Z"),
        # placed 09:10, no visit: due 09:40 (warning -> high), 10:10 (high -> critical)
        "cell_visit_overdue": ("critical", "2026-06-10T09:10:00Z"),
    }
    details = " ".join(f["detail"] for f in child["findings"])
    assert "interviewed without an appropriate adult at 09:30 BST" in details

    # The pages went out, and no SMS says a child is looked after or names the person.
    assert "Reply ACK" in out
    for word in ("looked", "P-5", "P-9", "2011-03-01", "local authority"):
        assert word not in out, word


def test_a_released_child_without_a_referral_is_never_alerted_and_its_alert_resolves(
    v2_daemon: Daemon,
) -> None:
    daemon = v2_daemon
    # In custody with the welfare contact not told: an alert; then released, no referral.
    drop(
        daemon,
        "a.csv",
        "RF-2,suite-a,2026-06-10T08:00:00Z,2011-03-01,P-1,false,2026-06-10T08:00:00Z,,,,,\n",
    )
    daemon.run_once("2026-06-10T09:30:00Z")
    [alert] = daemon.alerts()
    assert [f["rule"] for f in alert["findings"]] == ["welfare_not_informed"]

    drop(
        daemon,
        "b.csv",
        "RF-2,suite-a,2026-06-10T08:00:00Z,2011-03-01,P-1,false,2026-06-10T08:00:00Z,,,,"
        "2026-06-10T10:00:00Z,\n",
    )
    daemon.run_once("2026-06-10T10:30:00Z")
    assert daemon.alerts() == []  # resolved on release; referral_missing opened nothing
    [resolved] = daemon.alerts("--all")
    assert resolved["state"] == "resolved"
    assert "referral_missing" not in [f["rule"] for f in resolved["findings"]]
