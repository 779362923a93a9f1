"""Tables for people: local times, durations like ``23h 10m``, severities in colour."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from custody_watch.domain import Finding, Severity
from custody_watch.ingest import Rejection
from custody_watch.times import format_duration, format_local

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "dim",
}


def stdout() -> Console:
    # Wide enough that a finding's detail is not cut when output goes to a file or pipe.
    return Console(width=None if Console().is_terminal else 160, highlight=False)


def severity_text(severity: Severity) -> Text:
    return Text(severity.value, style=SEVERITY_STYLE[severity])


def findings_table(findings: Iterable[Finding], now: datetime, zone: tzinfo) -> Table:
    table = Table(title="Findings", title_justify="left")
    for column in ("severity", "custody ref", "rule", "since", "for", "detail"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        table.add_row(
            severity_text(finding.severity),
            finding.custody_ref,
            finding.rule,
            format_local(finding.since, zone),
            format_duration(now - finding.since),
            finding.detail,
        )
    return table


def rejections_table(rejections: Iterable[Rejection]) -> Table:
    table = Table(title="Rejected rows (quarantined, not evaluated)", title_justify="left")
    for column in ("row", "custody ref", "error"):
        table.add_column(column, overflow="fold")
    for rejection in rejections:
        table.add_row(str(rejection.row), rejection.custody_ref or "-", rejection.error)
    return table
