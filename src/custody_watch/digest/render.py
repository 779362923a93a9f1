"""The digest for people: subject, plain text, HTML with inline charts, and a short text for
channels that carry only a few lines (SMS).

Everything shown comes from the figures (so the email and ``--format json`` agree) and is
shown in local time. Custody refs only: the figures hold no name, date of birth or person
ref, so no template can show one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from custody_watch.messages.render import template_environment
from custody_watch.notify.base import InlineImage
from custody_watch.times import LONDON, human_duration, parse_instant

from .charts import Chart
from .figures import AGE_BANDS, NO_FORCE

AGE_LABELS = {
    "under_10": "under 10",
    "10_11": "10-11",
    "12_13": "12-13",
    "14_15": "14-15",
    "16_17": "16-17",
    "unknown": "age not known",
}
EVENT_LABELS = {
    "arrested": "arrested",
    "arrived": "arrived",
    "appropriate_adult_requested": "appropriate adult requested",
    "appropriate_adult_arrived": "appropriate adult arrived",
    "charged": "charged",
    "bail_refused": "refused bail",
    "la_accommodation_requested": "local-authority accommodation requested",
    "s38_certificate": "s.38(6) certificate",
    "released": "left custody",
}
REASON_LABELS = {
    "released": "released",
    "bailed": "bailed",
    "transferred_la": "moved to local-authority accommodation",
    "court": "taken to court",
    "hospital": "taken to hospital",
    "other": "other reason",
}
GROUND_LABELS = {
    "impracticable": "transfer impracticable",
    "no_secure_accommodation": "no secure accommodation",
    "none": "no ground given",
}
BASIS_LABELS = {
    "mha_s136": "MHA s.136",
    "mha_s135": "MHA s.135",
    "police_protection": "police protection",
}
GROUP_COLUMNS = 4


@dataclass(frozen=True, slots=True)
class Line:
    """A figure for people: ``label: value`` and an optional remark."""

    label: str
    value: str
    remark: str = ""
    alarm: bool = False


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


@dataclass(frozen=True, slots=True)
class ChildLine:
    custody_ref: str
    where: str
    story: str
    outcome: str


@dataclass(frozen=True, slots=True)
class ChartView:
    kind: str
    cid: str
    alt: str
    title: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class DigestView:
    date: str
    title: str
    period: str
    late: str | None
    incomplete: str | None
    quiet: str | None
    summary: tuple[Line, ...]
    over_8h: tuple[ChildLine, ...]
    refused_bail: tuple[ChildLine, ...]
    groups: tuple[Table, ...]
    history: Table | None
    history_note: str
    quality: tuple[Line, ...]
    outages: tuple[str, ...]
    charts: tuple[ChartView, ...] = ()
    command: str = ""
    headline: str = ""
    zone_name: str = "Europe/London"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    short_text: str
    images: tuple[InlineImage, ...]


class DigestRenderer:
    def __init__(self, directory: Path | None = None) -> None:
        self._env = template_environment(directory, keep_trailing_newline=True)

    def render(
        self,
        figures: dict[str, Any],
        *,
        zone: tzinfo = LONDON,
        charts: Sequence[Chart] = (),
        late: str | None = None,
    ) -> RenderedDigest:
        view = build_view(figures, zone=zone, charts=charts, late=late)
        subject = self._env.get_template("digest/digest.subject.txt").render(v=view)
        return RenderedDigest(
            subject=" ".join(subject.split()),
            text=self._env.get_template("digest/digest.txt").render(v=view),
            html=self._env.get_template("digest/digest.html").render(v=view),
            short_text=self._env.get_template("digest/digest.short.txt").render(v=view).strip(),
            images=tuple(chart.image() for chart in charts),
        )


def late_note(due: datetime, sent: datetime, zone: tzinfo = LONDON) -> str:
    return (
        f"This digest is late: it was due at {when(due, zone)} and was sent at "
        f"{when(sent, zone)}. The figures cover the same period as they would have on time."
    )


# -- building the view -------------------------------------------------------------------


def build_view(
    figures: dict[str, Any],
    *,
    zone: tzinfo = LONDON,
    charts: Sequence[Chart] = (),
    late: str | None = None,
) -> DigestView:
    day = date.fromisoformat(figures["date"])
    start = parse_instant(figures["window_start"])
    end = parse_instant(figures["window_end"])
    totals = figures["totals"]
    quality = figures["data_quality"]
    incomplete = _incomplete(quality, zone)
    quiet = None
    if figures.get("quiet"):
        quiet = (
            "A quiet day: no child was in police custody in this period and no alert was raised."
        )
        if incomplete:
            quiet += (
                " The data for the period was incomplete (see above), so this may not be the "
                "whole picture."
            )
    return DigestView(
        date=figures["date"],
        title=f"Daily custody digest for {long_date(day)}",
        period=_period(start, end, zone),
        late=late,
        incomplete=incomplete,
        quiet=quiet,
        summary=tuple(_summary(totals)),
        over_8h=tuple(
            _child_line(c, zone)
            for c in figures["children"]
            if c["custody_ref"] in set(figures["children_over_8h"])
        ),
        refused_bail=tuple(
            _refused_line(r, zone) for r in figures["charged_refused_bail_children"]
        ),
        groups=tuple(_group_tables(figures)),
        history=_history_table(figures),
        history_note=(
            "Daily averages over the digest periods of the 7 and 28 days before this one; "
            "'up' and 'down' compare this day's figure with each average."
        ),
        quality=tuple(_quality_lines(quality)),
        outages=tuple(_outage_line(o, zone) for o in quality["outages"]),
        charts=tuple(
            ChartView(
                kind=c.kind, cid=c.cid, alt=c.alt, title=c.title, width=c.width, height=c.height
            )
            for c in charts
        ),
        command=f"custody-watch digest --date {figures['date']} --format json",
        headline=_headline(figures),
        zone_name=str(zone),
    )


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def when(at: datetime, zone: tzinfo, *, with_date: bool = True) -> str:
    """``09:00 BST 10 Jun``: a local time for a reader."""
    local = at.astimezone(zone)
    label = f"{local:%H:%M} {local.tzname()}"
    return f"{label} {local.day} {local:%b}" if with_date else label


def _period(start: datetime, end: datetime, zone: tzinfo) -> str:
    hours = round((end - start) / timedelta(hours=1))
    a, b = start.astimezone(zone), end.astimezone(zone)
    text = (
        f"From {a:%H:%M} {a.tzname()} on {a:%A} {a.day} {a:%B} to {b:%H:%M} {b.tzname()} on "
        f"{b:%A} {b.day} {b:%B %Y} ({hours} hours"
    )
    if hours > 24:
        text += ": the clocks went back"
    elif hours < 24:
        text += ": the clocks went forward"
    return text + ")."


def _minutes(value: int | None) -> str:
    return "-" if value is None else human_duration(timedelta(minutes=value))


def _summary(t: dict[str, Any]) -> list[Line]:
    tic = t["time_in_custody_minutes"]
    ack = t["ack_minutes"]
    alerts = t["alerts_raised"]
    bands = [f"{AGE_LABELS[b]}: {t['age_bands'][b]}" for b in AGE_BANDS if t["age_bands"][b]]
    lines = [
        Line(
            "Children in custody",
            str(t["children_in_custody"]),
            f"arrived {t['children_arrived']}, left custody {t['children_released']}",
        ),
    ]
    if bands:
        lines.append(Line("By age", ", ".join(bands)))
    lines += [
        Line(
            "Time in custody",
            "no child left custody"
            if tic["median"] is None
            else (
                f"median {_minutes(tic['median'])}, 90th percentile {_minutes(tic['p90'])}, "
                f"longest {_minutes(tic['max'])}"
            ),
            "" if tic["median"] is None else "children who left custody in the period",
        ),
        Line("Held over 8 hours", str(t["children_held_over_8h"])),
        Line(
            "Held overnight",
            str(t["children_held_overnight"]),
            f"before charge {t['held_overnight_before_charge']}, "
            f"after charge {t['held_overnight_after_charge']}",
        ),
        Line(
            "Charged and refused bail",
            str(t["charged_refused_bail"]),
            f"moved to local-authority accommodation {t['transferred_la']}, "
            f"certificate {t['certified']}, neither {t['refused_bail_neither']}",
            alarm=t["refused_bail_neither"] > 0,
        ),
        Line(
            "Children at a station as a place of safety",
            str(t["place_of_safety_children"]),
            "must be none",
            alarm=t["place_of_safety_children"] > 0,
        ),
        Line("Adults at a station as a place of safety", str(t["place_of_safety_adults"])),
        Line(
            "Police protection at a station",
            str(t["police_protection_at_station"]),
            alarm=t["police_protection_at_station"] > 0,
        ),
        Line("Appropriate-adult delays", str(t["appropriate_adult_delays"]), "over 3 hours"),
        Line("Reviews late", str(t["reviews_late"])),
        Line(
            "Alerts raised",
            str(t["alerts_total"]),
            ", ".join(f"{s} {alerts[s]}" for s in ("critical", "high", "warning")),
        ),
        Line(
            "Time to first acknowledgement",
            "no alert acknowledged"
            if ack["median"] is None
            else f"median {_minutes(ack['median'])}, 90th percentile {_minutes(ack['p90'])}",
        ),
        Line(
            "Alerts never acknowledged",
            str(t["alerts_never_acknowledged"]),
            "of those raised in the period",
        ),
        Line(
            "Delivery failures",
            str(t["delivery_failures"]),
            "messages that could not be delivered",
            alarm=t["delivery_failures"] > 0,
        ),
    ]
    return lines


class _Story:
    """Local times for one child's events: the date is given once, and again when it
    changes."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._day: date | None = None

    def at(self, text: str) -> str:
        instant = parse_instant(text)
        day = instant.astimezone(self._zone).date()
        label = when(instant, self._zone, with_date=day != self._day)
        self._day = day
        return label


