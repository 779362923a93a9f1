"""Sending claimed outbox rows and recording what happened.

For each claimed row, in its own transaction:

1. Re-read the alert: a page for an alert acknowledged or resolved since it was queued is
   cancelled (an acknowledgement wins). ``delivery_failed`` is never cancelled unheard.
2. Re-check the claim (its token, and that its lease has not run out) and renew the lease;
   a row lost to another dispatcher is left to it.
3. Make a page's text again as of now (held time, details, limits: the alert side's
   ``page_as_of``), keep it on the row, and send it through the row's channel.
4. Success: ``sent``, with the provider's id (Twilio's MessageSid) for status callbacks,
   recorded by claim token. Pages that ran out of tries on this channel during an outage
   are queued again (their alerts still open).
5. Transient failure with tries left: back to ``pending``, due after a backoff.
6. Permanent failure, or no tries left: ``failure.record_failure``; its fallback tries the
   person's other channels and reports ``delivery_failed`` when nobody was reached.

What a send means for the alerts is the alert side's to decide: the dispatcher reports it
through ``AlertSide`` (``dispatch.alert_side``), which the daemon wires up.

While a batch is being sent the heartbeat (``renew``) extends the leases of the rows still
held, so a slow provider never lets another daemon take a row that is being sent."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.clock import Clock
from custody_watch.dispatch import fallback
from custody_watch.dispatch.alert_side import AlertSide
from custody_watch.dispatch.backoff import retry_delay
from custody_watch.dispatch.channel_health import ChannelHealth
from custody_watch.dispatch.claim import (
    LEASE,
    Claim,
    claim_tokens,
    confirm,
    lapsed_out_of_tries,
    release_own,
    renew,
    unclaim,
)
from custody_watch.dispatch.failure import custody_ref_of, record_failure
from custody_watch.domain.states import AlertState, OutboxState
from custody_watch.notify.base import NOT_DELIVERED, Channel, DeliveryError, Message, Receipt
from custody_watch.store import audit, outbox
from custody_watch.store.schema import AlertRow, OutboxRow

log = logging.getLogger(__name__)

# With no other traffic on a channel that gave up on pages, one of them is tried again this
# often: the first success queues the rest again.
PROBE_EVERY = timedelta(minutes=2)
# Pages older than this are history, not something to send when a provider comes back.
RESEND_WITHIN = timedelta(hours=24)


@dataclass
class Dispatcher:
    sessions: sessionmaker[Session]
    channels: Mapping[str, Channel]
    alerts: AlertSide
    worker: str
    status_callback_base: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    # Leases run from the clock at the moment of each claim and each send, never from the
    # instant a tick started (a tick may outlive a lease). None: ``now`` as given (tests).
    clock: Clock | None = None
    lease: timedelta = LEASE
    batch: int = 10
    probe_every: timedelta = PROBE_EVERY
    health: ChannelHealth = field(default_factory=ChannelHealth)
    # Real seconds one run may spend sending before it hands the rest back: the tick that
    # runs it also escalates, and a slow provider must not make the next step late (one
    # survivor under a 2.5 s Twilio made a 120 s step take 156 s). None: no limit.
    time_budget: float | None = None
    monotonic: Callable[[], float] = time.monotonic
    _held: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    _held_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _probed_at: datetime | None = field(default=None, init=False, repr=False)

    def _at(self, now: datetime) -> datetime:
        return self.clock.now() if self.clock is not None else now

    def run(self, now: datetime, batch: int | None = None, max_batches: int = 50) -> int:
        """Send everything due now; returns how many rows were handled."""
        handled = 0
        started = self.monotonic()
        self.give_up_lapsed(now)
        self.probe(now)
        for _ in range(max_batches):
            if self._over_budget(started):
                break
            with self.sessions.begin() as session:
                claims = claim_tokens(
                    session,
                    self.worker,
                    self._at(now),
                    batch or self.batch,
                    self.lease,
                    self.alerts.deps.bundle_window,
                )
            if not claims:
                break
            self._hold(claims)
            untried = list(claims)
            try:
                for claim in claims:
                    if self._over_budget(started):
                        self._hand_back(untried)
                        break
                    untried.remove(claim)
                    self._send_claimed(claim, now)
                    self._release([claim])
                    handled += 1
            except Exception:
                # The store failed under us (a lock timeout, say): what was not tried goes
                # back at once rather than after the lease, if the store lets it.
                try:
                    self._hand_back(untried)
                except Exception:
                    log.exception("could not hand back %d claimed rows", len(untried))
                raise
            finally:
                self._release(claims)
        return handled

    def _over_budget(self, started: float) -> bool:
        return self.time_budget is not None and self.monotonic() - started > self.time_budget

    def _hand_back(self, claims: Sequence[Claim]) -> None:
        """Claimed but not tried this run: due again now for any daemon, the try unused."""
        with self.sessions.begin() as session:
            unclaim(session, [c.token for c in claims])

    # --- claims held by this daemon --------------------------------------------------------

    def _hold(self, claims: Iterable[Claim]) -> None:
        with self._held_lock:
            self._held.update((c.row_id, c.token) for c in claims)

    def _release(self, claims: Iterable[Claim]) -> None:
        with self._held_lock:
            for claim in claims:
                self._held.pop(claim.row_id, None)

    def held(self) -> int:
        with self._held_lock:
            return len(self._held)

    def renew(self, now: datetime) -> int:
        """The heartbeat: extend the lease of every row this daemon holds (claimed and not
        yet recorded). Called from its own job, so a send that takes long keeps its row."""
        with self._held_lock:
            tokens = list(self._held.values())
        if not tokens:
            return 0
        with self.sessions.begin() as session:
            return renew(session, tokens, self._at(now), self.lease)

    def release_own(self, now: datetime) -> int:
        """On start: rows this worker id held before a restart are due again at once."""
        at = self._at(now)
        with self.sessions.begin() as session:
            ids = release_own(session, self.worker, at)
            if ids:
                audit.record(
                    session,
                    at,
                    "claims_released",
                    actor=self.worker,
                    detail=f"{len(ids)} outbox rows held before a restart: due again now",
                )
        return len(ids)

    # --- sending -----------------------------------------------------------------------

    def send_one(self, row_id: int, now: datetime) -> None:
        """Send one row this worker has claimed (by whatever claim it holds now)."""
        with self.sessions() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.claimed_by != self.worker or row.claim_token is None:
                return  # another dispatcher took it over after our lease ran out
            claim = Claim(row_id, row.claim_token)
        self._hold([claim])
        try:
            self._send_claimed(claim, now)
        finally:
            self._release([claim])

    def _send_claimed(self, claim: Claim, now: datetime) -> None:
        if claim.members:
            self._send_bundle(claim, now)
            return
        at = self._at(now)
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, claim.row_id)
            if row is None or row.state != OutboxState.SENDING or row.claim_token != claim.token:
                return  # another dispatcher took it over after our lease ran out
            if self._superseded(session, row, at):
                return
            if not confirm(session, claim, at, self.lease):
                log.warning(
                    "outbox %s: the claim lapsed before sending; left to whoever claims it",
                    claim.row_id,
                )
                return
            self._refresh(session, row, at)
            channel_name = row.channel
            message = Message(
                to=row.address,
                text=row.body_text,
                subject=row.subject,
                html=row.body_html,
                status_callback=self._callback(row),
                reference=str(row.id),
            )
        # The network call happens outside any transaction: no row lock is held meanwhile,
        # and the heartbeat keeps the lease while it lasts.
        self._deliver(channel_name, message, [claim], now)

    def _send_bundle(self, claim: Claim, now: datetime) -> None:
        """Pages to one person on one channel claimed together (``claim.members``):
        1. keep those still wanted (``_still_wanted``);
        2. make them one message as of now, kept on every row (``_bundle_words``);
        3. send it; each row then records the outcome as if sent alone (sent, retried,
           failed and its fallback), so acknowledgement, status and audit work per alert."""
        at = self._at(now)
        with self.sessions.begin() as session:
            live = self._still_wanted(session, claim, at)
            if not live:
                return
            subject, text, html = self._bundle_words(session, live, at)
            for row in live:  # each row keeps what went
                row.body_text, row.subject, row.body_html = text, subject, html
            lead = live[0]
            channel_name = lead.channel
            claims = [Claim(row.id, claim.token) for row in live]
            message = Message(
                to=lead.address,
                text=text,
                subject=subject,
                html=html,
                status_callback=self._callback(lead),
                reference=str(lead.id),
            )
        self._deliver(channel_name, message, claims, now)

    def _still_wanted(self, session: Session, claim: Claim, at: datetime) -> list[OutboxRow]:
        """The bundle's rows still held by ``claim``, still wanted (``_superseded``) and
        confirmed for sending now, in claim order."""
        rows = [session.get(OutboxRow, row_id) for row_id in (claim.row_id, *claim.members)]
        return [
            row
            for row in rows
            if row is not None
            and row.state == OutboxState.SENDING
            and row.claim_token == claim.token
            and not self._superseded(session, row, at)
            and confirm(session, Claim(row.id, claim.token), at, self.lease)
        ]

    def _bundle_words(
        self, session: Session, live: Sequence[OutboxRow], at: datetime
    ) -> tuple[str, str, str | None]:
        """(subject, text, html) for a bundle. One entry an alert: an escalation and a repeat
        of one alert both waiting (an outage) are said once, as the later page says it."""
        latest = {row.alert_id: row for row in live}
        if len(latest) == 1:
            last = live[-1]
            self._refresh(session, last, at)
            return last.subject, last.body_text, last.body_html
        made = self.alerts.bundle_as_of(session, list(latest.values()), at)
        if made is None:  # nothing to make them from: the first page as it was decided
            return live[0].subject, live[0].body_text, live[0].body_html
        return made.subject, made.text, made.html

    def _deliver(
        self, channel_name: str, message: Message, claims: Sequence[Claim], now: datetime
    ) -> None:
        """The provider call for one message (a page or a bundle), outside any transaction,
        and its outcome recorded on every row it carries, each by its own claim."""
        channel = self.channels.get(channel_name)
        try:
            if channel is None:
                raise DeliveryError(
                    f"no channel named {channel_name!r} is configured", permanent=True
                )
            receipt = channel.send(message)
        except DeliveryError as exc:
            self.health.failed(channel_name, self._at(now), str(exc))
            for claim in claims:
                self._failed(claim, exc, now)
            return
        self.health.ok(channel_name, self._at(now))
        for position, claim in enumerate(claims):
            try:
                self._sent(claim, receipt, now, carried=position > 0)
            except Exception:
                # Whatever stopped the full record (a bug, a constraint), the message went
                # out: record the bare fact so it is not sent again when the lease runs out.
                log.exception(
                    "outbox %s: recording the send failed; recording it bare", claim.row_id
                )
                self._sent_bare(claim, receipt, now)

    def _refresh(self, session: Session, row: OutboxRow, at: datetime) -> None:
        """A page says what is true when it is sent (``page_as_of``). Anything that stops
        that (the store, a bug) sends the text written when the page was decided: a page a
        little stale beats no page."""
        try:
            with session.begin_nested():
                self.alerts.page_as_of(session, row, at)
        except Exception:
            log.exception("outbox %s: not made again at send time; sent as queued", row.id)

    def _sent(self, claim: Claim, receipt: Receipt, now: datetime, carried: bool = False) -> None:
        """Record the send on ``claim``'s row. ``carried``: a page after a bundle's first,
        which the message's status callback does not name."""
        at = self._at(now)
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, claim.row_id, with_for_update=True)
            assert row is not None
            if row.claim_token != claim.token:
                self._lost_while_sending(session, row, at, "sent")
                return
            row.provider_id = receipt.provider_id
            row.sent_at = at
            row.lease_until = None
            row.exhausted = False
            if row.state != OutboxState.SENDING:
                # A status callback (failed, undelivered) beat us here: it has the last word.
                return
            told = self._told_not_delivered(session, row) if carried else None
            if told is not None:
                # The bundle's callback (on its first page) beat us to this one: the
                # message failed, so this page failed with it, and falls back as its own.
                row.provider_status, row.error_code, row.last_error = told
                record_failure(session, row, f": {row.last_error}", at, self.alerts)
                return
            row.state = OutboxState.SENT
            row.provider_status = receipt.status
            audit.record(
                session,
                at,
                "sent",
                detail=f"{row.purpose} to {row.person_id} by {row.channel} (try {row.attempts})",
                alert_id=row.alert_id,
                custody_ref=custody_ref_of(session, row),
            )
            self._resend_after_outage(session, row.channel, at)
            fallback.after_success(session, row, self.alerts, at)

    @staticmethod
    def _told_not_delivered(
        session: Session, row: OutboxRow
    ) -> tuple[str, str | None, str | None] | None:
        """(status, error code, error) of a page sent in the same message as ``row`` that a
        status callback already marked not delivered, if any."""
        if row.provider_id is None:
            return None
        told = session.execute(
            select(OutboxRow.provider_status, OutboxRow.error_code, OutboxRow.last_error)
            .where(OutboxRow.provider_id == row.provider_id, OutboxRow.id != row.id)
            .where(OutboxRow.provider_status.in_(NOT_DELIVERED))
            .order_by(OutboxRow.id)
            .limit(1)
        ).first()
        if told is None or told[0] is None:  # the status is one of NOT_DELIVERED here
            return None
        return told[0], told[1], told[2]

    def _sent_bare(self, claim: Claim, receipt: Receipt, now: datetime) -> None:
        try:
            with self.sessions.begin() as session:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == claim.row_id, OutboxRow.claim_token == claim.token)
                    .where(OutboxRow.state == OutboxState.SENDING)
                    .values(
                        state=OutboxState.SENT,
                        sent_at=self._at(now),
                        lease_until=None,
                        provider_id=receipt.provider_id,
                        provider_status=receipt.status,
                    )
                    .execution_options(synchronize_session=False)
                )
        except Exception:
            # Left ``sending``: the lease lapses and the row is claimed again, at most until
            # its tries run out (``give_up_lapsed``), never forever.
            log.exception("outbox %s: could not record the send at all", claim.row_id)

    def _lost_while_sending(
        self, session: Session, row: OutboxRow, at: datetime, what: str
    ) -> None:
        """Our lease ran out during the provider call and another dispatcher holds the row
        now: its result is not ours to overwrite. Said aloud, since the row may go twice."""
        log.warning(
            "outbox %s: %s after the claim was taken over by %s", row.id, what, row.claimed_by
        )
        audit.record(
            session,
            at,
            "claim_lost_while_sending",
            actor=self.worker,
            detail=(
                f"{row.purpose} to {row.person_id} by {row.channel}: {what} after the claim "
                f"passed to {row.claimed_by}"
            ),
            alert_id=row.alert_id,
            custody_ref=custody_ref_of(session, row),
        )

    def give_up_lapsed(self, now: datetime) -> int:
        """Rows claimed ``max_attempts`` times whose outcome was never recorded: failed, not
        sent again (their holders may well have sent them), and handled as any failure."""
        at = self._at(now)
        with self.sessions.begin() as session:
            rows = lapsed_out_of_tries(session, at)
            for row in rows:
                row.lease_until = None
                row.claim_token = None
                row.last_error = (
                    f"claimed {row.attempts} times, last by {row.claimed_by}, and no outcome was "
                    "ever recorded: not sent again (it may have gone out)"
                )
                record_failure(session, row, f": {row.last_error}", at, self.alerts)
            return len(rows)

    # --- after an outage -----------------------------------------------------------------

    def _resend_after_outage(self, session: Session, channel: str, at: datetime) -> None:
        """The channel answers again: pages that ran out of tries on it while their alert is
        still open go again now, with their tries back. A page whose person was reached by
        another channel in the same step was heard: it is only marked as done with."""
        for row in session.scalars(_exhausted(channel, at).order_by(OutboxRow.id)).all():
            if row.purpose == outbox.PAGE and fallback.reached_in_step(session, row):
                row.exhausted = False
                continue
            row.state = OutboxState.PENDING
            row.due_at = at
            row.attempts = 0
            row.claim_token = None
            audit.record(
                session,
                at,
                "resend_after_outage",
                detail=f"{row.purpose} to {row.person_id}: {channel} answers again",
                alert_id=row.alert_id,
                custody_ref=custody_ref_of(session, row),
            )

    def probe(self, now: datetime) -> int:
        """A channel that gave up on live pages and carries nothing else is tried again with
        one of them every ``probe_every``; its success queues the rest (above)."""
        at = self._at(now)
        if self._probed_at is not None and at - self._probed_at < self.probe_every:
            return 0
        self._probed_at = at
        probed = 0
        for channel in self.channels:
            with self.sessions.begin() as session:
                busy = session.scalar(
                    select(func.count(OutboxRow.id)).where(
                        OutboxRow.channel == channel,
                        OutboxRow.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
                    )
                )
                last_try = session.scalar(
                    select(func.max(OutboxRow.tried_at)).where(OutboxRow.channel == channel)
                )
                if busy or (last_try is not None and at - last_try < self.probe_every):
                    continue
                row = session.scalars(
                    _exhausted(channel, at).order_by(OutboxRow.id).limit(1)
                ).first()
                if row is None:
                    continue
                # One try: a probe that fails goes straight back to failed, and the fallback
                # that ran when the page first gave up is not run again (``exhausted``).
                result = session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row.id, OutboxRow.state == OutboxState.FAILED)
                    .values(
                        state=OutboxState.PENDING,
                        due_at=at,
                        attempts=max(row.max_attempts - 1, 0),
                        claim_token=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    probed += 1
                    audit.record(
                        session,
                        at,
                        "channel_probe",
                        detail=f"{channel}: a failed {row.purpose} to {row.person_id} tried again",
                        alert_id=row.alert_id,
                        custody_ref=custody_ref_of(session, row),
                    )
        return probed

    def _superseded(self, session: Session, row: OutboxRow, now: datetime) -> bool:
        if row.purpose != outbox.PAGE or row.alert_id is None:
            return False
        alert = session.get(AlertRow, row.alert_id)
        if alert is not None and alert.state == AlertState.OPEN:
            return False
        if alert is not None and alert.subject.startswith("delivery_failed:"):
            # That a page could not be delivered must reach a person even when the one who
            # could not be reached has been since: otherwise nobody fixes the channel.
            return False
        row.state = OutboxState.CANCELLED
        row.last_error = f"alert {alert.state if alert else 'gone'} before sending"
        audit.record(
            session,
            now,
            "send_cancelled",
            detail=f"to {row.person_id} by {row.channel}: {row.last_error}",
            alert_id=row.alert_id,
            custody_ref=alert.custody_ref if alert else None,
        )
        return True

    def _failed(self, claim: Claim, exc: DeliveryError, now: datetime) -> None:
        at = self._at(now)
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, claim.row_id, with_for_update=True)
            assert row is not None
            if row.claim_token != claim.token:
                self._lost_while_sending(session, row, at, f"failed ({exc})")
                return
            row.last_error = str(exc)
            row.error_code = exc.code
            row.lease_until = None
            row.claim_token = None
            kind = "permanent" if exc.permanent else "transient"
            if exc.permanent or row.attempts >= row.max_attempts:
                how = f" after {row.attempts} tries: {kind} error {exc}"
                # A transient failure that ran out of tries is an outage: the row goes again
                # when the channel answers (``_resend_after_outage``).
                record_failure(session, row, how, at, self.alerts, outage=not exc.permanent)
                return
            row.state = OutboxState.PENDING
            row.due_at = at + retry_delay(row.attempts, self.rng, retry_after=exc.retry_after)
            audit.record(
                session,
                at,
                "send_retry",
                detail=(
                    f"to {row.person_id} by {row.channel}: {kind} error {exc}; "
                    f"retry at {row.due_at.isoformat()}"
                ),
                alert_id=row.alert_id,
                custody_ref=custody_ref_of(session, row),
            )

    def _callback(self, row: OutboxRow) -> str | None:
        if not self.status_callback_base:
            return None
        return f"{self.status_callback_base.rstrip('/')}/twilio/status?m={row.token}"


def _exhausted(channel: str, at: datetime) -> Select[OutboxRow]:
    """Rows on ``channel`` that ran out of tries on transient errors and are still worth
    sending: their alert is open, or they are a notice to operations; and recent."""
    open_alerts = select(AlertRow.id).where(AlertRow.state == AlertState.OPEN)
    return select(OutboxRow).where(
        OutboxRow.channel == channel,
        OutboxRow.state == OutboxState.FAILED,
        OutboxRow.exhausted.is_(True),
        OutboxRow.created_at >= at - RESEND_WITHIN,
        or_(OutboxRow.alert_id.in_(open_alerts), OutboxRow.purpose == fallback.OPS_NOTICE),
    )
