"""``snooze``, ``note``, ``escalate``, ``reassign`` and ``alerts --format csv`` from the
command line, over a real store filled by ``run --once`` (as an inspector would use them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from daemon.conftest import make_daemon
from daemon.support import Daemon

__all__ = ["make_daemon"]

# A 15-year-old arrives at 09:00 BST with no appropriate adult: a high alert by 12:00 BST.
CHILD = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)
T = "2026-06-10T11:00:00Z"  # 12:00 BST: 3h in custody


def opened(make: Callable[..., Daemon]) -> tuple[Daemon, str]:
    daemon = make()
    daemon.drop("day.csv", CHILD)
    daemon.run_once(T)
    [alert] = daemon.alerts()
    return daemon, alert["ack_code"]


def test_a_snooze_pauses_paging_until_it_ends_and_is_audited(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    result = daemon.cli(
        "snooze", code, "--by", "insp-a", "--for", "45m", "--reason", "AA on the way", "--now", T
    )
    assert result[0] == 0, result[2]
    assert "snoozed until Wed 10 Jun 12:45 BST (2026-06-10T11:45:00Z)" in result[1]
    # Level 1's wait is 15m: without the snooze level 2 would be paged at 11:15.
    assert "Reply ACK" not in daemon.run_once("2026-06-10T11:30:00Z")
    assert "Reply ACK" in daemon.run_once("2026-06-10T11:46:00Z")
    events = daemon.json("audit", "--ref", "C-1")["events"]
    [snoozed] = [e for e in events if e["event"] == "snoozed"]
    assert snoozed["actor"] == "insp-a" and "AA on the way" in snoozed["detail"]


def test_a_snooze_longer_than_two_hours_is_refused_with_one_line(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, _out, err = daemon.cli(
        "snooze", code, "--by", "insp-a", "--for", "3h", "--reason", "x", "--now", T
    )
    assert exit_code == 2
    assert err.count("\n") == 1 and "at most 2h" in err


def test_a_note_is_kept_and_audited(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, out, err = daemon.cli(
        "note", code, "--by", "insp-a", "--text", "Handover: AA called 10:55", "--now", T
    )
    assert exit_code == 0, err
    assert "note added" in out
    events = daemon.json("audit", "--ref", "C-1")["events"]
    assert any(e["event"] == "note_added" and "AA called" in e["detail"] for e in events)


def test_escalate_now_pages_the_next_level_at_once(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, _out, err = daemon.cli(
        "escalate", code, "--by", "insp-a", "--now", "2026-06-10T11:01:00Z"
    )
    assert exit_code == 0, err
    [alert] = daemon.alerts()
    assert alert["escalation_level"] == 2
    sent = daemon.run_once("2026-06-10T11:01:00Z")
    assert "ESCALATED TO LEVEL 2" in sent


def test_reassign_pages_the_person_named_instead_of_the_rota(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, _out, err = daemon.cli(
        "reassign", code, "--by", "insp-a", "--to", "supt-b", "--now", "2026-06-10T11:01:00Z"
    )
    assert exit_code == 0, err
    daemon.run_once("2026-06-10T11:01:00Z")
    events = daemon.json("audit", "--ref", "C-1")["events"]
    assert any(e["event"] == "reassigned" and e["detail"] == "to supt-b" for e in events)
    sends = [e["detail"] for e in events if e["event"] == "sent"]
    assert any("to supt-b" in d for d in sends)

    exit_code, _out, err = daemon.cli("reassign", code, "--by", "insp-a", "--to", "nobody")
    assert exit_code == 2 and "--to" in err


def test_alerts_as_csv_has_a_header_and_one_row_an_alert(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, out, err = daemon.cli("alerts", "--format", "csv")
    assert exit_code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    assert rows[0]["ack_code"] == code and rows[0]["custody_ref"] == "C-1"
    assert rows[0]["opened_at"] == T
    assert rows[0]["findings"] == "appropriate_adult:high"


def test_ack_without_now_on_a_replay_uses_the_replays_clock(make_daemon) -> None:
    daemon, code = opened(make_daemon)
    exit_code, out, err = daemon.cli("ack", code, "--by", "insp-a")
    assert exit_code == 0, err
    assert "replay" in err and "acknowledged by insp-a" in out
    [alert] = daemon.alerts()
    # The store's latest event is the replay's cycle at T, not today's date.
    assert alert["acknowledged_at"] == T