def _sentence(steps: Sequence[str]) -> str:
    text = "; ".join(steps)
    return text[:1].upper() + text[1:]


def _child_line(child: dict[str, Any], zone: tzinfo) -> ChildLine:
    steps = []
    story = _Story(zone)
    for event in child["events"]:
        label = EVENT_LABELS[event["event"]]
        text = f"{label} {story.at(event['at'])}"
        if event["event"] == "s38_certificate" and "ground" in event:
            text += f" ({GROUND_LABELS[event['ground']]})"
        if event["event"] == "released" and "reason" in event:
            text += f" ({REASON_LABELS[event['reason']]})"
        steps.append(text)
    held = _minutes(child["held_minutes"])
    if child["in_custody_at_window_end"]:
        outcome = f"still in custody at the end of the period: held {held} so far"
    else:
        outcome = f"held {held}"
    where = _where(child)
    return ChildLine(
        child["custody_ref"], where, _sentence(steps), outcome[:1].upper() + outcome[1:]
    )


def _where(item: dict[str, Any]) -> str:
    parts = [item["suite"]]
    band = item.get("age_band")
    if band is not None:
        parts.append(f"age {AGE_LABELS[band]}" if band != "unknown" else AGE_LABELS[band])
    basis = BASIS_LABELS.get(item.get("legal_basis") or "")
    if basis:
        parts.append(basis)
    return ", ".join(parts)


