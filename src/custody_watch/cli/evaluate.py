"""``custody-watch evaluate RECORDS --at TIME``: the rules over a file, no database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from custody_watch import config as configuration  # its models load on first use
from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.config.locate import defaults_apply
from custody_watch.domain import Detention, Finding, Severity
from custody_watch.errors import InputError
from custody_watch.ingest import ReadResult, Rejection, read_records_file
from custody_watch.ingest.assess_file import FileAssessment, NotPlain, assess_file
from custody_watch.ingest.files import feed_format
from custody_watch.rules import Policy, assess
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
    # With no config file the defaults apply, which are exactly Policy()'s: the config
    # models (a quarter of a second to build) are not needed then.
    if defaults_apply(config):
        policy = Policy()
    else:
        policy = configuration.rules_policy(configuration.load_settings(config))
    fmt = feed_format(records)
    try:
        # Read as a stream (ingest.assess_file): only the chosen version of each detention
        # is held (its fields only when a rule can find anything in it), in worker
        # processes for a big file.
        assessed = assess_file(records, fmt, naive_zone=naive_zone, policy=policy, now=now)
    except NotPlain:
        # The file as a whole is out of the ordinary (not UTF-8, no header, unreadable):
        # the exact reading says what is wrong, or reads what there is.
        assessed = assess_read(
            read_records_file(records, naive_zone=naive_zone, local_zone=policy.zone),
            policy,
            now,
        )
    # A rule that raised gives no finding: say so, or a missing alert would look like a
    # safe child. The JSON shape is the contract's; the warning goes to stderr.
    for ref, rule, error in assessed.failures:
        typer.echo(
            f"custody-watch: {ref}: rule {rule} could not be evaluated ({error}); its "
            "finding may be missing",
            err=True,
        )
    if output is OutputFormat.JSON:
        write_json(sys.stdout, now, assessed)
        return
    findings = [
        Finding(ref, rule, Severity(severity), since, detail)
        for _, since, ref, rule, severity, detail in assessed.findings
    ]
    rejected = [Rejection(row, ref, error, "") for row, ref, error in assessed.rejected]
    # Here, not at the top: rich's tables cost about 60 ms of start-up that the JSON output
    # (the form a machine reads, and the one timed against a plain reading) does not need.
    from custody_watch.cli.tables import findings_table, rejections_table, stdout

    console = stdout()
    console.print(
        f"As of {format_local(now, policy.zone)} {now.astimezone(policy.zone):%Y}: "
        f"{assessed.detentions} detentions, {len(findings)} findings, "
        f"{len(rejected)} rows rejected"
    )
    if findings:
        console.print(findings_table(findings, now, policy.zone))
    if rejected:
        console.print(rejections_table(rejected))


def assess_read(result: ReadResult, policy: Policy, now: datetime) -> FileAssessment:
    """The rules over a feed read whole (``read_records_file``), as ``assess_file`` gives
    them."""
    assessed = FileAssessment(detentions=len(result.detentions))
    people = same_person_index(result.detentions)
    for detention in result.detentions:
        evaluation = assess(
            detention, policy, now, same_person_arrivals=others_of(people, detention)
        )
        assessed.findings.extend(
            (-f.severity.rank, f.since, f.custody_ref, f.rule, f.severity.value, f.detail)
            for f in evaluation.findings
        )
        assessed.failures.extend(
            (detention.custody_ref, failure.rule, failure.error) for failure in evaluation.failed
        )
    assessed.findings.sort()
    assessed.rejected = [(r.row, r.custody_ref, r.error) for r in result.rejected]
    return assessed


def write_json(out: TextIO, now: datetime, assessed: FileAssessment) -> None:
    """``json.dumps(as_json(...), ensure_ascii=False, indent=1)`` and a line end, written a
    piece at a time: a file's findings can be tens of megabytes of text."""
    text = partial(json.dumps, ensure_ascii=False)
    out.write(f'{{\n "at": {text(utc_z(now))},\n "findings": [')
    lead = "\n"
    for _, since, ref, rule, severity, detail in assessed.findings:
        out.write(
            f'{lead}  {{\n   "custody_ref": {text(ref)},\n   "rule": {text(rule)},\n'
            f'   "severity": {text(severity)},\n   "since": {text(utc_z(since))},\n'
            f'   "detail": {text(detail)}\n  }}'
        )
        lead = ",\n"
    out.write("\n ],\n" if assessed.findings else "],\n")
    out.write(' "rejected": [')
    lead = "\n"
    for row, row_ref, error in assessed.rejected:
        out.write(
            f'{lead}  {{\n   "row": {row},\n   "custody_ref": {text(row_ref)},\n'
            f'   "error": {text(error)}\n  }}'
        )
        lead = ",\n"
    out.write("\n ]\n}\n" if assessed.rejected else "]\n}\n")
    out.flush()


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
