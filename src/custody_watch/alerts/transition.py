"""What an alert's lifecycle decided, as a value: decide, then act.

``lifecycle`` and ``escalate`` change the alert row and its findings (with their audit
entries) and return a ``Transition``; they send nothing and raise no other alert. The caller
hands it to ``effects.carry_out``, which pages the people it names (``paging``) and raises or
clears ``nobody_on_call`` for the roles it found empty or filled (``system``), in that order.
So the alert core can be read, and tested, without the outbox or the system alerts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from custody_watch.alerts.deps import Directory, Person
from custody_watch.escalation.assign import page_targets
from custody_watch.escalation.ladders import Level
from custody_watch.store.schema import AlertRow


@dataclass(frozen=True, slots=True)
class Page:
    """Page everyone a ladder level names now (or the person the alert is assigned to).
    ``index``: the level, 0-based; ``marker`` says what the page is ("REPEAT 2")."""

    level: Level
    index: int
    reason: str
    marker: str = ""
    # Filled in by ``addressed``: who gets it, and which of the level's roles nobody holds
    # now (``nobody_on_call``) or someone holds (a ``nobody_on_call`` about it is over).
    people: tuple[Person, ...] = ()
    empty_roles: tuple[str, ...] = ()
    filled_roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """Tell the (person, channel) pairs that heard of the alert that it was acknowledged or
    resolved (``purpose``), and why."""

    purpose: str
    told: tuple[tuple[str, str], ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Transition:
    """What happened to one alert (``alert``; None when there was none to change) and the
    pages and notice that follow from it, in the order they are to be made."""

    alert: AlertRow | None
    opened: bool = False
    raised: bool = False
    resolved: bool = False
    acknowledged: bool = False
    pages: tuple[Page, ...] = ()
    notice: Notice | None = None

    @property
    def empty_roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(role for page in self.pages for role in page.empty_roles))

    @property
    def filled_roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(role for page in self.pages for role in page.filled_roles))


NOTHING = Transition(None)


def addressed(page: Page, alert: AlertRow, directory: Directory, now: datetime) -> Page:
    """``page`` with its people and the state of its roles as of ``now``: each rota entry the
    level names (a role or a person), once, in the level's order."""
    empty: list[str] = []
    filled: list[str] = []
    people: list[Person] = []
    for entry in page_targets(alert.assigned_to, page.level.notify, directory.people):
        holders = directory.holders(entry, now, alert.suite, alert.force)
        (filled if holders else empty).append(entry)
        people.extend(p for p in holders if p not in people)
    return replace(page, people=tuple(people), empty_roles=tuple(empty), filled_roles=tuple(filled))