def _refused_line(item: dict[str, Any], zone: tzinfo) -> ChildLine:
    story = _Story(zone)
    steps = [f"refused bail {story.at(item['bail_refused_time'])}"]
    if item["la_accommodation_requested_time"]:
        at = story.at(item["la_accommodation_requested_time"])
        steps.append(f"local-authority accommodation requested {at}")
    if item["s38_certificate_time"]:
        ground = GROUND_LABELS[item["s38_certificate_ground"] or "none"]
        steps.append(f"s.38(6) certificate {story.at(item['s38_certificate_time'])} ({ground})")
    if item["released_time"]:
        reason = REASON_LABELS.get(item["release_reason"] or "", "")
        at = story.at(item["released_time"])
        steps.append(f"left custody {at}" + (f" ({reason})" if reason else ""))
    else:
        steps.append("still in custody")
    outcome = {
        "transferred_la": "Moved to local-authority accommodation",
        "certified": "s.38(6) certificate",
        "neither": "Neither moved nor certified",
    }[item["outcome"]]
    return ChildLine(item["custody_ref"], item["suite"], _sentence(steps), outcome)


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


def _cell(group: dict[str, Any], key: Any) -> str:
    if isinstance(key, str):
        return str(group[key])
    kind, part = key
    if kind == "bands":
        return " / ".join(str(group["age_bands"][b]) for b in part)
    if kind == "tic":
        return _minutes(group["time_in_custody_minutes"][part])
    if kind == "ack":
        return _minutes(group["ack_minutes"][part])
    return str(group["alerts_raised"][part])


