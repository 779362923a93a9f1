"""Alerts about custody-watch itself rather than a detention: a silent feed, a person who
could not be reached, a role with nobody on call, a detention that could not be evaluated.
They have no custody ref; their rule is their one finding. A monitor that goes silent must
never look like a quiet night.

The one owner of each: ``feed_stale``, ``nobody_on_call``, ``delivery_failed`` and
``evaluation_failed`` each have one function here that raises and clears it, and every
caller (the daemon's cycle, the dispatcher through ``alerts.delivery``, the pages found
empty by ``effects.carry_out``) goes through it. Like ``lifecycle``, they decide and return
the ``Transition``; the caller hands it to ``effects.carry_out``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from custody_watch.alerts import lifecycle
from custody_watch.alerts.deps import AlertDeps
from custody_watch.alerts.lifecycle import Subject
from custody_watch.alerts.transition import NOTHING, Transition
from custody_watch.domain import Finding, Severity
from custody_watch.store.schema import AlertRow
from custody_watch.times import format_local

EVALUATION_FAILED = "evaluation_failed"


@dataclass(frozen=True, slots=True)
class Problem:
    """A system alert to raise (or keep): ``key`` is its live key, ``rule`` its one finding.
    ``summary`` says what is wrong in a line; ``detail`` (the finding's text, default the
    summary) may say more, such as an error. ``with_inspector``: the duty inspector is paged
    at level 1 with operations (see ``AlertDeps.system_ladders``)."""

    key: str
    rule: str
    severity: Severity
    since: datetime
    summary: str
    detail: str | None = None
    with_inspector: bool = True


def raise_system(session: Session, problem: Problem, deps: AlertDeps, now: datetime) -> Transition:
    """Open or update the system alert ``problem.key``."""
    finding = Finding(
        custody_ref="",
        rule=problem.rule,
        severity=problem.severity,
        since=problem.since,
        detail=problem.summary if problem.detail is None else problem.detail,
    )
    subject = Subject(
        problem.key,
        summary=problem.summary,
        ladders=deps.system_ladders(with_inspector=problem.with_inspector),
    )
    return lifecycle.sync(session, subject, [finding], deps, now)


def clear_system(
    session: Session, key: str, deps: AlertDeps, now: datetime, cause: str
) -> Transition:
    return lifecycle.sync(session, Subject(key), [], deps, now, cause=cause)


def feed_stale(
    session: Session,
    source: str,
    silent_since: datetime,
    stale: bool,
    deps: AlertDeps,
    now: datetime,
) -> Transition:
    key = f"feed_stale:{source}"
    if not stale:
        if lifecycle.live_alert(session, key) is None:
            return NOTHING
        return clear_system(session, key, deps, now, f"source {source} is delivering again")
    summary = f"source {source} has delivered nothing since {format_local(silent_since, deps.zone)}"
    problem = Problem(key, "feed_stale", Severity.HIGH, silent_since, summary)
    return raise_system(session, problem, deps, now)


def nobody_on_call(
    session: Session,
    role: str,
    deps: AlertDeps,
    now: datetime,
    *,
    covered: bool,
    about: AlertRow | None = None,
) -> Transition:
    """A role an escalation needs is held by nobody now (``covered`` false): operations must
    fix the rota. Raised by the rota watch (every tick, ``about`` None) and by a page that
    found the role empty (``about``: its alert, named in the summary); cleared when someone
    holds the role again (the watch, or a page that reached its holder)."""
    key = f"nobody_on_call:{role}"
    live = lifecycle.live_alert(session, key)
    if covered:
        if live is None:
            return NOTHING
        return clear_system(session, key, deps, now, f"{role} is covered again")
    summary = f"nobody is on call as {role}"
    if about is not None:
        if about.subject == key or live is not None:
            return NOTHING  # never page about paging about the same empty role
        summary += f" (needed for alert {about.ack_code})"
    problem = Problem(key, "nobody_on_call", Severity.HIGH, now, summary)
    return raise_system(session, problem, deps, now)


@dataclass(frozen=True, slots=True)
class Unreachable:
    """``person_id`` could not be reached on any channel; ``summary`` says what failed.
    ``with_inspector``: operations are the ones who cannot be reached, so the duty inspector
    hears at once."""

    person_id: str
    summary: str
    with_inspector: bool = False


@dataclass(frozen=True, slots=True)
class Reached:
    """A page reached ``person_id`` by ``channel``."""

    person_id: str
    channel: str


def delivery_failed(
    session: Session, outcome: Unreachable | Reached, deps: AlertDeps, now: datetime
) -> Transition:
    """The one ``delivery_failed`` alert per person who could not be reached, raised when
    they are ``Unreachable`` and over once a page has ``Reached`` them again."""
    key = f"delivery_failed:{outcome.person_id}"
    if isinstance(outcome, Reached):
        cause = f"{outcome.person_id} reached by {outcome.channel}"
        return clear_system(session, key, deps, now, cause)
    problem = Problem(
        key,
        "delivery_failed",
        Severity.CRITICAL,
        now,
        outcome.summary,
        with_inspector=outcome.with_inspector,
    )
    return raise_system(session, problem, deps, now)


def evaluation_failed_key(custody_ref: str) -> str:
    return f"{EVALUATION_FAILED}:{custody_ref}"


@dataclass(frozen=True, slots=True)
class EvaluationGap:
    """A detention not evaluated in full: ``what`` failed (no personal data in it)."""

    custody_ref: str
    suite: str
    what: str


def evaluation_failed(
    session: Session,
    custody_ref: str,
    deps: AlertDeps,
    now: datetime,
    *,
    gap: EvaluationGap | None,
) -> Transition:
    """One system alert per detention not evaluated in full (``gap``): each is a child to
    check by hand. It clears (``gap`` None) when that detention is next evaluated in full;
    ``since`` stays when it was first raised (``lifecycle.sync`` keeps a finding's first
    ``since``)."""
    key = evaluation_failed_key(custody_ref)
    if gap is None:
        cause = f"custody record {custody_ref} is evaluated in full again"
        return clear_system(session, key, deps, now, cause)
    summary = (
        f"custody record {gap.custody_ref} ({gap.suite}) not fully evaluated, check it by hand"
    )
    problem = Problem(key, EVALUATION_FAILED, Severity.HIGH, now, summary, detail=gap.what)
    return raise_system(session, problem, deps, now)
