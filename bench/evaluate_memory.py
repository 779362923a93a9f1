"""The ``evaluate_memory`` figure: the peak resident memory of ``custody-watch evaluate`` over
1,000,000 generated records against the same over 100,000, measured in the same run
(bench/README.md, "evaluate memory"; issue 15: "at 1,000,000 records, memory the same as at
100,000").

Each run is its own process, started by the same small wrapper as the ``evaluate`` figure
(``evaluate_figure.measured``: wall time and the peak RSS of the largest process of the tree,
worker processes included). The files are CSV written by ``make_records`` (about 245 bytes a
row: the big one is about 250 MB), in a temporary folder removed at the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from evaluate_figure import AT, measured  # isort: skip
from make_records import Generator, write  # isort: skip

RATIO = 1.1  # "memory the same": within a tenth


def bench_evaluate_memory(
    count_small: int,
    count_big: int,
    seed: int,
    figure: Callable[..., dict[str, Any]],
    log: Callable[[str], None],
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-memory-") as tmp:
        work = Path(tmp)
        allocated: dict[str, list[str]] = {}
        walls: dict[int, float] = {}
        peaks: dict[int, float] = {}
        sizes: dict[int, float] = {}
        for count in (count_small, count_big):
            feed = work / f"records-{count}.csv"
            log(f"evaluate_memory: generating {count} records")
            _generate(seed, count, feed)
            sizes[count] = round(feed.stat().st_size / 1e6, 1)
            log(f"evaluate_memory: evaluating {count} records ({sizes[count]:.0f} MB)")
            command = [sys.executable, "-m", "custody_watch", "evaluate", str(feed), "--at", AT,
                       "--format", "json"]  # fmt: skip
            walls[count], peaks[count] = measured(command, work)
            if count == count_big and peaks[count_big] / peaks[count_small] > RATIO:
                allocated = _allocated(feed)  # where the memory goes, before the file goes
            feed.unlink()  # the big file is about 250 MB: not two of them at once
        ratio = peaks[count_big] / peaks[count_small]
        result = figure(
            "evaluate_memory",
            round(peaks[count_big], 1),
            "MiB",
            f"memory the same at {count_big:,} as at {count_small:,} (ratio <= {RATIO})",
            ratio <= RATIO,
            baseline=round(peaks[count_small], 1),
            ratio=ratio,
            records=count_big,
            baseline_records=count_small,
            file_mb=sizes[count_big],
            baseline_file_mb=sizes[count_small],
            seconds=round(walls[count_big], 2),
            baseline_seconds=round(walls[count_small], 2),
        )
        if not result["pass"]:
            result["profile"] = allocated
        return result


def _allocated(feed: Path) -> dict[str, list[str]]:
    """A missed target's profile: where Python allocated the most (tracemalloc, top 5) while
    the big file is assessed in this process, as ``evaluate`` assesses it (no workers)."""
    import tracemalloc

    from custody_watch.ingest.assess_file import assess_file
    from custody_watch.rules import Policy
    from custody_watch.times import parse_instant

    tracemalloc.start()
    try:
        assess_file(feed, "csv", naive_zone=None, policy=Policy(), now=parse_instant(AT),
                    workers=0)  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
        top = tracemalloc.take_snapshot().statistics("lineno")[:5]
    finally:
        tracemalloc.stop()
    return {
        "traced_peak_mib": [f"{peak / 2**20:.1f}"],
        "top_allocations": [f"{stat.traceback[0]}: {stat.size / 2**20:.1f} MiB" for stat in top],
    }


def _generate(seed: int, count: int, feed: Path) -> None:
    """``count`` records into ``feed``, as the ``evaluate`` figure makes them. A million
    rows take a few GB in this process while they are written (the generator makes a list);
    they are gone before the measured process starts, and its memory is its own (the
    wrapper starts it: ``evaluate_figure``'s docstring)."""
    write(Generator(seed, date(2026, 6, 1), count).rows(count), feed)


if __name__ == "__main__":  # on its own: python bench/evaluate_memory.py [SMALL BIG]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import figure as make_figure  # type: ignore[import-not-found]
    from run import log as say

    small, big = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (100_000, 1_000_000)
    print(json.dumps(bench_evaluate_memory(small, big, 1, make_figure, say)))
