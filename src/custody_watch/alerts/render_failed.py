"""``message_render_failed``: an alert to operations when messages could not be made from
their templates (a broken install, a template edited with a typo).

The messages themselves still went out, in the renderer's plain fallback wording, so no
child's alert is lost; this alert makes sure someone fixes the templates instead of the
failure living only in a log file. It clears when messages render again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from custody_watch.alerts import lifecycle
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.effects import carry_out
from custody_watch.alerts.system import Problem, clear_system, raise_system
from custody_watch.domain import Severity
from custody_watch.messages.render import RenderOutcome, render_check

RULE = "message_render_failed"
KEY = RULE  # one alert for the whole installation: the templates are shared by every alert
# Enough of the error to act on (the template and the reason), short enough for an SMS.
MAX_ERROR = 160


def report_render_outcome(
    sessions: sessionmaker[Session], deps: AlertDeps, now: datetime
) -> RenderOutcome:
    """Raise (or keep) the alert when any message fell back since the last call; clear it
    when messages rendered, none fell back and every message template renders again.
    Returns what the renderer saw."""
    renderer = deps.renderer
    outcome = renderer.take_outcome()
    if outcome.failures:
        count = len(outcome.failures)
        first = outcome.failures[0]
        error = first.error if len(first.error) <= MAX_ERROR else first.error[:MAX_ERROR] + "..."
        summary = (
            f"{count} message{'s' if count != 1 else ''} not made from templates in "
            f"{renderer.directory} ({first.kind} {first.purpose}: {error}); sent in plain "
            "fallback wording. Run custody-watch check-config."
        )
        with sessions.begin() as session:
            live = lifecycle.live_alert(session, KEY)
            # The alert's own messages fall back too, and are reported on the next call:
            # keeping `since` fixed makes that a refresh of the same finding, not a new one.
            since = live.opened_at if live is not None else now
            # The inspector's own alerts still arrive (in fallback wording); fixing the
            # templates is operations' job.
            problem = Problem(KEY, RULE, Severity.HIGH, since, summary, with_inspector=False)
            carry_out(session, raise_system(session, problem, deps, now), deps, now)
    elif outcome.rendered:
        with sessions.begin() as session:
            # Only a full check may clear it: with just the "resolved" template broken, the
            # alert's own notices render and the clearing notice would not, and the alert
            # would be raised and cleared again every other tick.
            if lifecycle.live_alert(session, KEY) is not None and not render_check(
                renderer.directory
            ):
                cause = "messages are made from templates again"
                carry_out(session, clear_system(session, KEY, deps, now, cause), deps, now)
    return outcome
