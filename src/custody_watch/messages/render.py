"""Rendering alert messages for each channel kind from Jinja2 templates."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from custody_watch.domain.states import AlertState
from custody_watch.messages.gsm import measure, to_gsm7
from custody_watch.messages.labels import rule_label
from custody_watch.resources import templates_dir
from custody_watch.times import format_duration, format_local

log = logging.getLogger(__name__)
# Two GSM-7 segments (306 characters): long enough to say what is wrong, short enough that
# it arrives as one message on every handset.
SMS_SEGMENTS = 2
PURPOSES = ("notify", "acknowledged", "resolved")
DIGEST_TEMPLATES = (
    "digest/digest.subject.txt",
    "digest/digest.txt",
    "digest/digest.html",
    "digest/digest.short.txt",
)
WEB_FILES = ("web/base.html", "web/static/app.css", "web/static/app.js")
# Every template a message can need, by purpose: check-config renders each of them.
MESSAGE_TEMPLATES = tuple(
    name
    for purpose in (*PURPOSES, "bundle")
    for name in (
        f"sms/{purpose}.txt",
        f"email/{purpose}.subject.txt",
        f"email/{purpose}.txt",
        f"email/{purpose}.html",
    )
)


@dataclass(frozen=True, slots=True)
class FindingLine:
    rule: str
    label: str
    severity: str
    since: str
    detail: str
    # When the rule reaches its top severity, local ("21:30 GMT"); "" when never.
    limit: str = ""
    # The finding is at its top severity: its "since" is the limit (a mail says it once).
    at_limit: bool = False


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
    # "REPEAT 2", "ESCALATED TO LEVEL 2": what this page is in the ladder ("" for the first).
    marker: str = ""
    # When the message was made (local): the held time and the details are as of this.
    as_of: str = ""


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


@dataclass(frozen=True, slots=True)
class RenderFailure:
    """A message that could not be made from its template, and was sent in the fallback
    wording instead."""

    alert_id: int
    purpose: str
    kind: str
    error: str


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    """What the renderer saw since it was last asked: operations act on the failures, and
    a later success shows that the templates work again."""

    failures: tuple[RenderFailure, ...]
    rendered: int


class Renderer:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or templates_dir()
        self._env = template_environment(self.directory)
        # The scheduler's thread and the web side's (acknowledgements) render at once.
        self._lock = threading.Lock()
        self._failures: list[RenderFailure] = []
        self._rendered = 0

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
        """The message for one recipient. A template that is missing or broken must not
        stop a child's alert from going out: the plain fallback wording is sent instead and
        the failure is kept for ``take_outcome`` (``alerts.render_failed`` raises it to
        operations after every cycle)."""
        kind = "sms" if address_kind == "phone" else "email"
        try:
            rendered = self.sms(view) if kind == "sms" else self.email(view)
        except Exception as exc:  # any template error, an unreadable file, a bad filter
            error = f"{type(exc).__name__}: {exc}"
            log.error(
                "alert %s: %s %s message not rendered from %s (%s); sent in fallback wording",
                view.alert_id,
                view.purpose,
                kind,
                self.directory,
                error,
            )
            with self._lock:
                self._failures.append(RenderFailure(view.alert_id, view.purpose, kind, error))
            return fallback_sms(view) if kind == "sms" else fallback_email(view)
        with self._lock:
            self._rendered += 1
        return rendered

    def bundle(self, address_kind: str, views: Sequence[AlertView]) -> Rendered:
        """One message for several pages to one person on one channel (``[notify]
        bundle_window``), each alert with its code, the most urgent first. A template that
        fails falls back as ``for_kind`` does: the bundle still goes out."""
        kind = "sms" if address_kind == "phone" else "email"
        ordered = sorted(views, key=_urgency)
        try:
            rendered = self._bundle_sms(ordered) if kind == "sms" else self._bundle_email(ordered)
        except Exception as exc:  # as for_kind: any template error
            error = f"{type(exc).__name__}: {exc}"
            log.error("bundle of %d alerts: %s message not rendered (%s)", len(views), kind, error)
            with self._lock:
                for view in views:
                    self._failures.append(RenderFailure(view.alert_id, "bundle", kind, error))
            return fallback_bundle(ordered, kind)
        with self._lock:
            self._rendered += 1
        return rendered

    def _bundle_sms(self, views: Sequence[AlertView]) -> Rendered:
        template = self._env.get_template("sms/bundle.txt")
        items = [" ".join(template.render(a=view).split()) for view in views]
        return Rendered("", fit_items(f"custody-watch: {len(views)} alerts.", items))

    def _bundle_email(self, views: Sequence[AlertView]) -> Rendered:
        values = {"alerts": views, "severity": views[0].severity}
        subject = " ".join(
            self._env.get_template("email/bundle.subject.txt").render(**values).split()
        )
        text = self._env.get_template("email/bundle.txt").render(**values)
        html = self._env.get_template("email/bundle.html").render(**values)
        return Rendered(subject, text, html)

    def take_outcome(self) -> RenderOutcome:
        """Failures and successful renders since the last call (and forget them)."""
        with self._lock:
            outcome = RenderOutcome(tuple(self._failures), self._rendered)
            self._failures.clear()
            self._rendered = 0
        return outcome


def fallback_lines(view: AlertView) -> list[str]:
    """The fallback wording: built in code, from the same view as the templates (so with no
    name, date of birth or address), when the templates cannot be used."""
    what = {
        "notify": "ALERT",
        "acknowledged": "Acknowledged",
        "resolved": "Resolved",
    }.get(view.purpose, view.purpose)
    head = f"custody-watch {what} {view.severity} {view.ack_code}"
    where = " ".join(part for part in (view.custody_ref, view.suite) if part)
    lines = [f"{head}: {where}" if where else head]
    if view.summary:
        lines.append(view.summary)
    lines.extend(f"{line.label} ({line.severity}) since {line.since}" for line in view.findings)
    if view.acknowledged_by:
        lines.append(f"acknowledged by {view.acknowledged_by}")
    if view.ack_url:
        lines.append(f"Acknowledge: {view.ack_url}")
    return lines


def fallback_sms(view: AlertView) -> Rendered:
    tail = f" Reply ACK {view.ack_code}" if view.purpose == "notify" else ""
    return Rendered("", fit_with_tail(". ".join(fallback_lines(view)), tail, SMS_SEGMENTS))


def fallback_email(view: AlertView) -> Rendered:
    lines = fallback_lines(view)
    text = "\n".join(lines)
    if view.purpose == "notify":
        text += f"\n\nReply ACK {view.ack_code} to acknowledge."
    return Rendered(lines[0], text + "\n")


_SEVERITY_ORDER = {"critical": 0, "high": 1, "warning": 2, "info": 3}
BUNDLE_TAIL = " Reply ACK <code> for one, or ACK ALL"


def _urgency(view: AlertView) -> tuple[int, int]:
    return (_SEVERITY_ORDER.get(view.severity, 9), view.alert_id)


def fit_items(head: str, items: Sequence[str]) -> str:
    """An SMS listing as many items (each with its ACK code) as fit in ``SMS_SEGMENTS``,
    whole, the rest counted ("+2 more on the board": the person may have no email); the way
    to acknowledge all is kept. The first item is always there: when even it does not fit
    whole, its words are cut (never its "- ACK code"), so a bundle never says nothing."""
    for shown in range(len(items), 0, -1):
        text = _bundle_text(head, items[:shown], len(items) - shown)
        if measure(text).segments <= SMS_SEGMENTS:
            return text
    if not items:
        return to_gsm7(head + BUNDLE_TAIL)
    body, ack, _ = items[0].rpartition(" - ACK ")
    ending = f" - ACK {_}" if ack else ""
    body = body if ack else items[0]
    low, high = 0, len(body)  # the longest cut of the first item's words that fits
    while low < high:
        middle = (low + high + 1) // 2
        text = _bundle_text(head, [body[:middle].rstrip() + "..." + ending], len(items) - 1)
        if measure(text).segments <= SMS_SEGMENTS:
            low = middle
        else:
            high = middle - 1
    return _bundle_text(head, [body[:low].rstrip() + "..." + ending], len(items) - 1)


def _bundle_text(head: str, items: Sequence[str], rest: int) -> str:
    more = f" +{rest} more on the board." if rest else ""
    return to_gsm7(" ".join([head, *items]) + more + BUNDLE_TAIL)


def fallback_bundle(views: Sequence[AlertView], kind: str) -> Rendered:
    """The bundle in code, from the same views (no name, date of birth or address)."""
    items = [
        f"{v.severity.upper()} {' '.join(p for p in (v.suite, v.custody_ref) if p) or v.summary}"
        f" ACK {v.ack_code}"
        for v in views
    ]
    if kind == "sms":
        return Rendered("", fit_items(f"custody-watch: {len(views)} alerts.", items))
    lines = [f"custody-watch: {len(views)} alerts", *items]
    text = "\n".join(lines) + "\n\nReply ACK <code> for one alert, or ACK ALL.\n"
    return Rendered(f"[{views[0].severity.upper()}] {len(views)} custody-watch alerts", text)


def render_check(directory: Path | None = None) -> list[str]:
    """Problems that would stop any message from being made: each message template is
    rendered with a sample view, and every other template (digest, pages) is compiled.
    Empty when all is well. Used by ``check-config``."""
    renderer = Renderer(directory)
    problems: list[str] = []
    for purpose in PURPOSES:
        view = sample_view(purpose)
        for kind, render in (("sms", renderer.sms), ("email", renderer.email)):
            try:
                render(view)
            except Exception as exc:  # the same breadth as for_kind's fallback
                problems.append(f"{kind} {purpose} message: {type(exc).__name__}: {exc}")
    pair = [sample_view("notify"), replace(sample_view("notify"), alert_id=2, ack_code="4822")]
    for kind, bundle in (("sms", renderer._bundle_sms), ("email", renderer._bundle_email)):
        try:
            bundle(pair)
        except Exception as exc:  # as above
            problems.append(f"{kind} bundle message: {type(exc).__name__}: {exc}")
    env = template_environment(renderer.directory)
    for name in DIGEST_TEMPLATES:
        try:
            env.get_template(name)
        except Exception as exc:  # the same breadth as a render: any of them stops a digest
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    # Pages use filters that only the web app defines, so they are not compiled here; that
    # they are there at all is what a broken install gets wrong.
    for name in WEB_FILES:
        if not (renderer.directory / name).is_file():
            problems.append(f"{name}: missing")
    return [f"templates in {renderer.directory}: {problem}" for problem in problems]


def sample_view(purpose: str) -> AlertView:
    """An alert with every field filled, so that a template that uses any of them renders."""
    return AlertView(
        alert_id=1,
        purpose=purpose,
        severity="critical",
        state=AlertState.ACKNOWLEDGED if purpose == "acknowledged" else AlertState.OPEN,
        ack_code="4821",
        custody_ref="SAMPLE-1",
        suite="SAMPLE-SUITE",
        age=15,
        held_for="9h 10m",
        opened_at="10 Jun 23:45",
        findings=(
            FindingLine(
                "pace_limit",
                rule_label("pace_limit"),
                "critical",
                "Thu 11 Jun 02:45 BST",
                "PACE limit passed 30m ago (Thu 11 Jun 02:45 BST)",
                "02:45 BST",
            ),
        ),
        summary="",
        acknowledged_by="insp-sample" if purpose != "notify" else None,
        ack_url="https://custody-watch.example/ack/sample",
        level=1,
        reason="opened",
        marker="REPEAT 2" if purpose == "notify" else "",
        as_of="Thu 11 Jun 03:15 BST",
    )


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


FindingInput = tuple[str, str, datetime, str, datetime | None]
_ORDER = {"critical": 0, "high": 1, "warning": 2, "info": 3}
_NO_LIMIT = datetime.max.replace(tzinfo=UTC)


def lead_order(finding: FindingInput) -> tuple[int, datetime, datetime, str]:
    """The finding to act on first: the most severe, then the one nearest its limit (a limit
    already passed is nearest of all), then the oldest."""
    rule, severity, since, _detail, limit = finding
    return (_ORDER.get(severity, 9), limit or _NO_LIMIT, since, rule)


def finding_lines(
    findings: list[FindingInput], zone: tzinfo, now: datetime | None = None
) -> tuple[FindingLine, ...]:
    """(rule, severity, since, detail, limit) -> lines for templates, the lead first."""
    return tuple(
        FindingLine(
            rule,
            rule_label(rule),
            severity,
            format_local(since, zone),
            detail,
            _limit_label(limit, zone, now),
            limit is not None and limit <= since,
        )
        for rule, severity, since, detail, limit in sorted(findings, key=lead_order)
    )


def _limit_label(limit: datetime | None, zone: tzinfo, now: datetime | None) -> str:
    """The limit's local time, with the date only when it is not today's (an SMS is short)."""
    if limit is None:
        return ""
    today = now is not None and limit.astimezone(zone).date() == now.astimezone(zone).date()
    return format_local(limit, zone, with_date=not today)


def held_for(arrival: datetime | None, now: datetime) -> str | None:
    return None if arrival is None else format_duration(now - arrival)
