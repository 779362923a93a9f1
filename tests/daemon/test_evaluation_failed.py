"""A detention whose evaluation fails is never a silent gap: operations get
``evaluation_failed`` at once (custody ref and error, no personal data), the rules that
still run for it still alert, the other detentions are evaluated, and it clears when the
detention is evaluated in full again. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from custody_watch.daemon import evaluate
from custody_watch.rules import engine
from custody_watch.rules.engine import Rule

from .support import Daemon

# Two 15-year-olds arriving at 09:00 BST, no appropriate adult requested.
CHILD_1 = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)
CHILD_2 = (
    "C-2,suite-a,2026-06-10T09:00:00+01:00,2011-05-02,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-78\n"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def daemon(request: pytest.FixtureRequest, make_daemon: Callable[..., Daemon]) -> Daemon:
    if request.param == "sqlite":
        return make_daemon()
    return make_daemon(database=request.getfixturevalue("postgres_schema_url"))


def break_rule_for(monkeypatch: pytest.MonkeyPatch, rule_id: str, custody_ref: str) -> None:
    """``rule_id`` raises for one detention, quoting its personal data as a careless error
    message might."""

    def rules() -> tuple[Rule, ...]:
        out = []
        for rule in engine.RULES:
            if rule.id == rule_id:

                def broken(facts: Any, policy: Any, check: Any = rule.check) -> Any:
                    d = facts.detention
                    if d.custody_ref == custody_ref:
                        raise OverflowError(f"no room for {d.person_ref} born {d.date_of_birth}")
                    return check(facts, policy)

                out.append(Rule(rule.id, broken, rule.child_only))
            else:
                out.append(rule)
        return tuple(out)

    monkeypatch.setattr(engine, "RULES", rules())


def by_rule(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {(a["custody_ref"] or a["findings"][0]["rule"]): a for a in alerts}


def test_a_rule_that_fails_for_one_child_raises_evaluation_failed_and_the_rest_still_alert(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon.drop("day.csv", CHILD_1 + CHILD_2)
    daemon.run_once("2026-06-10T09:30:00Z")  # 10:30 BST: appropriate_adult warning for both
    break_rule_for(monkeypatch, "appropriate_adult", "C-1")
    daemon.run_once("2026-06-10T11:30:00Z")  # 12:30: 3h30m, appropriate_adult is high

    alerts = by_rule(daemon.alerts())
    failed = alerts["evaluation_failed"]
    assert failed["severity"] == "high" and failed["custody_ref"] is None
    [finding] = failed["findings"]
    assert "C-1" in failed["summary"]
    assert finding["detail"] == (
        "rule appropriate_adult failed (OverflowError: no room for <person_ref> born "
        "<date_of_birth>); the other rules ran"
    )
    # The failing rule keeps what it last found for C-1; C-2 moves on as the rules say.
    assert {f["rule"]: f["severity"] for f in alerts["C-1"]["findings"]} == {
        "appropriate_adult": "warning"
    }
    assert alerts["C-2"]["severity"] == "high"

    monkeypatch.undo()  # the rule is fixed (a restart with a new version)
    daemon.run_once("2026-06-10T11:40:00Z")  # due again within five minutes of failing
    alerts = by_rule(daemon.alerts())
    assert "evaluation_failed" not in alerts
    assert alerts["C-1"]["severity"] == "high"
    [resolved] = [
        a for a in daemon.alerts("--all") if a["findings"][0]["rule"] == "evaluation_failed"
    ]
    assert resolved["state"] == "resolved"


def test_a_detention_that_cannot_be_evaluated_at_all_is_reported_and_the_others_still_alert(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = evaluate.detentions.load_record

    def fragile(record: dict[str, Any]) -> Any:
        if record.get("custody_ref") == "C-1":
            raise ValueError("a record the reader let through")
        return real(record)

    monkeypatch.setattr(evaluate.detentions, "load_record", fragile)
    daemon.drop("day.csv", CHILD_1 + CHILD_2)
    daemon.run_once("2026-06-10T09:30:00Z")

    alerts = by_rule(daemon.alerts())
    assert set(alerts) == {"C-2", "evaluation_failed"}
    failed = alerts["evaluation_failed"]
    assert "C-1" in failed["summary"]
    assert failed["findings"][0]["detail"] == (
        "no rule could run (ValueError: a record the reader let through)"
    )

    monkeypatch.undo()
    daemon.run_once("2026-06-10T09:36:00Z")
    assert set(by_rule(daemon.alerts())) == {"C-1", "C-2"}


def test_evaluation_failed_is_paged_to_operations_and_the_duty_inspector_without_personal_data(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_rule_for(monkeypatch, "child_detention_duration", "C-1")
    daemon.drop("day.csv", CHILD_1)
    out = daemon.run_once("2026-06-10T09:30:00Z")

    messages = [block for block in out.split("── sms") if "evaluation failed" in block]
    # Operations (+...03) and the duty inspector (+...01), who can check the child by hand.
    assert sorted(line for m in messages for line in m.splitlines() if "To:" in line) == [
        "To:      +447700900001",
        "To:      +447700900003",
    ]
    for message in messages:
        assert "C-1" in message and "child_detention_duration failed" in message
        assert "P-77" not in message and "2011-03-01" not in message
