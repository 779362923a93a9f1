"""Peak memory and tick delay while the daemon ingests one big drop file.

    python bench/big_drop.py                       # 205,000 rows (about 50 MB of CSV)
    python bench/big_drop.py --rows 100000 --keep /tmp/big.csv

Writes the file with bench/make_records.py (in a child process, so its memory is not
counted), then runs the daemon's own jobs on an APScheduler like ``run`` does: ``poll``
(which reads the file, a chunk per poll, and stores it) and ``tick`` (evaluation,
escalation, sending) every ``daemon.tick`` seconds, on a SQLite store in a temporary folder.
It stops once the file is marked read and prints one JSON line: rows, file size, seconds to
ingest, peak RSS of the process (``ru_maxrss``, which includes the interpreter and every
library: about 100 MB before any row), and the tick figures: how many ticks ran during the
ingest, the longest tick, and the longest gap between one tick's start and the next minus
the tick interval ("delay": how much later than its schedule a tick started). Targets
(issue 10): peak under 300 MB, no tick delayed over 5 s."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402

from custody_watch.clock import SystemClock  # noqa: E402
from custody_watch.config import load_settings  # noqa: E402
from custody_watch.daemon import scheduler as jobs  # noqa: E402
from custody_watch.daemon.compose import build_context  # noqa: E402
from custody_watch.store import sources  # noqa: E402

CONFIG = """
timezone = "Europe/London"

[database]
url = "sqlite:///{folder}/cw.db"

[web]
enabled = false

[[sources]]
name = "big"
kind = "csv_folder"
path = "{folder}/inbox"
settle_time = "0s"

[channels.console]
kind = "console"
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def make_file(rows: int, out: Path) -> None:
    script = str(REPO / "bench" / "make_records.py")
    subprocess.run(
        [sys.executable, script, "--count", str(rows), "--out", str(out), "--seed", "10"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def file_key(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return f"{path.name}:{digest.hexdigest()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    # make_records writes about 245 bytes a row: 205,000 rows are about 50 MB
    parser.add_argument("--rows", type=int, default=205_000, help="rows in the file [205000]")
    parser.add_argument("--keep", type=Path, help="reuse (or write and keep) the file here")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after [1800] s")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="big-drop-") as tmp:
        folder = Path(tmp)
        (folder / "inbox").mkdir()
        source = args.keep or folder / "made.csv"
        if not source.exists():
            make_file(args.rows, source)
        drop = folder / "inbox" / "big.csv"
        drop.symlink_to(source.resolve())  # dropped whole, as a rename would
        key = file_key(drop)
        config = folder / "custody-watch.toml"
        config.write_text(CONFIG.format(folder=folder), encoding="utf-8")
        ctx = build_context(load_settings(config), SystemClock(), env={})
        before = peak_mb()

        ticks: list[tuple[float, float]] = []  # (started, took) in monotonic seconds

        def on_cycle(at: datetime, took: float, ok: bool) -> None:
            ticks.append((time.monotonic() - took, took))

        done = threading.Event()
        scheduler = BackgroundScheduler(
            timezone=UTC,
            # as run_forever: a thread for each of the four jobs and a spare
            executors={"default": ThreadPoolExecutor(max_workers=5)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
        )
        interval, _ = jobs.add_jobs(scheduler, ctx, on_cycle=on_cycle)
        started = time.monotonic()
        scheduler.start()
        seconds = args.timeout
        try:
            while time.monotonic() - started < args.timeout:
                with ctx.sessions() as session:
                    if sources.SeenFiles(session, "big").seen(key):
                        seconds = time.monotonic() - started
                        done.set()
                        break
                time.sleep(0.5)
            # until a tick has started after the ingest (its gap counts too)
            count = len(ticks)
            while len(ticks) <= count and time.monotonic() - started < args.timeout + 120:
                time.sleep(0.2)
        finally:
            scheduler.shutdown(wait=True)
            ctx.engine.dispose()
        during = [t for t in ticks if t[0] <= started + seconds]
        # every tick from the start until the first one after the ingest: a tick held up by
        # the ingest shows as a long gap before the next one starts
        starts = [t[0] for t in ticks]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        # A tick due while another ran starts when that one ends (max_instances=1): so
        # a tick's own length beyond the interval delays the next as much as a late start.
        delay = max((span - interval for span in [*gaps, *(t[1] for t in ticks)]), default=0.0)
        print(
            json.dumps(
                {
                    "bench": "big_drop",
                    "rows": args.rows,
                    "file_mb": round(drop.stat().st_size / 1e6, 1),
                    "ingested": done.is_set(),
                    "seconds": round(seconds, 1),
                    "rss_before_mb": round(before, 1),
                    "peak_rss_mb": round(peak_mb(), 1),
                    "tick_interval_s": interval,
                    "ticks": len(during),
                    "longest_tick_s": round(max((t[1] for t in during), default=0.0), 2),
                    "longest_tick_delay_s": round(delay, 2),
                }
            )
        )
    return 0 if done.is_set() else 1


if __name__ == "__main__":
    sys.exit(main())
