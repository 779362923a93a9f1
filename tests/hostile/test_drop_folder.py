"""Every kind of poison beside real children in drop folders: the cycle completes, the
children's alerts are exactly what the rules give for the good rows, and each poison row is
quarantined naming its field (or, valid after all, alerted on)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody_watch.cli import main

from .harness import HostileDaemon, assert_quarantined, expected_alerts
from .poison import (
    FILE_KINDS,
    ROW_KINDS,
    Format,
    Planted,
    arrivals,
    drop_file,
    good_row,
)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[HostileDaemon]:
    made = HostileDaemon(tmp_path, f"sqlite:///{tmp_path / 'cw.db'}", NOW)
    yield made
    made.close()


def plant_everything(
    daemon: HostileDaemon, rng: random.Random
) -> tuple[list[dict[str, str]], list[Planted], dict[str, Format], set[str]]:
    """One file per format with every row kind among good rows, and every file kind;
    returns the good rows, the poison, each file's format, and the refs in refused files."""
    refused: set[str] = set()
    good: list[dict[str, str]] = []
    planted: list[Planted] = []
    fmt_of: dict[str, Format] = {}
    fmts: tuple[Format, ...] = ("csv", "jsonl")
    for fmt in fmts:
        times = arrivals(NOW, 12, rng)
        rows = [good_row(f"{fmt.upper()}-{i}", at) for i, at in enumerate(times)]
        kinds = [kind for kind in ROW_KINDS if kind.fmt == fmt]
        poison = [(kind, f"X{fmt}-{i}", rng.choice(times)) for i, kind in enumerate(kinds)]
        name = f"feed.{fmt}"
        data, placed = drop_file(name, fmt, rows, poison, rng)
        daemon.drop(fmt, name, data)
        good += rows + [p.good for p in placed if p.good is not None]
        planted += placed
        fmt_of[name] = fmt
    for i, kind in enumerate(FILE_KINDS):
        rows = [good_row(f"F{i}-{j}", at) for j, at in enumerate(arrivals(NOW, 3, rng))]
        name = f"whole-{i:02}.{kind.fmt}"
        daemon.drop(kind.fmt, name, kind.data(rows))
        fmt_of[name] = kind.fmt
        if kind.field is None:
            good += rows
        else:
            planted.append(Planted(name, 0, kind.name, kind.field))
            refused |= {row["custody_ref"] for row in rows}
    return good, planted, fmt_of, refused


def test_every_poison_kind_beside_real_children_costs_only_itself(daemon: HostileDaemon) -> None:
    good, planted, fmt_of, refused = plant_everything(daemon, random.Random(10))
    severities: set[str] = set()

    for minutes in range(0, 60 * 30, 90):
        report = daemon.cycle(NOW + timedelta(minutes=minutes))
        assert report.failed == (), report.failed
        live = daemon.live_alerts()
        assert live == expected_alerts(good, daemon.policy, daemon.now), minutes
        assert not refused & set(live)  # nothing of a refused file was read
        severities |= set(live.values())

    assert severities == {"warning", "high", "critical"}  # the check saw every kind of alert
    assert any("undefinedmacro" in ref for ref in daemon.live_alerts())  # valid after all
    assert_quarantined(daemon, planted, fmt_of)
    for name in {p.file for p in planted if p.row == 0}:
        assert [q.row for q in daemon.quarantine() if q.file == name] == [0], name


def test_a_refused_file_is_reported_once_however_many_cycles_see_it(daemon: HostileDaemon) -> None:
    daemon.drop("csv", "no-header.csv", b"C-1,S1,2026-06-10T08:00:00Z\n")
    for minutes in range(0, 50, 10):
        daemon.cycle(NOW + timedelta(minutes=minutes))
    [entry] = daemon.quarantine()
    assert (entry.file, entry.row) == ("no-header.csv", 0)
    assert entry.error.startswith("header: no-header.csv: no header row")


def test_evaluate_reads_every_poison_file_and_exits_0(
    daemon: HostileDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    plant_everything(daemon, random.Random(11))
    for inbox in daemon.inbox.values():
        for path in sorted(inbox.iterdir()):
            if path.name.startswith("."):
                continue
            try:
                main(["evaluate", str(path), "--at", NOW.isoformat(), "--format", "json"])
                code = 0
            except SystemExit as exit_:
                code = int(exit_.code or 0)
            out, err = capsys.readouterr()
            assert "Traceback" not in out + err, path.name
            # bytes that are not UTF-8 are evaluate's one refusal (exit 2, one line)
            expected = 2 if _not_utf8(path) else 0
            assert code == expected, (path.name, err)
            if code == 2:
                assert err.count("\n") == 1 and path.name in err


def _not_utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_run_once_over_every_poison_kind_exits_0_and_alerts_on_the_children(
    daemon: HostileDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    good, planted, fmt_of, refused = plant_everything(daemon, random.Random(12))
    config = str(daemon.root / "custody-watch.toml")
    at = NOW + timedelta(hours=2)

    def cli(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            main([*args, "--config", config])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out

    # The configured folders (settle_time and all): the files are stamped after this
    # "now", so the short settle check stands in and they are read at once.
    code, _ = cli("run", "--once", "--now", at.isoformat())
    assert code == 0
    code, out = cli("alerts", "--format", "json")
    assert code == 0
    live = {
        alert["custody_ref"]: alert["severity"]
        for alert in json.loads(out)["alerts"]
        if alert.get("custody_ref")
    }
    # run --once reads each file whole in one cycle, whatever its chunks
    assert live == expected_alerts(good, daemon.policy, at)
    assert not refused & set(live)
    assert_quarantined(daemon, planted, fmt_of)
