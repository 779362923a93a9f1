"""The ``evaluate`` figure: ``custody-watch evaluate`` over a generated CSV file, against two
plain readings of the same file measured in the same run, in turn (bench/README.md).

Each of the three runs as its own process, started by a small wrapper process that times it
and reads its peak resident memory (``RUSAGE_CHILDREN``: the largest process of the tree,
worker processes included). The wrapper, not this benchmark, starts it, because Linux
carries a parent's peak across fork and exec into the child's ``ru_maxrss``; the wrapper
is a bare interpreter of about 10 MB.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from make_records import Generator, write  # isort: skip

HERE = Path(__file__).resolve().parent
AT = "2026-06-20T12:00:00Z"  # day 20 of the generated feed: some in custody, most released
RATIO_TO_BASELINE = 2.5
RATIO_TO_REFERENCE = 0.6
PEAK_MIB = 150

# The baseline: a plain csv.reader pass that parses every non-empty time field.
BASELINE = """
import csv, sys
from datetime import datetime
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    names = next(rows)
    times = [i for i, n in enumerate(names) if n.endswith(("_time", "_until", "_at", "_start"))]
    lists = [i for i, n in enumerate(names) if n == "reviews"]
    for row in rows:
        for i in times:
            if row[i]:
                datetime.fromisoformat(row[i])
        for i in lists:
            for part in row[i].split(";"):
                if part:
                    datetime.fromisoformat(part)
"""
# Times one command and reads the peak RSS of its process tree, then prints both.
WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(took, peak, done.returncode)
"""


def measured(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of ``command`` run in ``cwd``."""
    env = {k: v for k, v in os.environ.items() if k != "CUSTODY_WATCH_CONFIG"}
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if out[2] != "0":
        raise RuntimeError(f"{command[:4]} exited with {out[2]}")
    return float(out[0]), int(out[1]) / 1024  # ru_maxrss is in KiB on Linux


def bench_evaluate(
    count: int,
    runs: int,
    seed: int,
    figure: Callable[..., dict[str, Any]],
    profile: Callable[[Callable[[], object]], dict[str, list[str]]],
    log: Callable[[str], None],
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        work = Path(tmp)
        feed = work / "records.csv"
        log(f"evaluate: generating {count} records")
        write(Generator(seed, date(2026, 6, 1), count).rows(count), feed)
        commands = {
            "baseline": [sys.executable, "-c", BASELINE, str(feed)],
            "reference": [sys.executable, str(HERE / "reference_evaluate.py"), str(feed),
                          "--at", AT],
            "ours": [sys.executable, "-m", "custody_watch", "evaluate", str(feed), "--at", AT,
                     "--format", "json"],
        }  # fmt: skip
        walls: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, list[float]] = {name: [] for name in commands}
        log(f"evaluate: {runs} run(s) of each, in turn ({feed.stat().st_size / 1e6:.0f} MB)")
        for _ in range(runs):
            for name, command in commands.items():
                wall, peak = measured(command, work)
                walls[name].append(wall)
                peaks[name].append(peak)
        wall = {name: statistics.median(values) for name, values in walls.items()}
        ours, peak = wall["ours"], max(peaks["ours"])
        to_baseline, to_reference = ours / wall["baseline"], ours / wall["reference"]
        result = figure(
            "evaluate",
            ours,
            "s",
            f"<= {RATIO_TO_BASELINE}x the csv.reader baseline, <= {RATIO_TO_REFERENCE}x the"
            f" plain reference reading, peak RSS <= {PEAK_MIB} MiB",
            to_baseline <= RATIO_TO_BASELINE
            and to_reference <= RATIO_TO_REFERENCE
            and peak <= PEAK_MIB,
            baseline=wall["baseline"],
            ratio=to_baseline,
            records=count,
            file_mb=round(feed.stat().st_size / 1e6, 1),
            reference_seconds=round(wall["reference"], 3),
            ratio_to_reference=round(to_reference, 4),
            peak_mib=round(peak, 1),
            reference_peak_mib=round(max(peaks["reference"]), 1),
            runs_seconds={name: [round(v, 3) for v in values] for name, values in walls.items()},
        )
        if not result["pass"]:
            result["profile"] = profile(lambda: _in_process(feed))
        return result


def _in_process(feed: Path) -> None:
    """One evaluation in this process, no workers (for the profile of a missed target)."""
    from custody_watch.ingest.assess_file import assess_file
    from custody_watch.rules import Policy
    from custody_watch.times import parse_instant

    assess_file(feed, "csv", naive_zone=None, policy=Policy(), now=parse_instant(AT), workers=0)


if __name__ == "__main__":  # one figure on its own: python bench/evaluate_figure.py [COUNT]
    sys.path.insert(0, str(HERE))
    from run import figure as make_figure  # type: ignore[import-not-found]
    from run import log as say
    from run import profile as profiled

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(bench_evaluate(size, 3, 1, make_figure, profiled, say)))
