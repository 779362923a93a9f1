"""The day against the days before it: daily averages over the previous 7 and 28 days, the
direction of change, and the short series the trend chart draws.

- The previous 7 and 28 days are the digest windows of the 7 (28) dates before D. Their
  figures are daily averages of ``totals`` (time in custody pooled over all releases), and
  ``change`` says whether D's figure is ``up``, ``down`` or the ``same`` against them.
  Adults at a station are not carried into history (only children's records are read for
  earlier days).
- A period that starts before the store's data does (the first poll of any source, or the
  earliest arrival read, whichever is earlier) is ``too_little_history``: its averages are
  shown, but no ``change`` is claimed (every value ``null``), since an average over days
  nobody watched is 0.0, not a baseline. A new install's first week says so instead of
  "up" on everything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from .tally import json_number, nearest_rank
from .window import Window, digest_window

HISTORY_DAYS = (7, 28)
# Figures averaged over earlier days and compared with the day's own.
HISTORY_KEYS = (
    "children_in_custody",
    "children_arrived",
    "children_held_overnight",
    "children_released",
    "children_held_over_8h",
    "charged_refused_bail",
    "transferred_la",
    "certified",
    "place_of_safety_children",
    "police_protection_at_station",
    "appropriate_adult_delays",
    "reviews_late",
    "alerts_total",
    "delivery_failures",
    "quarantined_rows",
)
# The figures of each day in ``trend``.
TREND_KEYS = ("children_held_overnight", "charged_refused_bail", "transferred_la")

WindowTotals = Callable[[Window], dict[str, Any]]


def history_figures(
    day: date,
    at: time,
    zone: tzinfo,
    totals: dict[str, Any],
    totals_for: WindowTotals,
    data_since: datetime | None = None,
) -> dict[str, Any]:
    """``previous_7_days``, ``previous_28_days`` and ``trend`` for the digest dated ``day``,
    whose own totals are ``totals``; ``totals_for`` gives an earlier window's.
    ``data_since``: when the store's data begins (None: it holds none)."""
    series = _history(day, at, zone, totals_for, max(HISTORY_DAYS))
    out: dict[str, Any] = {}
    for days in HISTORY_DAYS:
        start = digest_window(day - timedelta(days=days), at, zone).start
        period = _period(series[-days:], totals)
        if data_since is None or data_since > start:
            period["too_little_history"] = True
            period["change"] = {key: None for key in period["change"]}
        else:
            period["too_little_history"] = False
        out[f"previous_{days}_days"] = period
    out["trend"] = [
        {"date": item["date"], **{key: item[key] for key in TREND_KEYS}}
        for item in [*series, {"date": day.isoformat(), **totals}]
    ]
    return out


def _history(
    day: date, at: time, zone: tzinfo, totals_for: WindowTotals, days: int
) -> list[dict[str, Any]]:
    """Totals of each of the ``days`` dates before ``day``, oldest first."""
    out = []
    for back in range(days, 0, -1):
        earlier = day - timedelta(days=back)
        window = digest_window(earlier, at, zone)
        out.append({"date": earlier.isoformat(), **totals_for(window)})
    return out


def _period(series: Sequence[dict[str, Any]], today: dict[str, Any]) -> dict[str, Any]:
    n = len(series)
    averages = {key: json_number(sum(item[key] for item in series) / n) for key in HISTORY_KEYS}
    pooled = [m for item in series for m in item["_released_minutes"]]
    median = nearest_rank(pooled, 1, 2)
    change: dict[str, str | None] = {
        key: _direction(today[key], sum(item[key] for item in series) / n) for key in HISTORY_KEYS
    }
    today_median = today["time_in_custody_minutes"]["median"]
    change["time_in_custody_median"] = (
        None if median is None or today_median is None else _direction(today_median, median)
    )
    return {
        "days": n,
        "from": series[0]["date"],
        "to": series[-1]["date"],
        "daily_average": averages,
        "time_in_custody_minutes": {
            "median": median,
            "p90": nearest_rank(pooled, 9, 10),
            "max": max(pooled) if pooled else None,
        },
        "change": change,
    }


def _direction(value: float, reference: float) -> str:
    if abs(value - reference) < 1e-9:
        return "same"
    return "up" if value > reference else "down"
