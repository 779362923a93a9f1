"""The digest for people: subject, plain text, HTML with inline charts, and a short text for
channels that carry only a few lines (SMS).

Everything shown comes from the figures (so the email and ``--format json`` agree) and is
shown in local time. Custody refs only: the figures hold no name, date of birth or person
ref, so no template can show one.

The view is built here from the summary lines (``summary``), the tables (``tables``) and
the children's stories (``stories``); the templates under ``digest/`` lay it out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from custody_watch.messages.render import template_environment
from custody_watch.notify.base import InlineImage
from custody_watch.times import LONDON, format_local, parse_instant

from .charts import Chart
from .figure_tables import Table, group_tables, history_note, history_table
from .stories import ChildLine, no_referral_lines, over_8h_lines, refused_bail_lines
from .summary import (
    Line,
    headline,
    incomplete_note,
    outage_line,
    quality_lines,
    quiet_note,
    summary_lines,
)
from .wording import long_date, when


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
    no_referral: tuple[ChildLine, ...] = ()
    notes: tuple[str, ...] = ()


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
    quality = figures["data_quality"]
    incomplete = incomplete_note(quality, zone)
    return DigestView(
        date=figures["date"],
        title=f"Daily custody digest for {long_date(day)}",
        period=_period(start, end, zone),
        late=late,
        incomplete=incomplete,
        quiet=quiet_note(figures, incomplete),
        summary=tuple(summary_lines(figures["totals"])),
        over_8h=over_8h_lines(figures, zone),
        refused_bail=refused_bail_lines(figures, zone),
        no_referral=no_referral_lines(figures, zone),
        notes=tuple(note_line(note, zone) for note in figures.get("alert_notes", ())),
        groups=tuple(group_tables(figures)),
        history=history_table(figures),
        history_note=history_note(figures),
        quality=tuple(quality_lines(quality)),
        outages=tuple(outage_line(o, zone) for o in quality["outages"]),
        charts=tuple(_chart_view(c) for c in charts),
        command=f"custody-watch digest --date {figures['date']} --format json",
        headline=headline(figures),
        zone_name=str(zone),
    )


def note_line(note: dict[str, Any], zone: tzinfo) -> str:
    """'Thu 11 Jun 02:10 BST: insp-a on C-1 (suite-a, alert 4821)'."""
    where = ", ".join(x for x in (note["suite"], f"alert {note['ack_code']}") if x)
    subject = note["custody_ref"] or "a system alert"
    at = format_local(parse_instant(note["at"]), zone)
    return f"{at}: {note['author']} on {subject} ({where})"


def _chart_view(chart: Chart) -> ChartView:
    return ChartView(
        kind=chart.kind,
        cid=chart.cid,
        alt=chart.alt,
        title=chart.title,
        width=chart.width,
        height=chart.height,
    )


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
