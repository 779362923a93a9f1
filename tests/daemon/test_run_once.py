"""``run --once --now`` over a drop folder: alerts open, rise, get acknowledged, resolve; the
audit says why; a restart repeats nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Daemon

# A 15-year-old arrives at 09:00 BST; no appropriate adult is requested.
CHILD = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)
ADULT = "C-2,suite-a,2026-06-10T09:00:00+01:00,1980-01-01,pace_arrest,,,,,,\n"
RELEASED = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,"
    "2026-06-10T12:30:00+01:00,2026-06-10T12:30:00+01:00,P-77\n"
)


def test_a_child_without_an_appropriate_adult_opens_one_alert(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD + ADULT)
    daemon.run_once("2026-06-10T09:30:00Z")  # 10:30 BST: 1h30m in custody

    [alert] = daemon.alerts()
    assert alert["custody_ref"] == "C-1"
    assert alert["state"] == "open"
    assert alert["severity"] == "warning"
    assert [f["rule"] for f in alert["findings"]] == ["appropriate_adult"]
    assert alert["findings"][0]["since"] == "2026-06-10T09:00:00Z"
    assert alert["opened_at"] == "2026-06-10T09:30:00Z"
    assert len(alert["ack_code"]) == 4 and alert["ack_code"].isdigit()


def test_a_rise_in_severity_keeps_one_alert_and_notifies_again(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    first = daemon.run_once("2026-06-10T09:30:00Z")
    assert first.count("Reply ACK") == 1
    later = daemon.run_once("2026-06-10T11:00:00Z")  # 3h: appropriate_adult turns high

    [alert] = daemon.alerts()
    assert alert["severity"] == "high"
    assert later.count("Reply ACK") == 1
    assert "HIGH" in later


def test_an_acknowledged_alert_stops_paging_and_is_audited(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()

    code, out, err = daemon.cli(
        "ack", alert["ack_code"], "--by", "insp-a", "--now", "2026-06-10T11:05:00Z"
    )
    assert code == 0, err
    [acked] = daemon.alerts()
    assert acked["state"] == "acknowledged"
    assert acked["acknowledged_by"] == "insp-a"
    assert acked["acknowledged_at"] == "2026-06-10T11:05:00Z"
    # Level 1's wait (15m) passes: no page to level 2, because it is acknowledged.
    out = daemon.run_once("2026-06-10T11:20:00Z")
    assert "Reply ACK" not in out
    events = daemon.json("audit", "--ref", "C-1")["events"]
    assert any("ack" in e["event"] and e["actor"] == "insp-a" for e in events)


def test_an_unknown_ack_code_is_an_input_error(make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    code, _out, err = daemon.cli("ack", "0000", "--by", "insp-a")
    assert code == 2
    assert err.count("\n") == 1 and "0000" in err


def test_release_resolves_the_alert_and_a_new_problem_opens_a_new_one(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T11:00:00Z")
    daemon.drop("update.csv", RELEASED)
    out = daemon.run_once("2026-06-10T11:40:00Z")

    assert daemon.alerts() == []
    [resolved] = daemon.alerts("--all")
    assert resolved["state"] == "resolved"
    assert resolved["resolved_at"] == "2026-06-10T11:40:00Z"
    assert "resolved" in out
    events = [e["event"] for e in daemon.json("audit", "--ref", "C-1")["events"]]
    assert events.index("opened") < events.index("resolved")


def test_running_again_at_the_same_instant_sends_nothing_twice(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    first = daemon.run_once("2026-06-10T11:00:00Z")
    again = daemon.run_once("2026-06-10T11:00:00Z")

    assert first.count("Reply ACK") == 1
    assert "Reply ACK" not in again
    assert len(daemon.alerts()) == 1


def test_escalation_resumes_after_a_restart_on_its_own_timetable(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T11:00:00Z")  # high: insp-a paged, level 2 due at 11:15
    assert "+447700900002" not in daemon.run_once("2026-06-10T11:14:00Z")
    out = daemon.run_once("2026-06-10T11:16:00Z")  # a new process: the timer was in the store

    assert "+447700900002" in out  # the superintendent, level 2


def test_no_sms_names_the_child(make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    out = daemon.run_once("2026-06-10T11:00:00Z")

    assert "Reply ACK" in out
    assert "2011-03-01" not in out and "P-77" not in out


def test_rejected_rows_are_quarantined_with_their_reason(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    bad = "C-9,suite-a,2026-06-10T09:00:00,2011-03-01,pace_arrest,,,,,,\n"
    daemon.drop("day.csv", CHILD + bad)
    daemon.run_once("2026-06-10T09:30:00Z")

    [rejected] = daemon.json("quarantine")["rejected"]
    assert rejected["source"] == "suite-a"
    assert rejected["file"] == "day.csv"
    assert rejected["row"] == 2
    assert rejected["custody_ref"] == "C-9"
    assert rejected["error"].startswith("arrival_time:")
    assert rejected["received_at"] == "2026-06-10T09:30:00Z"
    assert len(daemon.alerts()) == 1  # the good row was not lost


def test_a_silent_feed_raises_feed_stale_and_clears_when_data_returns(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", ADULT)
    daemon.run_once("2026-06-10T09:00:00Z")
    # The folder answers every poll (a successful poll counts as heard from), so make it fail.
    daemon.inbox.rename(daemon.inbox.with_name("gone"))
    daemon.run_once("2026-06-10T09:10:00Z")
    assert daemon.alerts() == []
    daemon.run_once("2026-06-10T09:16:00Z")

    [stale] = daemon.alerts()
    assert stale["custody_ref"] is None
    assert [f["rule"] for f in stale["findings"]] == ["feed_stale"]
    assert stale["severity"] == "high"
    daemon.inbox.with_name("gone").rename(daemon.inbox)
    daemon.run_once("2026-06-10T09:20:00Z")
    assert daemon.alerts() == []


def test_a_readable_folder_that_stops_receiving_files_is_stale_when_asked_to_expect_data(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    text = daemon.config.read_text(encoding="utf-8")
    daemon.config.write_text(
        text.replace('stale_after = "15m"', 'stale_after = "15m"\nexpect_data_within = "1h"'),
        encoding="utf-8",
    )
    daemon.drop("day.csv", ADULT)
    daemon.run_once("2026-06-10T09:00:00Z")
    daemon.run_once("2026-06-10T09:59:00Z")  # every poll succeeds, nothing new
    assert daemon.alerts() == []

    daemon.run_once("2026-06-10T10:00:00Z")
    [stale] = daemon.alerts()
    assert [f["rule"] for f in stale["findings"]] == ["feed_stale"]
    daemon.drop("more.csv", CHILD)
    daemon.run_once("2026-06-10T10:05:00Z")
    assert all(a["custody_ref"] is not None for a in daemon.alerts())


@pytest.mark.parametrize("by", ["", "   ", "nobody-here", "insp-a-typo"])
def test_an_ack_by_nobody_known_is_refused_and_the_alert_stays_open(
    make_daemon: Callable[..., Daemon], by: str
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()

    code, _out, err = daemon.cli("ack", alert["ack_code"], "--by", by)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("custody-watch: --by:")
    [still] = daemon.alerts()
    assert still["state"] == "open" and still["acknowledged_by"] is None


def test_an_enabled_web_user_may_ack_from_the_command_line_and_a_disabled_one_may_not(
    make_daemon: Callable[..., Daemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    daemon = make_daemon()
    for name in ("duty-sgt", "gone-user"):
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase 7\n"))
        code, _out, err = daemon.cli("user", "add", name, "--role", "inspector", "--password-stdin")
        assert code == 0, err
    assert daemon.cli("user", "disable", "gone-user")[0] == 0
    daemon.drop("day.csv", CHILD)
    daemon.run_once("2026-06-10T11:00:00Z")
    [alert] = daemon.alerts()

    assert daemon.cli("ack", alert["ack_code"], "--by", "gone-user")[0] == 2
    code, _out, err = daemon.cli("ack", alert["ack_code"], "--by", "duty-sgt")
    assert code == 0, err
    assert daemon.alerts()[0]["acknowledged_by"] == "duty-sgt"
