"""``custody-watch evaluate RECORDS --at TIME``: the rules over a file, no database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.tables import findings_table, rejections_table, stdout
from custody_watch.config import load_settings, rules_policy
from custody_watch.domain import Detention, Finding
from custody_watch.errors import InputError
from custody_watch.ingest import ReadResult, Rejection, read_records_file
from custody_watch.rules import assess
from custody_watch.times import TimeValueError, format_local, parse_instant, parse_zone, utc_z


@app.command()
def evaluate(
    records: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of custody records.")],
    at: Annotated[str, typer.Option("--at", help="Evaluate as of this time (with offset).")],
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.TABLE,
    naive_timezone: Annotated[
        str | None,
        typer.Option("--naive-timezone", help="Read times without an offset in this zone."),
    ] = None,
) -> None:
    """Evaluate every rule as of TIME over RECORDS and print the findings."""
    now = _instant("--at", at)
    try:
        naive_zone = parse_zone(naive_timezone) if naive_timezone else None
    except TimeValueError as exc:
        raise InputError(f"--naive-timezone: {exc}") from None
    settings = load_settings(config)
    policy = rules_policy(settings)
    # Read as a stream (ingest.files): only the chosen version of each detention and the
    # rejections are held, never the file's text or every row.
    result = read_records_file(records, naive_zone=naive_zone, local_zone=policy.zone)
    findings: list[Finding] = []
    people = same_person_index(result.detentions)
    for detention in result.detentions:
        evaluation = assess(
            detention,
            policy,
            now,
            same_person_arrivals=others_of(people, detention),
        )
        findings.extend(evaluation.findings)
        # A rule that raised gives no finding: say so, or a missing alert would look like
        # a safe child. The JSON shape is the contract's; the warning goes to stderr.
        for failure in evaluation.failed:
            typer.echo(
                f"custody-watch: {detention.custody_ref}: rule {failure.rule} could not be "
                f"evaluated ({failure.error}); its finding may be missing",
                err=True,
            )
    findings.sort(key=Finding.sort_key)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(as_json(now, findings, result), ensure_ascii=False, indent=1))
        return
    console = stdout()
    console.print(
        f"As of {format_local(now, policy.zone)} {now.astimezone(policy.zone):%Y}: "
        f"{len(result.detentions)} detentions, {len(findings)} findings, "
        f"{len(result.rejected)} rows rejected"
    )
    if findings:
        console.print(findings_table(findings, now, policy.zone))
    if result.rejected:
        console.print(rejections_table(result.rejected))


def same_person_index(detentions: Iterable[Detention]) -> dict[str, dict[str, datetime]]:
    """person_ref -> {custody_ref: arrival_time} over the file's chosen versions, for
    repeat_detention (RULES.md, Precise reading 11: every record read, whatever its state;
    one per custody_ref). Two small strings and an instant per record."""
    people: dict[str, dict[str, datetime]] = {}
    for detention in detentions:
        if detention.person_ref is not None:
            people.setdefault(detention.person_ref, {})[detention.custody_ref] = (
                detention.arrival_time
            )
    return people


def others_of(people: dict[str, dict[str, datetime]], detention: Detention) -> list[datetime]:
    """The arrivals of the other records of this record's person (never itself)."""
    if detention.person_ref is None:
        return []
    records = people.get(detention.person_ref, {})
    return [at for ref, at in records.items() if ref != detention.custody_ref]


def _instant(option: str, text: str) -> datetime:
    try:
        return parse_instant(text)
    except TimeValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def as_json(now: datetime, findings: list[Finding], result: ReadResult) -> dict[str, Any]:
    return {
        "at": utc_z(now),
        "findings": [finding_json(finding) for finding in findings],
        "rejected": [rejection_json(rejection) for rejection in result.rejected],
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "custody_ref": finding.custody_ref,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "since": utc_z(finding.since),
        "detail": finding.detail,
    }


def rejection_json(rejection: Rejection) -> dict[str, Any]:
    return {"row": rejection.row, "custody_ref": rejection.custody_ref, "error": rejection.error}
