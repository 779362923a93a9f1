"""The case review chart (v2): the supervisors' grades in the period and over the last 28 days,
on the inspection's own scale, with the share inadequate. The inspection graded 79 cases (20
good, 31 requires improvement, 28 inadequate); a force watching its own supervision wants the
same picture, day by day.

Drawn like the other charts (``charts``): from the figures alone, Agg backend, fixed style, no
timestamp in the PNG."""

from __future__ import annotations

from typing import Any

from .charts import _STYLE, DPI, WIDTH_IN, Chart, _png
from .tally import GRADES

LABELS = {
    "good": "good",
    "requires_improvement": "requires improvement",
    "inadequate": "inadequate",
}
COLOURS = {"good": "#1b7837", "requires_improvement": "#f4a582", "inadequate": "#b2182b"}


def case_review_chart(figures: dict[str, Any]) -> Chart | None:
    """Two stacked bars, the period and the 28 days ending with it, one segment per grade.
    None when no case was graded in the 28 days (a feed without case reviews draws nothing)."""
    totals = figures["totals"]
    period: dict[str, int] = totals["case_reviews"]
    over_28d: dict[str, int] = totals.get("case_reviews_28d") or period
    if not sum(over_28d.values()) and not sum(period.values()):
        return None
    share = totals.get("case_reviews_inadequate_share_28d")
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rows = (("this period", period), ("28 days", over_28d))
    height_in = 2.2
    title = "Case reviews by grade"
    if share is not None:
        title += f": {round(100 * share)}% inadequate over 28 days"
    with rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        ax = fig.add_subplot()
        for grade in GRADES:
            lefts = [sum(counts[g] for g in GRADES[: GRADES.index(grade)]) for _, counts in rows]
            ax.barh(
                range(len(rows)),
                [counts[grade] for _, counts in rows],
                left=lefts,
                color=COLOURS[grade],
                height=0.55,
                label=LABELS[grade],
            )
        ax.set_yticks(range(len(rows)), [label for label, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("cases graded")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", frameon=False, fontsize=8, ncols=3)
        ax.set_title(title, loc="left")
        fig.tight_layout()
        png = _png(fig)
    described = [
        f"{label}: " + ", ".join(f"{LABELS[g]} {counts[g]}" for g in GRADES)
        for label, counts in rows
    ]
    alt = "Bar chart of case review grades. " + "; ".join(described) + "."
    if share is not None:
        alt += f" Share inadequate over 28 days: {round(100 * share)}%."
    return Chart(
        kind="case_reviews",
        cid=f"case-reviews.{figures['date']}@custody-watch",
        png=png,
        alt=alt,
        title=title,
        width=int(WIDTH_IN * DPI),
        height=int(height_in * DPI),
    )
