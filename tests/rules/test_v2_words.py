"""Words for people about the v2 findings: every rule has a plain-English label, and neither
a label nor a detail says that a child is looked after (labels and the lead detail go out by
SMS, which carries no personal data)."""

from __future__ import annotations

from custody_watch.messages.labels import RULE_LABELS, rule_label
from custody_watch.rules import RULE_IDS, assess

from .support import ARRIVAL, CHILDREN_ONLY, H, M, build_detention


def test_every_rule_has_its_own_label() -> None:
    assert set(RULE_IDS) <= set(RULE_LABELS)
    assert len({RULE_LABELS[rule] for rule in RULE_IDS}) == len(RULE_IDS)


def test_no_label_or_detail_of_a_looked_after_child_says_so() -> None:
    detention = build_detention(
        looked_after=True,
        person_ref="P-1",
        feed_carries=frozenset({"welfare_person_informed_time"}),
        interview_times=(ARRIVAL + H,),
        strip_search_times=(ARRIVAL + H,),
        cell_time=ARRIVAL + 10 * M,
        adult_in_cell_time=ARRIVAL + 2 * H,
        charged_time=ARRIVAL + H,
        court_due_time=ARRIVAL + 2 * H,
    )
    findings = assess(
        detention, CHILDREN_ONLY, ARRIVAL + 3 * H, same_person_arrivals=(ARRIVAL - 24 * H,) * 2
    ).findings
    assert len(findings) >= 8
    for finding in findings:
        words = f"{rule_label(finding.rule)} {finding.detail}".lower()
        assert "looked" not in words and "in care" not in words, words
        assert "P-1" not in finding.detail
