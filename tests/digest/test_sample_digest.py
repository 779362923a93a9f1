"""The sample day (config/sample) in a store gives the v2 digest figures its README documents
("The digest of 11 June")."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from custody_watch.digest.send import build_digest

from .support import Store, put_records, t

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample" / "suite-day.csv"


def test_the_sample_day_gives_the_documented_v2_figures(store: Store) -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        put_records(store, list(csv.DictReader(f)), "2026-06-11T07:00:00Z")

    with store.sessions() as session:
        built = build_digest(session, store.settings, date(2026, 6, 11), t("2026-06-11T07:30:00Z"))
    totals = built.figures["totals"]

    assert totals["looked_after_in_custody"] == 1
    assert totals["repeat_detention_children"] == 1
    assert totals["released_without_referral"] == 1
    assert [c["custody_ref"] for c in built.figures["released_without_referral_children"]] == [
        "NTH-26-4142"
    ]
    assert totals["case_reviews"] == {"good": 2, "requires_improvement": 0, "inadequate": 0}
    assert totals["case_reviews_inadequate_share_28d"] == 1 / 3
    assert built.figures["suites"]["NTH-CUS1"]["looked_after_in_custody"] == 1
    children = {c["custody_ref"]: c for c in built.figures["children"]}
    assert children["NTH-26-4141"]["looked_after"] is True
    assert children["NTH-26-4146"]["repeat_detention"] is True
    # The email says so, and draws the case review chart.
    assert "Looked-after children in custody: 1" in built.rendered.text
    assert "- NTH-26-4142 (NTH-CUS1, age 16-17): Left custody" in built.rendered.text
    assert any(image.cid.startswith("case-reviews.") for image in built.rendered.images)
