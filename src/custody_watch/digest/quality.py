"""How far the digest's figures can be trusted: rejected rows, missing dates of birth,
records that could not be read, sources that failed or fell silent, sources first read
during the window, and a window that has not ended yet. Any of these but the rejected rows
and missing dates of birth marks the data as incomplete."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from custody_watch.times import utc_z

from .inputs import DigestInputs, FailedPoll
from .window import Window


def data_quality(
    window: Window, inputs: DigestInputs, totals: dict[str, Any], now: datetime | None
) -> dict[str, Any]:
    by_source: Counter[str] = Counter()
    unattributed = 0
    for rejected in inputs.rejected:
        if window.contains(rejected.received_at):
            by_source[rejected.source] += 1
            unattributed += rejected.suite is None
    outages = _outages(window, inputs)
    started_late = [
        {"source": s.name, "first_poll_at": utc_z(s.first_poll_at)}
        for s in sorted(inputs.sources, key=lambda s: s.name)
        if s.first_poll_at is not None and window.start < s.first_poll_at < window.end
    ]
    not_over = now is not None and now < window.end
    return {
        "quarantined_rows": totals["quarantined_rows"],
        "quarantined_by_source": dict(sorted(by_source.items())),
        "quarantined_not_traced_to_a_suite": unattributed,
        "missing_dob": totals["missing_dob"],
        "unreadable_records": inputs.unreadable_records,
        "outages": outages,
        "sources_started_late": started_late,
        "window_not_over": not_over,
        "incomplete": bool(outages or started_late or not_over or inputs.unreadable_records),
    }


def _outages(window: Window, inputs: DigestInputs) -> list[dict[str, Any]]:
    """Failed polls in the window (per source) and silences that overlap it, by start."""
    out: list[dict[str, Any]] = []
    failed: defaultdict[str, list[FailedPoll]] = defaultdict(list)
    for poll in inputs.failed_polls:
        if window.contains(poll.at):
            failed[poll.source].append(poll)
    for source, polls in failed.items():
        polls.sort(key=lambda p: p.at)
        out.append(
            {
                "source": source,
                "kind": "failed_polls",
                "start": utc_z(polls[0].at),
                "end": utc_z(polls[-1].at),
                "ongoing": False,
                "failed_polls": len(polls),
                "last_error": polls[-1].error,
            }
        )
    for period in inputs.silent_periods:
        if period.start < window.end and (period.end is None or period.end > window.start):
            out.append(
                {
                    "source": period.source,
                    "kind": "silent",
                    "start": utc_z(period.start),
                    "end": None if period.end is None else utc_z(period.end),
                    "ongoing": period.end is None or period.end >= window.end,
                    "failed_polls": None,
                    "last_error": None,
                }
            )
    return sorted(out, key=lambda o: (o["start"], o["source"], o["kind"]))
