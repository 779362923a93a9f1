"""A hypothesis state machine: poison files, good files and clock steps in any order.

After every cycle the live alerts are exactly what the rules give for the good rows dropped
so far, every poison row dropped so far is quarantined naming its field, nothing of a
refused file was read, and the cycle completed with no step failed. Run on SQLite and on
PostgreSQL (a fresh schema for each example)."""

from __future__ import annotations

import random
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from .harness import HostileDaemon, assert_quarantined, expected_alerts
from .poison import (
    FILE_KINDS,
    ROW_KINDS,
    FileKind,
    Format,
    Planted,
    RowKind,
    arrivals,
    drop_file,
    good_row,
)

START = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
# The costly kinds (ten megabytes, a million cells, 100,000 brackets) are in the drop
# folder test once; here every step must stay quick.
_HEAVY = ("10 MB", "million", "deeply nested line")
CHEAP_ROWS = tuple(kind for kind in ROW_KINDS if not any(word in kind.name for word in _HEAVY))
CHEAP_FILES = tuple(kind for kind in FILE_KINDS if "million" not in kind.name)
FORMATS: tuple[Format, ...] = ("csv", "jsonl")

MACHINE = settings(
    max_examples=6,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class HostileFeeds(RuleBasedStateMachine):
    """Drops files into the daemon's folders and runs cycles, checking after each."""

    def __init__(self, database: Callable[[Path], tuple[str, Callable[[], None]]]) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="hostile-"))
        url, self._drop_database = database(self.root)
        self.daemon = HostileDaemon(self.root, url, START)
        self.now = START
        self.files = 0
        self.good: list[dict[str, str]] = []
        self.planted: list[Planted] = []
        self.fmt_of: dict[str, Format] = {}
        self.refused: set[str] = set()
        self.cycles = 0

    def _name(self, fmt: Format) -> str:
        self.files += 1
        return f"f{self.files:04}.{fmt}"

    @rule(
        fmt=st.sampled_from(FORMATS),
        count=st.integers(0, 4),
        kinds=st.lists(st.sampled_from(CHEAP_ROWS), max_size=4),
        seed=st.integers(0, 2**32 - 1),
    )
    def drop_a_mixed_file(self, fmt: Format, count: int, kinds: list[RowKind], seed: int) -> None:
        rng = random.Random(seed)
        name = self._name(fmt)
        times = arrivals(self.now, max(1, count), rng)
        rows = [good_row(f"G{self.files}-{i}", times[i]) for i in range(count)]
        poison = [
            (kind, f"X{self.files}-{i}", rng.choice(times))
            for i, kind in enumerate(kinds)
            if kind.fmt == fmt
        ]
        data, placed = drop_file(name, fmt, rows, poison, rng)
        self.daemon.drop(fmt, name, data)
        self.fmt_of[name] = fmt
        self.good += rows + [p.good for p in placed if p.good is not None]
        self.planted += placed

    @rule(file_kind=st.sampled_from(CHEAP_FILES), seed=st.integers(0, 2**32 - 1))
    def drop_a_whole_file_kind(self, file_kind: FileKind, seed: int) -> None:
        rng = random.Random(seed)
        name = self._name(file_kind.fmt)
        rows = [
            good_row(f"W{self.files}-{i}", at) for i, at in enumerate(arrivals(self.now, 2, rng))
        ]
        self.daemon.drop(file_kind.fmt, name, file_kind.data(rows))
        self.fmt_of[name] = file_kind.fmt
        if file_kind.field is None:
            self.good += rows
        else:
            self.planted.append(Planted(name, 0, file_kind.name, file_kind.field))
            self.refused |= {row["custody_ref"] for row in rows}

    @rule(minutes=st.integers(0, 12 * 60))
    def step_the_clock_and_run_a_cycle(self, minutes: int) -> None:
        self.cycle_and_check(minutes)

    def cycle_and_check(self, minutes: int) -> None:
        self.cycles += 1
        self.now += timedelta(minutes=minutes)
        report = self.daemon.cycle(self.now)
        assert report.failed == (), report.failed
        live = self.daemon.live_alerts()
        assert live == expected_alerts(self.good, self.daemon.policy, self.now)
        assert not self.refused & set(live)
        assert_quarantined(self.daemon, self.planted, self.fmt_of)

    def teardown(self) -> None:
        # Every example ends with a cycle, so what the last steps dropped is checked too.
        try:
            self.cycle_and_check(1)
            assert self.cycles >= 1
        finally:
            self.close()

    def close(self) -> None:
        self.daemon.close()
        self._drop_database()
        shutil.rmtree(self.root, ignore_errors=True)


def _sqlite(root: Path) -> tuple[str, Callable[[], None]]:
    return f"sqlite:///{root / 'cw.db'}", lambda: None


def _postgres_schema(server: str) -> Callable[[Path], tuple[str, Callable[[], None]]]:
    def make(root: Path) -> tuple[str, Callable[[], None]]:
        schema = f"h_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        return f"{server}?options=-csearch_path%3D{schema}", drop

    return make


def test_poison_good_files_and_clock_steps_in_any_order_on_sqlite() -> None:
    run_state_machine_as_test(lambda: HostileFeeds(_sqlite), settings=MACHINE)  # type: ignore[arg-type]


def test_poison_good_files_and_clock_steps_in_any_order_on_postgresql(postgres_url: str) -> None:
    run_state_machine_as_test(  # a factory is accepted, though typed as a class
        lambda: HostileFeeds(_postgres_schema(postgres_url)),  # type: ignore[arg-type]
        settings=MACHINE,
    )
