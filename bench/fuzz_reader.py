"""Fuzz the record reader: no bytes may make it raise, and what it says must hold.

    python bench/fuzz_reader.py --seconds 30            # atheris if installed, else hypothesis
    python bench/fuzz_reader.py --seconds 30 --engine hypothesis

The target decodes the input as a feed (its first byte picks CSV or JSON Lines), reads it
whole, in chunks and as prepared rows for the store, and checks what the record contract
promises: nothing raises; chunks read exactly as the whole; every rejection's error begins
with a name and a colon, is storable text and short (a bad value is quoted to 40
characters); row numbers rise; a whole-file problem is alone, as row 0.

atheris (coverage-guided, libFuzzer) is optional: ``pip install atheris`` or the project's
``fuzz`` extra. Without it the script says so and runs a hypothesis-driven random loop over
hostile text for the same time. Prints one JSON line: engine, seconds, inputs tried. Exit
status 0 when nothing was found; otherwise the failing input is printed (atheris also
writes it as ``crash-*``) and the status is not 0."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

try:  # optional: coverage-guided fuzzing
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the machine
    atheris = None

Fmt = Literal["csv", "jsonl"]
SEEDS = [
    REPO / "config" / "sample" / "suite-day.csv",
    REPO / "config" / "sample" / "suite-day.jsonl",
]


def _import_reader() -> Any:
    from custody_watch.ingest import chunks, files, prepare, rows

    return chunks, files, prepare, rows


if atheris is not None:
    with atheris.instrument_imports():
        CHUNKS, FILES, PREPARE, ROWS = _import_reader()
else:
    CHUNKS, FILES, PREPARE, ROWS = _import_reader()


def feed_of(data: bytes) -> tuple[Fmt, str]:
    """The first byte picks the format; the rest is text. Bytes that are not UTF-8 are
    kept as lone surrogates, which a JSON string escape can also give, so they reach the
    reader rather than being lost to decoding."""
    fmt: Fmt = "jsonl" if data[:1] and data[0] & 1 else "csv"
    return fmt, data[1:].decode("utf-8", "surrogateescape")


def check(data: bytes) -> None:
    """The target: raises AssertionError (or the reader's own exception) on a finding."""
    fmt, text = feed_of(data)
    whole = FILES.read_records_text(text, fmt)
    numbers = [r.row for r in whole.rejected]
    if 0 in numbers:
        assert numbers == [0] and not whole.detentions and whole.rows == 0, whole
    assert numbers == sorted(numbers), numbers
    for rejection in whole.rejected:
        field, colon, reason = rejection.error.partition(": ")
        assert field and colon and reason, rejection.error
        assert len(rejection.error) < 400, rejection.error[:400]
        rejection.error.encode("utf-8")  # storable: controls and surrogates escaped
        rejection.raw.encode("utf-8")
        assert len(rejection.raw) < 20_000
    read = ROWS.csv_rows if fmt == "csv" else ROWS.jsonl_rows
    rows = list(read(text))
    chunked = [row for chunk in CHUNKS.feed_chunks(text, fmt, 3) for row in chunk.rows()]
    assert chunked == rows, "chunks do not read as the whole"
    prepared = PREPARE.prepare_rows(rows, PREPARE.Zones())
    assert prepared.rows == whole.rows
    for row in prepared.accepted:
        row.record_json.encode("utf-8")
        row.custody_ref.encode("utf-8")


def run_atheris(seconds: int, corpus: Path) -> int:
    assert atheris is not None
    runs = 0
    started = time.monotonic()

    def target(data: bytes) -> None:
        nonlocal runs
        if time.monotonic() - started >= seconds:
            # libFuzzer would end the process without returning here (its -max_total_time
            # skips Python's exit handlers): report, then end it the same way.
            _report("atheris", started, runs)
            os._exit(0)
        runs += 1
        check(data)

    argv = [
        sys.argv[0],
        "-max_len=4096",  # long enough for every kind of row; short enough to run fast
        "-rss_limit_mb=2048",
        str(corpus),
    ]
    atheris.Setup(argv, target)
    atheris.Fuzz()
    return 0


def run_hypothesis(seconds: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(
        [
            "custody_ref,suite,arrival_time,prior_detention_minutes,person_ref\n",
            '{"custody_ref": "C-1", "suite": "S1", "arrival_time": "2026-06-10T08:00:00Z"',
            "C-1,S1,2026-06-10T08:00:00Z,",
            ",",
            '"',
            "\n",
            "\r",
            "\r\n",
            "}",
            "{",
            "[",
            "]",
            ":",
            '"suite": ',
            "9" * 5000,
            "5256000000",
            "1e308",
            "NaN",
            "-Infinity",
            "3e1",
            "30.0",
            "\x00",
            "\x1b",
            "\x85",
            "\u2028",
            "\ud800",
            "\\ud800",
            "\\u0000",
            "\u0663\u0660",
            "\uff13",
            "\ufeff",
            "x" * 300,
            "[" * 3000,
        ]
    )
    texts = st.lists(pieces | st.text(max_size=20), max_size=30).map("".join)
    inputs = st.binary(max_size=400) | texts.map(
        lambda t: bytes([len(t) & 1]) + t.encode("utf-8", "surrogatepass")
    )
    runs = 0

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def batch(data: bytes) -> None:
        nonlocal runs
        runs += 1
        check(data)

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        batch()  # raises, with hypothesis's shrunk example, on a finding
    _report("hypothesis", started, runs)
    return 0


def _report(engine: str, started: float, runs: int) -> None:
    print(
        json.dumps(
            {
                "fuzz": "reader",
                "engine": engine,
                "seconds": round(time.monotonic() - started, 1),
                "inputs": runs,
            }
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=30, help="how long to fuzz [30]")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    args = parser.parse_args(argv)
    engine = args.engine
    if engine in ("auto", "atheris") and atheris is None:
        print(
            "fuzz_reader: atheris is not installed (pip install atheris); "
            "running a hypothesis random loop instead",
            file=sys.stderr,
        )
        engine = "hypothesis"
    if engine == "hypothesis":
        return run_hypothesis(args.seconds)
    with tempfile.TemporaryDirectory(prefix="fuzz-corpus-") as folder:
        corpus = Path(folder)
        for number, seed in enumerate(SEEDS):
            if seed.is_file():
                flag = b"\x01" if seed.suffix == ".jsonl" else b"\x00"
                (corpus / f"seed-{number}").write_bytes(flag + seed.read_bytes())
        os.chdir(folder)  # crash-* files land beside the corpus, not in the repository
        return run_atheris(args.seconds, corpus)


if __name__ == "__main__":
    sys.exit(main())
