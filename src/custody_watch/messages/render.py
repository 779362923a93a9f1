"""Rendering alert messages for each channel kind from Jinja2 templates."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from custody_watch.messages.labels import rule_label
from custody_watch.notify.gsm import measure, to_gsm7
from custody_watch.times import human_duration, local_label

TEMPLATES_ENV = "CUSTODY_WATCH_TEMPLATES"
# Two GSM-7 segments (306 characters): long enough to say what is wrong, short enough that
# it arrives as one message on every handset.
SMS_SEGMENTS = 2


def templates_dir() -> Path:
    """``templates/`` at the top of the project (or ``$CUSTODY_WATCH_TEMPLATES``)."""
    named = os.environ.get(TEMPLATES_ENV)
    if named:
        return Path(named)
    return Path(__file__).resolve().parents[3] / "templates"


@dataclass(frozen=True, slots=True)
class FindingLine:
    rule: str
    label: str
    severity: str
    since: str
    detail: str


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything a message about an alert may say. No name, DOB or address is in here, so
    no template can leak one."""

    alert_id: int
    purpose: str  # notify | acknowledged | resolved
    severity: str
    state: str
    ack_code: str
    custody_ref: str | None
    suite: str | None
    age: int | None
    held_for: str | None
    opened_at: str
    findings: tuple[FindingLine, ...]
    summary: str = ""
    acknowledged_by: str | None = None
    ack_url: str | None = None
    level: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


def template_environment(
    directory: Path | None = None, *, keep_trailing_newline: bool = False
) -> Environment:
    """The one Jinja2 set-up for messages, digests and pages: HTML autoescaped, a missing
    variable an error (never a silently blank line in an alert)."""
    return Environment(
        loader=FileSystemLoader(str(directory or templates_dir())),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )


class Renderer:
    def __init__(self, directory: Path | None = None) -> None:
        self._env = template_environment(directory)

    def sms(self, view: AlertView) -> Rendered:
        body = " ".join(self._env.get_template(f"sms/{view.purpose}.txt").render(a=view).split())
        # The way to acknowledge must survive any trimming: only the body is cut.
        tail = f" Reply ACK {view.ack_code}" if view.purpose == "notify" else ""
        return Rendered("", fit_with_tail(body, tail, SMS_SEGMENTS))

    def email(self, view: AlertView) -> Rendered:
        subject = " ".join(
            self._env.get_template(f"email/{view.purpose}.subject.txt").render(a=view).split()
        )
        text = self._env.get_template(f"email/{view.purpose}.txt").render(a=view)
        html = self._env.get_template(f"email/{view.purpose}.html").render(a=view)
        return Rendered(subject, text, html)

    def for_kind(self, address_kind: str, view: AlertView) -> Rendered:
        return self.sms(view) if address_kind == "phone" else self.email(view)


def fit_with_tail(body: str, tail: str, max_segments: int) -> str:
    """``body`` cut (with an ellipsis) so that ``body + tail`` fits in ``max_segments``."""
    whole = to_gsm7(body + tail)
    if measure(whole).segments <= max_segments:
        return whole
    body, tail = to_gsm7(body), to_gsm7(tail)
    low, high = 0, len(body)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(body[:middle].rstrip() + "..." + tail).segments <= max_segments:
            low = middle
        else:
            high = middle - 1
    return body[:low].rstrip() + "..." + tail


def finding_lines(
    findings: list[tuple[str, str, datetime, str]], zone: tzinfo
) -> tuple[FindingLine, ...]:
    """(rule, severity, since, detail) -> lines for templates, highest severity first."""
    order = {"critical": 0, "high": 1, "warning": 2, "info": 3}
    ordered = sorted(findings, key=lambda f: (order.get(f[1], 9), f[2], f[0]))
    return tuple(
        FindingLine(rule, rule_label(rule), severity, local_label(since, zone), detail)
        for rule, severity, since, detail in ordered
    )


def held_for(arrival: datetime | None, now: datetime) -> str | None:
    return None if arrival is None else human_duration(now - arrival)
