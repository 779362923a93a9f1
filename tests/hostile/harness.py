"""A daemon on two drop folders (CSV and JSON Lines), driven one cycle at a time, and what
the rules alone say its alerts should be."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from custody_watch.clock import FixedClock
from custody_watch.config import load_settings
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.cycle import CycleReport, run_cycle
from custody_watch.daemon.runtime import Context
from custody_watch.ingest import latest_versions, parse_row
from custody_watch.rules import evaluate_all
from custody_watch.rules.policy import Policy
from custody_watch.sources.folder import DropFolder
from custody_watch.store.schema import AlertRow, QuarantineRow
from daemon.support import ROTA

from .poison import Format, Planted

CONFIG = (
    """
timezone = "Europe/London"

[database]
url = "{database}"

[web]
listen = "127.0.0.1:0"

[[sources]]
name = "csv-in"
kind = "csv_folder"
path = "{csv_inbox}"
stale_after = "100d"

[[sources]]
name = "jsonl-in"
kind = "jsonl"
path = "{jsonl_inbox}"
stale_after = "100d"

[channels.console]
kind = "console"

[channels.sms]
kind = "console"

"""
    + ROTA
)

SOURCE_OF: dict[Format, str] = {"csv": "csv-in", "jsonl": "jsonl-in"}


@dataclass
class Quarantined:
    source: str
    file: str
    row: int
    custody_ref: str | None
    error: str
    raw: str


@dataclass
class HostileDaemon:
    """One store, two drop folders; ``cycle(now)`` runs ``run_cycle`` as ``run`` does."""

    root: Path
    database: str
    now: datetime
    ctx: Context = field(init=False)

    def __post_init__(self) -> None:
        self.inbox: dict[Format, Path] = {"csv": self.root / "csv", "jsonl": self.root / "jsonl"}
        for path in self.inbox.values():
            path.mkdir(parents=True, exist_ok=True)
        config = self.root / "custody-watch.toml"
        config.write_text(
            CONFIG.format(
                database=self.database,
                csv_inbox=self.inbox["csv"],
                jsonl_inbox=self.inbox["jsonl"],
                **{},
            ),
            encoding="utf-8",
        )
        settings = load_settings(config)
        self.console = io.StringIO()
        self.ctx = build_context(settings, FixedClock(self.now), env={}, stream=self.console)
        # The folders as configured, without the short settle pause (files are finished
        # before they are dropped here) and in small chunks, so files stream over polls.
        self.ctx.sources = {
            "csv-in": DropFolder("csv-in", self.inbox["csv"], "csv_folder", settle=0, chunk_rows=7),
            "jsonl-in": DropFolder(
                "jsonl-in", self.inbox["jsonl"], "jsonl", settle=0, chunk_rows=7
            ),
        }

    @property
    def policy(self) -> Policy:
        return self.ctx.policy

    def drop(self, fmt: Format, name: str, data: bytes) -> None:
        """As a well-behaved writer does: written elsewhere, then renamed into place."""
        partial = self.inbox[fmt] / f".{name}.partial"
        partial.write_bytes(data)
        partial.rename(self.inbox[fmt] / name)

    def cycle(self, now: datetime) -> CycleReport:
        self.now = now
        assert isinstance(self.ctx.clock, FixedClock)
        self.ctx.clock.set(now)
        return run_cycle(self.ctx, now, poll_all=True)

    def live_alerts(self) -> dict[str, str]:
        """custody_ref -> severity of every live detention alert."""
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(AlertRow).where(
                    AlertRow.live_key.is_not(None), AlertRow.detention_id.is_not(None)
                )
            ).all()
            return {row.custody_ref or "": row.severity for row in rows}

    def quarantine(self) -> list[Quarantined]:
        with self.ctx.sessions() as session:
            rows = session.scalars(select(QuarantineRow).order_by(QuarantineRow.id)).all()
            return [
                Quarantined(r.source, r.file, r.row, r.custody_ref, r.error, r.raw) for r in rows
            ]

    def close(self) -> None:
        self.ctx.engine.dispose()


def expected_alerts(good: list[dict[str, str]], policy: Policy, now: datetime) -> dict[str, str]:
    """What the rules alone give for the good rows: custody_ref -> the highest severity of
    its findings (one live alert per detention with any finding)."""
    detentions = latest_versions(parse_row(row) for row in good)
    highest: dict[str, list[str]] = defaultdict(list)
    rank: dict[str, int] = {}
    for finding in evaluate_all(detentions, policy, now):
        highest[finding.custody_ref].append(finding.severity.value)
        rank[finding.severity.value] = finding.severity.rank
    return {ref: max(values, key=rank.__getitem__) for ref, values in highest.items()}


def assert_quarantined(
    daemon: HostileDaemon, planted: list[Planted], fmt_of: dict[str, Format]
) -> None:
    """Every planted poison row that must be rejected is in quarantine under its file and
    row, its error naming its field; whole-file problems are row 0 and name the file."""
    held = {(q.source, q.file, q.row): q for q in daemon.quarantine()}
    for poison in planted:
        if poison.field is None:
            continue
        key = (SOURCE_OF[fmt_of[poison.file]], poison.file, poison.row)
        assert key in held, f"{poison.kind}: not quarantined at {key}"
        error = held[key].error
        assert error.startswith(f"{poison.field}: "), f"{poison.kind}: {error!r}"
        if poison.row == 0:
            assert poison.file in error, f"{poison.kind}: file not named in {error!r}"
        assert len(error) < 300, f"{poison.kind}: error quotes too much: {len(error)}"
        raw = held[key].raw
        assert "never keeps" not in raw, f"{poison.kind}: an unknown column was kept"
        assert len(raw) < 20_000, f"{poison.kind}: quarantine kept {len(raw)} characters"
