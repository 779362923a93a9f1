"""The digest's tables: the figures of each force and suite side by side, and the day
against the averages of the 7 and 28 days before it. Plain text lays them out in columns;
the HTML template uses the same cells."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .tally import NO_FORCE
from .wording import minutes_text

GROUP_COLUMNS = 4
HISTORY_NOTE = (
    "Daily averages over the digest periods of the 7 and 28 days before this one; "
    "'up' and 'down' compare this day's figure with each average."
)


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def text(self) -> list[str]:
        widths = [
            max(len(cell) for cell in column)
            for column in zip(self.headers, *self.rows, strict=True)
        ]

        def line(cells: Sequence[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
            return "  ".join([first, *rest]).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return [line(self.headers), rule, *(line(row) for row in self.rows)]


_GROUP_ROWS: tuple[tuple[str, Any], ...] = (
    ("Children in custody", "children_in_custody"),
    ("  arrived", "children_arrived"),
    ("  left custody", "children_released"),
    ("  under 10 / 10-11 / 12-13", ("bands", ("under_10", "10_11", "12_13"))),
    ("  14-15 / 16-17 / not known", ("bands", ("14_15", "16_17", "unknown"))),
    ("Time in custody: median", ("tic", "median")),
    ("  90th percentile", ("tic", "p90")),
    ("  longest", ("tic", "max")),
    ("Held over 8 hours", "children_held_over_8h"),
    ("Held overnight", "children_held_overnight"),
    ("  before charge", "held_overnight_before_charge"),
    ("  after charge", "held_overnight_after_charge"),
    ("Charged and refused bail", "charged_refused_bail"),
    ("  moved to LA accommodation", "transferred_la"),
    ("  certificate", "certified"),
    ("  neither", "refused_bail_neither"),
    ("Place of safety: children", "place_of_safety_children"),
    ("Place of safety: adults", "place_of_safety_adults"),
    ("Police protection", "police_protection_at_station"),
    ("Appropriate-adult delays", "appropriate_adult_delays"),
    ("Reviews late", "reviews_late"),
    ("Missing dates of birth", "missing_dob"),
    ("Alerts: critical", ("alerts", "critical")),
    ("  high", ("alerts", "high")),
    ("  warning", ("alerts", "warning")),
    ("  never acknowledged", "alerts_never_acknowledged"),
    ("First ack: median", ("ack", "median")),
    ("  90th percentile", ("ack", "p90")),
    ("Delivery failures", "delivery_failures"),
    ("Rejected rows", "quarantined_rows"),
)


# v2 rows, after "Reviews late", on a day with any v2 figure (a feed that exports no v2
# field gives zeros, which would read as "none" rather than "not known").
_V2_ROWS: tuple[tuple[str, Any], ...] = (
    ("Looked after", "looked_after_in_custody"),
    ("Detained again", "repeat_detention_children"),
    ("Released, no referral", "released_without_referral"),
    ("Case reviews: good / RI / inad.", ("grades", ("good", "requires_improvement", "inadequate"))),
)
_V2_AFTER = "reviews_late"


def _rows(totals: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    shown = any(totals[key] for _, key in _V2_ROWS[:3]) or any(totals["case_reviews"].values())
    if not shown:
        return _GROUP_ROWS
    at = 1 + next(i for i, (_, key) in enumerate(_GROUP_ROWS) if key == _V2_AFTER)
    return (*_GROUP_ROWS[:at], *_V2_ROWS, *_GROUP_ROWS[at:])


def _cell(group: dict[str, Any], key: Any) -> str:
    if isinstance(key, str):
        return str(group[key])
    kind, part = key
    if kind == "grades":
        return " / ".join(str(group["case_reviews"][g]) for g in part)
    if kind == "bands":
        return " / ".join(str(group["age_bands"][b]) for b in part)
    if kind == "tic":
        return minutes_text(group["time_in_custody_minutes"][part])
    if kind == "ack":
        return minutes_text(group["ack_minutes"][part])
    return str(group["alerts_raised"][part])


def group_tables(figures: dict[str, Any]) -> list[Table]:
    """A table per force (its total, then its suites), four columns at most so that the
    text stays narrow."""
    forces = figures["forces"]
    suite_forces = figures.get("suite_forces", {})
    tables = []
    shown_rows = _rows(figures["totals"])
    for force in sorted(forces, key=lambda f: (f == NO_FORCE, f)):
        suites = [s for s in figures["suites"] if suite_forces.get(s, NO_FORCE) == force]
        columns: list[tuple[str, dict[str, Any]]] = []
        if force != NO_FORCE or len(forces) > 1:
            columns.append((f"{force} (all)" if suites else force, forces[force]))
        columns += [(s, figures["suites"][s]) for s in suites]
        for i in range(0, len(columns), GROUP_COLUMNS):
            chunk = columns[i : i + GROUP_COLUMNS]
            tables.append(
                Table(
                    headers=("", *(name for name, _ in chunk)),
                    rows=tuple(
                        (label, *(_cell(group, key) for _, group in chunk))
                        for label, key in shown_rows
                    ),
                )
            )
    return tables


_HISTORY_ROWS = (
    ("Children in custody", "children_in_custody"),
    ("Children arrived", "children_arrived"),
    ("Held over 8 hours", "children_held_over_8h"),
    ("Held overnight", "children_held_overnight"),
    ("Charged and refused bail", "charged_refused_bail"),
    ("Moved to LA accommodation", "transferred_la"),
    ("Certificates", "certified"),
    ("Place of safety: children", "place_of_safety_children"),
    ("Police protection", "police_protection_at_station"),
    ("Appropriate-adult delays", "appropriate_adult_delays"),
    ("Reviews late", "reviews_late"),
    ("Alerts raised", "alerts_total"),
    ("Delivery failures", "delivery_failures"),
    ("Rejected rows", "quarantined_rows"),
)


TOO_LITTLE_HISTORY = (
    " Too little history for the {periods} comparison: the store's data begin later than "
    "that period does, so no change is claimed ('-')."
)


def history_note(figures: dict[str, Any]) -> str:
    """HISTORY_NOTE, and which comparisons have too little history to say up or down."""
    short = [
        f"{days}-day"
        for days in (7, 28)
        if (figures.get(f"previous_{days}_days") or {}).get("too_little_history")
    ]
    if not short:
        return HISTORY_NOTE
    return HISTORY_NOTE + TOO_LITTLE_HISTORY.format(periods=" and ".join(short))


def history_table(figures: dict[str, Any]) -> Table | None:
    week, month = figures.get("previous_7_days"), figures.get("previous_28_days")
    if week is None or month is None:
        return None
    totals = figures["totals"]

    def change(period: dict[str, Any], key: str) -> str:
        # Too little history: no direction is claimed (history_note says why).
        return str(period["change"][key] or "-")

    rows = [
        (
            label,
            str(totals[key]),
            _avg(week["daily_average"][key]),
            change(week, key),
            _avg(month["daily_average"][key]),
            change(month, key),
        )
        for label, key in _HISTORY_ROWS
    ]
    rows.insert(
        1,
        (
            "Time in custody: median",
            minutes_text(totals["time_in_custody_minutes"]["median"]),
            minutes_text(week["time_in_custody_minutes"]["median"]),
            change(week, "time_in_custody_median"),
            minutes_text(month["time_in_custody_minutes"]["median"]),
            change(month, "time_in_custody_median"),
        ),
    )
    return Table(
        headers=("", "this day", "7-day avg", "change", "28-day avg", "change"),
        rows=tuple(rows),
    )


def _avg(value: float) -> str:
    return f"{value:.1f}"
