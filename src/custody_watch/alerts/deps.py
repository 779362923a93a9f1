"""What the alert side needs, in one object built once by the daemon (``AlertDeps``): the
ladders, who is on call and how to reach them, the clock's zone, the renderer that makes
messages, and the settings pages are made with. Passed as ``deps`` (``ctx`` is the daemon's
``Context``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from custody_watch.domain import Severity
from custody_watch.escalation.ladders import Ladder, Ladders, Level
from custody_watch.escalation.rota import Rota
from custody_watch.messages.render import Renderer
from custody_watch.notify.base import AddressKind, address_for
from custody_watch.rules.policy import Policy
from custody_watch.times import LONDON


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    phone: str | None = None
    email: str | None = None

    def address(self, kind: AddressKind) -> str | None:
        return address_for(kind, phone=self.phone, email=self.email, name=self.id)


@dataclass(frozen=True, slots=True)
class Directory:
    """People, the rota, and which kind of address each channel needs."""

    people: dict[str, Person]
    rota: Rota
    channel_kinds: dict[str, AddressKind]

    def holders(
        self, role_or_person: str, at: datetime, suite: str | None, force: str | None
    ) -> list[Person]:
        """Who a level's ``notify`` entry means now: a role's holders, or a named person."""
        if role_or_person in self.rota.roles():
            ids = self.rota.on_call(role_or_person, at, suite=suite, force=force)
        elif role_or_person in self.people:
            ids = [role_or_person]
        else:
            ids = []
        return [self.people[i] for i in ids if i in self.people]


OPERATIONS = "operations"
DUTY_INSPECTOR = "duty_inspector"


@dataclass(frozen=True, slots=True)
class AlertDeps:
    ladders: Ladders
    directory: Directory
    # Makes each message from its templates (and remembers what fell back, for
    # ``render_failed``); one per daemon, shared by paging and the dispatcher.
    renderer: Renderer = field(default_factory=Renderer)
    zone: tzinfo = LONDON
    public_base_url: str = ""
    # Retries per message before it counts as failed on that channel.
    max_attempts: int = 5
    # Makes a signed ack link for (alert id, its ack round, person id, now); None when links
    # are off. The round binds the link to the escalation round it is sent in.
    ack_link: Callable[[int, int, str, datetime], str] | None = field(default=None)
    # The rules' policy: a message is made again when it is sent, its findings' details and
    # limits worked out as of that moment. None: the details stored when they were raised.
    rules: Policy | None = None
    # Pages to one person on one channel due within this of each other go as one message
    # (the daemon sets [notify] bundle_window; 0: each alone).
    bundle_window: timedelta = timedelta(0)

    def system_ladders(self, *, with_inspector: bool = True) -> Ladders:
        """System alerts (feed_stale, nobody on call) go to operations and the duty
        inspector at level 1, then climb the ordinary ladder. ``delivery_failed`` leaves the
        inspector out of level 1: it is about someone who cannot be reached, and the
        original alert's own ladder moves on to the next level at once. Without the
        inspector, level 1 uses every channel operations can be reached by, not just the
        ladder's: the channel that failed may be the one the ladder names."""
        out: Ladders = {}
        for severity, ladder in self.ladders.items():
            first = ladder.levels[0]
            lead = (OPERATIONS, DUTY_INSPECTOR, *first.notify) if with_inspector else (OPERATIONS,)
            notify = tuple(dict.fromkeys(lead))
            channels = first.channels if with_inspector else self.every_channel(first.channels)
            head = Level(notify=notify, channels=channels, wait=first.wait)
            out[severity] = Ladder(
                levels=(head, *ladder.levels[1:]),
                repeat_every=ladder.repeat_every,
                ack_timeout=ladder.ack_timeout,
            )
        return out

    def every_channel(self, first: tuple[str, ...]) -> tuple[str, ...]:
        """``first``, then every other configured channel but the console (which reaches
        nobody when there is a real one)."""
        real = [n for n, kind in self.directory.channel_kinds.items() if kind != "any"]
        others = real or list(self.directory.channel_kinds)
        return tuple(dict.fromkeys((*first, *others)))

    def ladder_for(self, severity: Severity) -> Ladder | None:
        return self.ladders.get(severity)
