"""The tables. State changes are rows; "live" uniqueness is enforced by the database.

Two columns do the work that locks would otherwise do:

- ``alerts.live_key`` holds the alert's subject (``detention:C-1``, ``feed_stale:suite-a``)
  while the alert is open or acknowledged and NULL once resolved. It is UNIQUE, so two
  daemons can never open two live alerts for one detention; a resolved alert frees it.
- ``alerts.live_ack_code`` does the same for ack codes: unique among live alerts only.

``detentions.next_check_at`` is when the rules must next look at a detention: now when it
changed, the next threshold otherwise, NULL when nothing can change without new data. A
cycle reads only rows that are due, so its cost follows changes, not history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from custody_watch.domain.states import AlertState, OutboxState
from custody_watch.store.types import UtcDateTime, state_type


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        str: String(255),
    }


class DetentionRow(Base):
    __tablename__ = "detentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    custody_ref: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    suite: Mapped[str] = mapped_column(String(64))
    force: Mapped[str | None] = mapped_column(String(64))
    arrival_time: Mapped[datetime]
    # The one way in for the board, the metrics and the digest: open (NULL) or released
    # since an instant. No other index on times or suite: see migration 0004.
    released_time: Mapped[datetime | None] = mapped_column(index=True)
    is_child: Mapped[bool]
    record: Mapped[dict[str, Any]]
    record_updated_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # Copied out of ``record`` so that ``repeat_detention`` finds a person's other
    # detentions by index (person, then arrival), whatever the size of the history.
    person_ref: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_detentions_person_arrival", "person_ref", "arrival_time"),)


class DetentionVersionRow(Base):
    """Every version seen, for audit: what the source said, when we received it."""

    __tablename__ = "detention_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    detention_id: Mapped[int] = mapped_column(ForeignKey("detentions.id"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    batch: Mapped[str] = mapped_column(String(512))
    row: Mapped[int]
    received_at: Mapped[datetime]
    record_updated_at: Mapped[datetime | None]
    record: Mapped[dict[str, Any]]
    became_current: Mapped[bool]


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    live_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    detention_id: Mapped[int | None] = mapped_column(ForeignKey("detentions.id"), index=True)
    custody_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    suite: Mapped[str | None] = mapped_column(String(64))
    force: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[AlertState] = mapped_column(state_type(AlertState), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    opened_severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    ack_code: Mapped[str] = mapped_column(String(8))
    live_ack_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    first_notified_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    first_acknowledged_at: Mapped[datetime | None]
    ack_expires_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # The escalation policies copied when the alert opened (a reload cannot change them).
    escalation: Mapped[dict[str, Any]]
    level: Mapped[int] = mapped_column(Integer, default=-1)
    step: Mapped[int] = mapped_column(Integer, default=0)
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    # Bumped by every conditional update, so two daemons cannot both move one alert.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The escalation round an acknowledgement link was sent for: bumped whenever a round
    # ends (ack timeout, resolve, re-raise, an acknowledgement), so a link from an earlier
    # round cannot silence a later one.
    ack_round: Mapped[int] = mapped_column(Integer, default=0)
    # Snoozed by a person, with a reason, until at most two hours ahead: paging pauses, the
    # board still shows the alert (never for a statutory breach; see alerts/snooze).
    snoozed_until: Mapped[datetime | None]
    snoozed_by: Mapped[str | None] = mapped_column(String(64))
    snooze_reason: Mapped[str | None] = mapped_column(Text)
    # "Reassign to": the person who takes the alert over, paged instead of the rota.
    assigned_to: Mapped[str | None] = mapped_column(String(64))


class FindingRow(Base):
    """An alert's findings: one row per rule, kept after it clears (``cleared_at``)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("alert_id", "rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class AuditRow(Base):
    """Append-only: every transition, step, send, acknowledgement and refusal."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    alert_id: Mapped[int | None] = mapped_column(index=True)
    custody_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    event: Mapped[str] = mapped_column(String(64))
    # Unbounded: the actor is often a worker id (host name plus instance), whose length
    # the host decides.
    actor: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")


class QuarantineRow(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    file: Mapped[str] = mapped_column(String(512))
    row: Mapped[int]
    custody_ref: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(index=True)


class SourceStateRow(Base):
    __tablename__ = "source_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    watermark: Mapped[str | None] = mapped_column(String(128))
    first_poll_at: Mapped[datetime | None]
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_data_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)


class SourceFileRow(Base):
    """Files (name plus content hash) already read, so each is read once."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(600))
    label: Mapped[str] = mapped_column(String(512))
    received_at: Mapped[datetime]
    rows: Mapped[int]
    rejected: Mapped[int]


