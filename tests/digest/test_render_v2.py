"""The v2 figures in the digest email: summary lines, the children released without a referral,
the looked-after and repeat marks on a child's line, and the case review chart; none of it on
a day whose feed exports no v2 field."""

from __future__ import annotations

from datetime import time
from typing import Any

from custody_watch.digest.figures import digest_figures
from custody_watch.digest.inputs import CaseReview, DigestInputs, EarlierArrival
from custody_watch.digest.render import DigestRenderer
from custody_watch.digest.review_chart import case_review_chart
from custody_watch.domain import Detention, ReleaseReason
from custody_watch.rules.policy import Policy

from .test_figures import DAY, child, t

CARRIES_REFERRAL = frozenset({"social_care_referral_time"})


def figures(*detentions: Detention, **inputs: Any) -> dict[str, Any]:
    return digest_figures(
        DAY, time(7, 0), Policy(), DigestInputs(detentions=detentions, **inputs), history=False
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def v2_day() -> dict[str, Any]:
    return figures(
        # Looked after, a repeat, held over 8 hours.
        child("LA-1", "2026-06-10T08:00:00Z", looked_after=True, person_ref="P-1"),
        child(
            "NR-1",
            "2026-06-10T08:00:00Z",
            released_time=t("2026-06-10T12:30:00Z"),
            release_reason=ReleaseReason.BAILED,
            feed_carries=CARRIES_REFERRAL,
        ),
        earlier_arrivals=(
            EarlierArrival("P-1", "E-1", t("2026-05-01T08:00:00Z")),
            EarlierArrival("P-1", "E-2", t("2026-05-20T08:00:00Z")),
        ),
        case_reviews=(
            CaseReview("CR-1", "S1", None, "inadequate", t("2026-06-10T10:00:00Z")),
            CaseReview("CR-2", "S1", None, "good", t("2026-06-10T11:00:00Z")),
            CaseReview("CR-3", "S1", None, "good", t("2026-05-30T11:00:00Z")),
            CaseReview("CR-4", "S1", None, "requires_improvement", t("2026-05-30T12:00:00Z")),
        ),
    )


def test_the_summary_gives_each_v2_figure_in_words() -> None:
    text = flat(DigestRenderer().render(v2_day()).text)

    assert "Looked-after children in custody: 1 (in local-authority care)" in text
    assert "!! Children detained again: 1 (at least 2 other detentions in the 90 days" in text
    assert "!! Released without a referral to children's social care: 1" in text
    assert (
        "Case reviews graded: good 1, requires improvement 0, inadequate 1 "
        "(inadequate over 28 days: 25% (1 of 4))" in text
    )


def test_the_children_released_without_a_referral_are_named_by_custody_ref() -> None:
    text = flat(DigestRenderer().render(v2_day()).text)

    assert (
        "RELEASED WITHOUT A REFERRAL TO CHILDREN'S SOCIAL CARE "
        "----------------------------------------------------- "
        "- NR-1 (S1, age 14-15): Left custody Wed 10 Jun 13:30 BST (bailed). "
        "No referral to children's social care by the end of the period." in text
    )


def test_a_looked_after_child_detained_again_is_marked_on_their_line() -> None:
    rendered = DigestRenderer().render(v2_day())

    assert "LA-1 (S1, age 14-15, looked after, detained again):" in flat(rendered.text)
    assert "<strong>LA-1</strong> (S1, age 14-15, looked after, detained again)" in rendered.html


def test_the_short_text_carries_counts_only_and_no_looked_after_status() -> None:
    short = DigestRenderer().render(v2_day()).short_text

    assert "Children detained again: 1." in short
    assert "looked" not in short.lower()
    assert "LA-1" not in short and "NR-1" not in short


def test_the_suite_tables_gain_the_v2_rows_on_a_day_with_v2_figures() -> None:
    text = DigestRenderer().render(v2_day()).text

    rows = [line.split() for line in text.splitlines()]
    assert ["Looked", "after", "1"] in rows
    assert ["Detained", "again", "1"] in rows
    assert ["Released,", "no", "referral", "1"] in rows
    assert ["Case", "reviews:", "good", "/", "RI", "/", "inad.", "1", "/", "0", "/", "1"] in rows


def test_a_day_without_v2_data_shows_no_v2_line_or_section() -> None:
    rendered = DigestRenderer().render(figures(child("C-1")))

    for words in ("Looked", "again", "referral", "Case reviews"):
        assert words not in rendered.text
        assert words not in rendered.html


def test_the_case_review_chart_draws_both_bars_and_says_them_in_its_alt_text() -> None:
    chart = case_review_chart(v2_day())

    assert chart is not None
    assert chart.png.startswith(b"\x89PNG")
    assert chart.kind == "case_reviews"
    assert chart.alt == (
        "Bar chart of case review grades. this period: good 1, requires improvement 0, "
        "inadequate 1; 28 days: good 2, requires improvement 1, inadequate 1. "
        "Share inadequate over 28 days: 25%."
    )
    assert case_review_chart(v2_day()).png == chart.png  # type: ignore[union-attr]


def test_no_case_review_chart_when_nothing_was_graded() -> None:
    assert case_review_chart(figures(child("C-1"))) is None


def test_the_html_places_the_case_review_chart_by_its_cid() -> None:
    day = v2_day()
    chart = case_review_chart(day)
    assert chart is not None

    html = DigestRenderer().render(day, charts=[chart]).html

    assert f'src="cid:{chart.cid}"' in html
    assert "Case reviews</h2>" in html
