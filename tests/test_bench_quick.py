"""``python bench/run.py --quick`` (what CI runs): one JSON line per figure, in order."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["ingest", "cycle", "cycle_history", "memory", "lateness", "evaluate"]
# evaluate_memory needs no database: the SQLite run has it, the PostgreSQL run does not.
ON_SQLITE = [*NAMES, "evaluate_memory"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> list[str]:
    """The extra arguments that choose the database: none for SQLite files."""
    if request.param == "sqlite":
        return []
    return ["--database", request.getfixturevalue("postgres_url")]


@pytest.mark.timeout(300)
def test_quick_bench_prints_one_json_line_per_figure(tmp_path: Path, database: list[str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--out",
            str(tmp_path),
            *database,
        ],
        capture_output=True,
        text=True,
        # About 17 s alone on SQLite, 30 s on PostgreSQL; tests run two at a time (xdist) on
        # two cores, so give a loaded machine room rather than fail on time (figures are
        # bench/'s, not a test's).
        timeout=240,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    figures = [json.loads(line) for line in done.stdout.splitlines()]
    assert [f["name"] for f in figures] == (NAMES if database else ON_SQLITE)
    for f in figures:
        assert {"value", "unit", "baseline", "ratio", "target", "pass"} <= f.keys(), f
        assert isinstance(f["value"], int | float) and math.isfinite(f["value"]), f
        assert f["value"] > 0, f
        assert isinstance(f["pass"], bool), f
        assert f["unit"] and f["target"], f
        if f["baseline"] is not None:
            assert f["baseline"] > 0 and f["ratio"] > 0, f
        if not f["pass"]:
            assert f.get("profile"), f  # a missed target says where the time goes
    by_name = {f["name"]: f for f in figures}
    assert by_name["ingest"]["baseline"] is not None
    # The poll path is reported beside the import's, against the same baseline.
    ingest = by_name["ingest"]
    assert ingest["poll_records_per_second"] > 0 and ingest["poll_seconds"] > 0
    assert ingest["poll_ratio"] == pytest.approx(
        ingest["poll_records_per_second"] / ingest["baseline"], rel=1e-3
    )
    # The schema's floor (the same rows into the product's own tables by the bulk path) is
    # reported against the same baseline, and the import against it.
    assert ingest["floor_records_per_second"] > 0 and ingest["floor_seconds"] > 0
    assert ingest["floor_ratio"] == pytest.approx(
        ingest["floor_records_per_second"] / ingest["baseline"], rel=1e-3
    )
    assert ingest["of_floor"] == pytest.approx(
        ingest["value"] / ingest["floor_records_per_second"], rel=1e-3
    )
    assert ingest["ratios"] == [ingest["ratio"]]  # quick: one run, so its own median
    assert by_name["cycle_history"]["stored"] > by_name["cycle_history"]["baseline_stored"]
    assert by_name["lateness"]["findings"] > 0
    assert {f["database"] for f in figures} == {"postgresql" if database else "sqlite"}
    # The same lines are kept in --out; the working stores are removed.
    kept_name = "results-quick-postgresql.jsonl" if database else "results-quick.jsonl"
    kept = (tmp_path / kept_name).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in kept] == figures
    assert not list(tmp_path.glob("work-*"))
