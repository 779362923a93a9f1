"""``evaluate --format json`` written a finding at a time is the text ``json.dumps`` gives."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from custody_watch.cli.evaluate import write_json
from custody_watch.ingest.assess_file import FileAssessment

NOW = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 10, 25, 8, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("findings", "rejected"),
    [
        ([], []),
        (
            [(-3, SINCE, "C-1", "pace_limit", "critical", "passed 1h ago (Sun 25 Oct 09:00 GMT)")],
            [],
        ),
        ([], [(3, None, "arrival_time: no UTC offset in '2026-10-25T01:30:00'")]),
        (
            [
                (-2, SINCE, 'C-"é"\\', "child_overnight", "high", 'détail\u2028 "quoted"'),
                (-1, NOW, "C-2", "missing_dob", "warning", ""),
            ],
            [(1, "R-1", "suite: holds a control character (U+0007): 'S\\x07'"), (9, "é", "x")],
        ),
    ],
)
def test_the_streamed_json_is_json_dumps_of_the_same_findings_and_rejections(
    findings: list[tuple[int, datetime, str, str, str, str]],
    rejected: list[tuple[int, str | None, str]],
) -> None:
    out = io.StringIO()
    write_json(out, NOW, FileAssessment(len(findings), findings, rejected))
    expected = {
        "at": "2026-10-25T09:00:00Z",
        "findings": [
            {
                "custody_ref": ref,
                "rule": rule,
                "severity": severity,
                "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "detail": detail,
            }
            for _, since, ref, rule, severity, detail in findings
        ],
        "rejected": [{"row": r, "custody_ref": ref, "error": e} for r, ref, e in rejected],
    }
    assert out.getvalue() == json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