def _group_tables(figures: dict[str, Any]) -> list[Table]:
    """A table per force (its total, then its suites), four columns at most so that the
    text stays narrow."""
    forces = figures["forces"]
    suite_forces = figures.get("suite_forces", {})
    tables = []
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
                        for label, key in _GROUP_ROWS
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


def _history_table(figures: dict[str, Any]) -> Table | None:
    week, month = figures.get("previous_7_days"), figures.get("previous_28_days")
    if week is None or month is None:
        return None
    totals = figures["totals"]
    rows = [
        (
            label,
            str(totals[key]),
            _avg(week["daily_average"][key]),
            week["change"][key],
            _avg(month["daily_average"][key]),
            month["change"][key],
        )
        for label, key in _HISTORY_ROWS
    ]
    rows.insert(
        1,
        (
            "Time in custody: median",
            _minutes(totals["time_in_custody_minutes"]["median"]),
            _minutes(week["time_in_custody_minutes"]["median"]),
            week["change"]["time_in_custody_median"] or "-",
            _minutes(month["time_in_custody_minutes"]["median"]),
            month["change"]["time_in_custody_median"] or "-",
        ),
    )
    return Table(
        headers=("", "this day", "7-day avg", "change", "28-day avg", "change"),
        rows=tuple(rows),
    )


def _avg(value: float) -> str:
    return f"{value:.1f}"


def _quality_lines(quality: dict[str, Any]) -> list[Line]:
    by_source = ", ".join(f"{s} {n}" for s, n in quality["quarantined_by_source"].items())
    lines = [
        Line(
            "Rejected rows",
            str(quality["quarantined_rows"]),
            f"by source: {by_source}" if by_source else "",
        ),
        Line(
            "Missing dates of birth",
            str(quality["missing_dob"]),
            "treated as children until a date of birth is recorded"
            if quality["missing_dob"]
            else "",
        ),
    ]
    if quality["unreadable_records"]:
        lines.append(
            Line("Stored records that could not be read", str(quality["unreadable_records"]))
        )
    return lines


def _outage_line(outage: dict[str, Any], zone: tzinfo) -> str:
    """One outage in words. The source's error text stays out of the email (it can name
    hosts and accounts); ``--format json`` and the audit log have it."""
    start = when(parse_instant(outage["start"]), zone)
    if outage["kind"] == "failed_polls":
        n = outage["failed_polls"]
        if n == 1:
            return f"{outage['source']} failed to answer a poll at {start}"
        end = when(parse_instant(outage["end"]), zone)
        return f"{outage['source']} failed to answer {n} polls between {start} and {end}"
    if outage["end"] is None:
        return f"{outage['source']} delivered nothing from {start} and is still silent"
    end = when(parse_instant(outage["end"]), zone)
    return f"{outage['source']} delivered nothing from {start} until {end}"


def _incomplete(quality: dict[str, Any], zone: tzinfo) -> str | None:
    if not quality["incomplete"]:
        return None
    reasons = [_outage_line(o, zone) for o in quality["outages"]]
    for late in quality["sources_started_late"]:
        first = when(parse_instant(late["first_poll_at"]), zone)
        reasons.append(f"{late['source']} was first read at {first}")
    if quality["window_not_over"]:
        reasons.append("the period has not ended yet")
    if quality["unreadable_records"]:
        reasons.append(f"{quality['unreadable_records']} stored records could not be read")
    return (
        "The data for this period is incomplete: "
        + "; ".join(reasons)
        + ". The figures count only what custody-watch received, so the true numbers may be "
        "higher."
    )


def _headline(figures: dict[str, Any]) -> str:
    t = figures["totals"]
    if figures.get("quiet"):
        return "a quiet day"
    n = t["children_in_custody"]
    parts = [f"{n} {'child' if n == 1 else 'children'} in custody"]
    if t["children_held_over_8h"]:
        parts.append(f"{t['children_held_over_8h']} over 8h")
    if t["children_held_overnight"]:
        parts.append(f"{t['children_held_overnight']} overnight")
    if t["refused_bail_neither"]:
        parts.append(f"{t['refused_bail_neither']} refused bail not moved")
    return ", ".join(parts)
