"""The rules: pure functions of (detention, policy, now) that return findings.

Nothing in this package reads a clock, a database or the network."""

from custody_watch.rules.engine import (
    RULE_IDS,
    RULES,
    Evaluation,
    RuleFailure,
    assess,
    evaluate,
    evaluate_all,
)
from custody_watch.rules.policy import People, Policy

__all__ = [
    "RULES",
    "RULE_IDS",
    "Evaluation",
    "People",
    "Policy",
    "RuleFailure",
    "assess",
    "evaluate",
    "evaluate_all",
]
