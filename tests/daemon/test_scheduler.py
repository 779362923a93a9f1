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
from custody_watch.daemon.compose import build_context
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


def test_a_digest_that_hangs_never_holds_up_a_tick(
    make_daemon: Callable[..., Daemon], monkeypatch
) -> None:
    """The digest has its own job and thread: an SMTP server slow to take it (here, one
    that never answers until the test lets it) does not stop ticks or heartbeats."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from custody_watch.daemon import scheduler as daemon_scheduler

    daemon = make_daemon()
    ctx = build_context(
        read_settings(daemon.config),
        FixedClock(parse_instant("2026-06-10T10:58:00Z")),
        stream=io.StringIO(),
    )
    stuck = threading.Event()
    digest_started = threading.Event()

    def hanging_digest(*_args: object, **_kwargs: object) -> list[object]:
        digest_started.set()
        stuck.wait(30)
        return []

    monkeypatch.setattr(daemon_scheduler.digest_send, "send_due_digest", hanging_digest)
    ticks: list[bool] = []
    beats: list[bool] = []
    scheduler = BackgroundScheduler()
    daemon_scheduler.add_jobs(
        scheduler,
        ctx,
        speed=10.0,  # a tick every 0.2 s
        on_cycle=lambda _at, _took, ok: ticks.append(ok),
        on_heartbeat=lambda _at, ok: beats.append(ok),
    )
    scheduler.start()
    try:
        assert digest_started.wait(10), "the digest job never started"
        before = len(ticks)
        time.sleep(2.0)
        assert ctx.status.read().running.get("digest") is not None  # still hanging...
        assert len(ticks) - before >= 4  # ...while ticks go on
        assert ticks[-1] and beats and beats[-1]
        assert ctx.status.read().write_age is not None
    finally:
        stuck.set()
        scheduler.shutdown(wait=True)
        ctx.engine.dispose()


def test_a_restarted_daemon_frees_the_digest_it_was_sending_at_once(
    make_daemon: Callable[..., Daemon],
) -> None:
    """Killed while sending the digest: the same daemon (same worker id) restarted frees
    its claim on start, so the digest goes now rather than after the lease."""
    from datetime import date

    from custody_watch.daemon.scheduler import take_back_own_claims
    from custody_watch.digest.send import claim

    daemon = make_daemon()
    clock = FixedClock(parse_instant("2026-06-11T06:00:05Z"))
    ctx = build_context(read_settings(daemon.config), clock, stream=io.StringIO())
    window = (parse_instant("2026-06-10T06:00:00Z"), parse_instant("2026-06-11T06:00:00Z"))
    day = date(2026, 6, 11)
    assert claim(ctx.sessions, day, window, ctx.worker, clock.now())  # then kill -9
    clock.advance(timedelta(seconds=3))
    assert not claim(ctx.sessions, day, window, "another-daemon", clock.now())  # leased

    take_back_own_claims(ctx)  # the restart
    clock.advance(timedelta(seconds=1))
    assert claim(ctx.sessions, day, window, ctx.worker, clock.now())
    ctx.engine.dispose()
