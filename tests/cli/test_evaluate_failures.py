"""``evaluate`` never passes a failing rule off as a safe child: the finding it could not
give is named on standard error, the other rules' findings are printed as usual."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from custody_watch.cli import app, load_commands
from custody_watch.rules import engine
from custody_watch.rules.engine import Rule

ROWS = (
    "custody_ref,suite,arrival_time,date_of_birth\n"
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01\n"
    "C-2,suite-a,2026-06-10T09:00:00+01:00,2011-05-02\n"
)


def test_a_rule_that_raises_is_named_on_stderr_and_the_other_findings_still_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUSTODY_WATCH_CONFIG", raising=False)
    (tmp_path / "day.csv").write_text(ROWS, encoding="utf-8")

    def broken(facts: Any, policy: Any, check: Any) -> Any:
        if facts.detention.custody_ref == "C-1":
            raise OverflowError("no room")
        return check(facts, policy)

    monkeypatch.setattr(
        engine,
        "RULES",
        tuple(
            Rule(r.id, lambda f, p, c=r.check: broken(f, p, c), r.child_only)
            if r.id == "appropriate_adult"
            else r
            for r in engine.RULES
        ),
    )
    args = ["evaluate", "day.csv", "--at", "2026-06-10T11:30:00Z", "--format", "json"]
    load_commands(args)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    found = {(f["custody_ref"], f["rule"]) for f in json.loads(result.stdout)["findings"]}
    assert ("C-2", "appropriate_adult") in found
    assert ("C-1", "appropriate_adult") not in found
    assert result.stderr.strip() == (
        "custody-watch: C-1: rule appropriate_adult could not be evaluated "
        "(OverflowError: no room); its finding may be missing"
    )