class OutboxRow(Base):
    """One message to one person on one channel. Written in the same transaction as the
    alert transition that caused it; a dispatcher claims it (``state`` + ``lease_until``)
    before sending, so two daemons never send it twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    level: Mapped[int | None]
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(state_type(OutboxState))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    # Who holds the row while ``sending``, and the token of that one claim: a dispatcher
    # re-checks its token right before the provider call and records the result by it, so a
    # holder whose lease ran out can neither send the row nor overwrite its successor's result.
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    # When the last provider call started (the daemon's clock): probes after an outage.
    tried_at: Mapped[datetime | None]
    # What providers return is unbounded text: an SMTP Message-ID is 72 characters and more
    # (a varchar(64) made PostgreSQL refuse to record ``sent``, and the email went out again
    # at every lease expiry); codes and statuses come from servers we do not control.
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(Text, index=True)
    provider_status: Mapped[str | None] = mapped_column(Text)
    # ``failed`` after running out of tries on transient errors (an outage, not a wrong
    # number): sent again when the channel answers again while the alert is live.
    exhausted: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]
    # Unguessable id for status-callback URLs (never the sequential id).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # What a message needs besides the alert to be made again at send time (why it is sent,
    # "REPEAT 2", the ack round): the alert's state is read then, so a page that waited says
    # the held time as of its sending. NULL: the stored text is sent as it is.
    render: Mapped[dict[str, Any] | None]


class DigestRow(Base):
    """One daily digest. The UNIQUE date plus a conditional claim make it go out exactly
    once per day however many daemons share the database, and across restarts."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    # claimed | sent | failed | skipped (a fresh install's first, already-late day)
    state: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    figures: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)


class UserRow(Base):
    """People who may log in to the web side. Passwords are stored only as argon2 hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))  # viewer | inspector | admin
    person_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class WebhookEventRow(Base):
    """Twilio webhooks seen, keyed by MessageSid, so Twilio's retries are handled once."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("kind", "message_sid", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # inbound | status
    # Twilio's sids are 34 characters; 255 leaves room for any provider's without making
    # the unique key unbounded.
    message_sid: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class InstanceSecretRow(Base):
    """A signing key generated on first start when none is given in the environment, so
    acknowledgement links and sessions survive restarts."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class DaemonBeatRow(Base):
    """One row per daemon (worker id), written every tick and every heartbeat: the proof
    that this daemon can still write to the store (/healthz is 503 when it cannot), and who
    is alive on a shared database."""

    __tablename__ = "daemon_beats"

    worker: Mapped[str] = mapped_column(String(255), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]


class WebSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored,
    so a copy of the database cannot be replayed as a cookie. Ending a session (logout,
    password change, a disabled user, an admin's "end all") sets ``ended_at``, and the next
    request with that cookie is refused."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    # The CSRF token is derived from this per-session secret, so it dies with the session.
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # The absolute end (created_at plus the lifetime); idle expiry is last_seen_at based.
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)


class AccessRow(Base):
    """Append-only (Data Protection Act 2018 s.62 logging): each consultation or disclosure
    of a detention's record: when, who, which record, what, from where."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(Text)
    custody_ref: Mapped[str] = mapped_column(String(128), index=True)
    what: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)


class AlertNoteRow(Base):
    """A note on an alert (a handover, what was done): shown on the board and listed in the
    next digest. Notes are added, never edited."""

    __tablename__ = "alert_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
