"""The digest's charts as PNG images with alt text, drawn from the figures alone.

matplotlib is imported only when a chart is drawn (other commands never pay for it), draws
with the Agg backend (no display) under a fixed style, and writes no timestamp or version
into the PNG, so the same figures give the same bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from custody_watch.notify.base import InlineImage
from custody_watch.times import format_duration

MAX_BARS = 30
WIDTH_IN, DPI = 6.4, 100
_STYLE: Any = {  # rc_context wants its own Literal keys
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "savefig.facecolor": "white",
    "path.simplify": False,
    "svg.hashsalt": "custody-watch",
}
HELD = "#b2182b"
RELEASED = "#4d4d4d"


@dataclass(frozen=True, slots=True)
class Chart:
    kind: str  # custody_times | trend
    cid: str
    png: bytes
    alt: str
    title: str
    width: int
    height: int

    def image(self) -> InlineImage:
        return InlineImage(cid=self.cid, png=self.png, alt=self.alt)


def custody_times_chart(figures: dict[str, Any]) -> Chart | None:
    """One bar per child in custody during the window: hours held (to release, or to the
    window's end for a child still held then). None on a day with no child in custody."""
    children = sorted(figures["children"], key=lambda c: (-c["held_minutes"], c["custody_ref"]))
    if not children:
        return None
    shown = children[:MAX_BARS]
    title = "Time in custody, each child"
    if len(children) > len(shown):
        title += f" (longest {len(shown)} of {len(children)})"
    height_in = 1.2 + 0.28 * len(shown)
    return Chart(
        kind="custody_times",
        cid=f"custody-times.{figures['date']}@custody-watch",
        png=_custody_times_png(shown, title, height_in),
        alt=_custody_times_alt(children, shown),
        title=title,
        width=int(WIDTH_IN * DPI),
        height=int(height_in * DPI),
    )


def _custody_times_png(shown: list[dict[str, Any]], title: str, height_in: float) -> bytes:
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        ax = fig.add_subplot()
        labels = [c["custody_ref"] for c in reversed(shown)]
        hours = [c["held_minutes"] / 60 for c in reversed(shown)]
        colours = [HELD if c["in_custody_at_window_end"] else RELEASED for c in reversed(shown)]
        ax.barh(range(len(shown)), hours, color=colours, height=0.6)
        # Custody refs come from the feed: never let matplotlib read them as maths text
        # ("$\\undefinedmacro{x}$" raised there and stopped the whole digest).
        ax.set_yticks(range(len(shown)), labels, parse_math=False)
        ax.set_xlabel("hours in custody (dark red: still held at the end of the period)")
        longest = max(hours)
        _mark_hours(ax, longest)
        ax.set_xlim(0, max(longest * 1.05, 1))
        ax.grid(axis="y", visible=False)
        ax.set_title(title, loc="left")
        fig.tight_layout()
        return _png(fig)


def _mark_hours(ax: Any, longest: float) -> None:
    """Dashed lines at 8 and 24 hours, where the bars come near them."""
    for mark in (8, 24):
        if longest >= mark * 0.75:
            ax.axvline(mark, color="#f4a582", linewidth=1, linestyle="--")
            ax.annotate(
                f"{mark}h",
                (mark, 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -10),
                textcoords="offset points",
                color="#d6604d",
                fontsize=8,
            )


def _custody_times_alt(children: list[dict[str, Any]], shown: list[dict[str, Any]]) -> str:
    parts = [
        f"{c['custody_ref']} {human_duration_minutes(c['held_minutes'])}"
        + (" and still held" if c["in_custody_at_window_end"] else "")
        for c in shown
    ]
    return (
        f"Bar chart: time in custody for each of the {len(children)} "
        f"{_plural(len(children), 'child', 'children')} held in this period, longest first: "
        + "; ".join(parts)
        + ("." if len(children) == len(shown) else f"; and {len(children) - len(shown)} more.")
    )


SERIES = (
    ("children_held_overnight", "children held overnight", "#2166ac", "-"),
    ("charged_refused_bail", "charged and refused bail", "#b2182b", "--"),
    ("transferred_la", "moved to local-authority accommodation", "#1b7837", ":"),
)


def trend_chart(figures: dict[str, Any]) -> Chart | None:
    """Children held overnight and post-charge transfers, each day for 28 days and this one."""
    trend = figures.get("trend")
    if not trend:
        return None
    days = [date.fromisoformat(item["date"]) for item in trend]
    height_in = 2.8
    title = f"Children held overnight and refused bail, {len(trend) - 1} days and this one"
    return Chart(
        kind="trend",
        cid=f"trend.{figures['date']}@custody-watch",
        png=_trend_png(trend, days, title, height_in),
        alt=_trend_alt(trend, days),
        title=title,
        width=int(WIDTH_IN * DPI),
        height=int(height_in * DPI),
    )


def _trend_png(
    trend: list[dict[str, Any]], days: list[date], title: str, height_in: float
) -> bytes:
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        ax = fig.add_subplot()
        xs = list(range(len(trend)))
        for key, label, colour, style in SERIES:
            ax.plot(
                xs,
                [item[key] for item in trend],
                label=label,
                color=colour,
                linestyle=style,
                marker="o",
                markersize=2.5,
                linewidth=1.4,
            )
        ticks = [i for i in xs if (len(xs) - 1 - i) % 7 == 0]
        ax.set_xticks(ticks, [f"{days[i].day} {days[i]:%b}" for i in ticks])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        top = max([1, *(item[key] for item in trend for key, *_ in SERIES)])
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("children per day")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.set_title(title, loc="left")
        fig.tight_layout()
        return _png(fig)


def _trend_alt(trend: list[dict[str, Any]], days: list[date]) -> str:
    first, last = days[0], days[-1]
    described = []
    for key, label, *_ in SERIES:
        values = [item[key] for item in trend]
        described.append(
            f"{label}: {values[-1]} on the last day, {sum(values)} in all, "
            f"at most {max(values)} in a day"
        )
    return (
        f"Line chart, one point a day from {first.day} {first:%B %Y} to {last.day} "
        f"{last:%B %Y}: " + "; ".join(described) + "."
    )


def charts(figures: dict[str, Any]) -> tuple[Chart, ...]:
    return tuple(c for c in (custody_times_chart(figures), trend_chart(figures)) if c)


def human_duration_minutes(minutes: int) -> str:
    return format_duration(timedelta(minutes=minutes))


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
