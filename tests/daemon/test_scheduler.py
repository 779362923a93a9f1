"""The running daemon: thresholds are acted on between polls, and SIGTERM stops it
cleanly with its state intact."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from custody_watch.clock import FixedClock
from custody_watch.config import read_settings
from custody_watch.daemon.build import build_context
from custody_watch.daemon.cycle import run_cycle
from custody_watch.daemon.scheduler import TICK_SECONDS, run_one_cycle
from custody_watch.times import parse_instant

from .support import Daemon
from .test_run_once import CHILD


def test_a_threshold_between_polls_is_raised_within_one_tick(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)  # appropriate_adult turns high at 11:00:00Z exactly
    clock = FixedClock(parse_instant("2026-06-10T10:58:00Z"))
    ctx = build_context(read_settings(daemon.config), clock, stream=io.StringIO())
    run_cycle(ctx, clock.now(), poll_all=True)

    clock.set(parse_instant("2026-06-10T11:00:00Z") + timedelta(seconds=TICK_SECONDS))
    run_one_cycle(ctx)  # no poll is due (poll_every 1m has not passed since 10:58)...

    [alert] = daemon.alerts()  # ...yet the threshold was acted on
    assert alert["severity"] == "high"
    [finding] = alert["findings"]
    assert finding["since"] == "2026-06-10T11:00:00Z"
    ctx.engine.dispose()


def test_sigterm_finishes_the_cycle_and_exits_cleanly(
    make_daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    env = {k: v for k, v in os.environ.items() if k != "CUSTODY_WATCH_TWILIO_AUTH_TOKEN"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "custody_watch",
            "run",
            "--config",
            str(daemon.config),
            "--now",
            "2026-06-10T11:00:00Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not daemon.alerts():
            time.sleep(0.2)
        assert daemon.alerts(), "the daemon opened no alert within 30 s"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "custody-watch stopped" in err
    [alert] = daemon.alerts()
    assert alert["state"] == "open"
