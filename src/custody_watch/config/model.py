"""The whole configuration as one frozen, typed object. Unknown keys are errors.

Secrets are never in the file: they come from the environment when the daemon is built
(see ``config.secrets``)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from custody_watch.config.paths import with_data_dir_defaults
from custody_watch.config.rules import RulesSettings, to_policy
from custody_watch.config.types import (
    Duration,
    DurationOrZero,
    Email,
    Listen,
    Name,
    Phone,
    TimeOfDay,
    ZoneName,
)
from custody_watch.rules.policy import People, Policy
from custody_watch.times import TimeValueError, format_duration_spec, parse_duration, parse_zone

M = timedelta(minutes=1)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DatabaseSettings(Strict):
    url: str = "sqlite:///var/custody-watch.db"
    # Every statement is bounded, so a locked table or a stuck server ends a cycle with an
    # error (and /healthz says so) instead of hanging it. PostgreSQL: statement_timeout and
    # lock_timeout; SQLite waits for a writer's lock at most lock_timeout.
    statement_timeout: Duration = 30 * timedelta(seconds=1)
    lock_timeout: Duration = 10 * timedelta(seconds=1)


class DaemonSettings(Strict):
    """The scheduler and the outbox claims (``[daemon]``)."""

    # How often evaluation, escalation and sending run (real seconds at --speed 1).
    tick: Duration = 2 * timedelta(seconds=1)
    # A claimed outbox row or digest is held this long without a renewal; the heartbeat
    # renews what is being sent every heartbeat_every, so a dead daemon's claims lapse
    # within one lease.
    lease: Duration = 20 * timedelta(seconds=1)
    heartbeat_every: Duration = 5 * timedelta(seconds=1)
    # Stable across restarts so that a restarted daemon takes its own claims back at once.
    # Default: the host name and the database and web address (two daemons on one host
    # differ in their web port). Set it when two daemons on one host share both.
    worker_id: str | None = None
    # /healthz is 503 when a channel failed this many tries in a row.
    channel_failures_unhealthy: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> DaemonSettings:
        if self.heartbeat_every * 3 > self.lease:
            raise ValueError("daemon.heartbeat_every: must be at most a third of daemon.lease")
        return self


class WebSettings(Strict):
    enabled: bool = True
    listen: Listen = "127.0.0.1:8080"
    public_base_url: str = "http://127.0.0.1:8080"
    ack_link_ttl: Duration = timedelta(hours=24)
    # A reverse proxy that authenticates users may name them in this header. Honoured only
    # on connections from trusted_proxies (addresses or CIDR ranges), which it then needs.
    trusted_user_header: str | None = None
    trusted_proxies: list[str] = Field(default_factory=list)
    metrics_public: bool = True
    # The environment variable holding a bearer token; when set, /metrics requires it.
    metrics_token_env: str | None = None
    # A login session ends after this long without a request, and this long after the
    # login whatever happens (both server-side: logging out ends it at once too).
    session_idle_timeout: Duration = timedelta(hours=1)
    session_lifetime: Duration = timedelta(hours=12)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_ranges(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an address or CIDR range: {entry[:60]!r}") from None
        return value

    @model_validator(mode="after")
    def _idle_inside_lifetime(self) -> WebSettings:
        if self.session_idle_timeout > self.session_lifetime:
            raise ValueError("session_idle_timeout: must be at most session_lifetime")
        return self


class ScopeSettings(Strict):
    people: Literal["children", "all"] = "children"


class _SourceBase(Strict):
    name: Name
    poll_every: Duration = M
    stale_after: Duration = 15 * M
    # Optional: a source that answers every poll but has delivered no new records for this
    # long is stale too (an exporter that died leaves a drop folder empty but readable).
    # Off by default, as RULES.md defines feed_stale by failed polls and no data together.
    expect_data_within: Duration | None = None
    naive_timezone: ZoneName | None = None


class FolderSource(_SourceBase):
    kind: Literal["csv_folder", "jsonl"]
    path: str
    # A file is read once its size and modification time have been still this long (or
    # at once when it was renamed into place with an older mtime); see sources.folder.
    settle_time: DurationOrZero = 10 * timedelta(seconds=1)


class SqlSource(_SourceBase):
    kind: Literal["sql"]
    url: str
    table: str
    schema_name: str | None = Field(default=None, alias="schema")
    columns: dict[str, str] = Field(default_factory=dict)
    updated_at_column: str = "updated_at"
    # Rows read per poll at most; a larger backlog streams over the following polls.
    page_size: int = Field(default=5000, ge=1, le=1_000_000)


class HttpJsonSource(_SourceBase):
    kind: Literal["http_json"]
    url: str
    token_env: str = "CUSTODY_WATCH_HTTP_TOKEN"
    timeout: Duration = 30 * timedelta(seconds=1)
    retries: int = 3


class SimulatorSource(_SourceBase):
    kind: Literal["simulator"]
    seed: int = 1
    force: str = "SIM"
    suites: list[str] = Field(default_factory=lambda: ["SIM-C1"])
    detentions_per_day: int = Field(default=40, ge=1, le=100_000)
    child_share: float = Field(default=0.08, ge=0.0, le=1.0)
    failure_rate: float = Field(default=0.15, ge=0.0, le=1.0)


Source = Annotated[
    FolderSource | SqlSource | HttpJsonSource | SimulatorSource, Field(discriminator="kind")
]


class ConsoleChannel(Strict):
    kind: Literal["console"]


class TwilioChannel(Strict):
    kind: Literal["twilio"]
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    from_number: Phone
    api_base_url: str = "https://api.twilio.com"
    timeout: Duration = 15 * timedelta(seconds=1)


class SmtpChannel(Strict):
    kind: Literal["smtp"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    tls: bool = False
    from_address: Email
    timeout: Duration = 30 * timedelta(seconds=1)


Channel = Annotated[ConsoleChannel | TwilioChannel | SmtpChannel, Field(discriminator="kind")]


class Person(Strict):
    id: Name
    name: str
    phone: Phone | None = None
    email: Email | None = None


class RotaEntry(Strict):
    """A shift: who holds a role, on which days and hours (local), for which force/suite.

    An entry with ``start``/``end`` is a dated override (cover for sickness or leave): while
    it applies it replaces the shifts of that role."""

    role: Name
    person: Name
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    from_time: TimeOfDay | None = Field(default=None, alias="from")
    to_time: TimeOfDay | None = Field(default=None, alias="to")
    force: str | None = None
    suite: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @model_validator(mode="after")
    def _hours_come_in_pairs(self) -> RotaEntry:
        if (self.from_time is None) != (self.to_time is None):
            raise ValueError("give both 'from' and 'to' hours, or neither")
        for name, value in (("start", self.start), ("end", self.end)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a UTC offset")
        return self


class EscalationLevel(Strict):
    notify: list[Name] = Field(min_length=1)
    channels: list[Name] = Field(min_length=1)
    wait: Duration | None = None


class EscalationPolicy(Strict):
    levels: list[EscalationLevel] = Field(min_length=1)
    repeat_every: Duration | None = None
    ack_timeout: Duration = timedelta(hours=2)


class DigestSettings(Strict):
    at: TimeOfDay = time(7, 0)
    recipients: list[Name] = Field(default_factory=list)
    # Empty: every channel that can reach the recipient (email first).
    channels: list[Name] = Field(default_factory=list)


SeverityName = Literal["warning", "high", "critical"]


def _default_channels() -> dict[str, Channel]:
    return {"console": ConsoleChannel(kind="console")}


def _default_escalation() -> dict[SeverityName, EscalationPolicy]:
    level = EscalationLevel(notify=["duty_inspector"], channels=["console"])
    return {
        "warning": EscalationPolicy(levels=[level]),
        "high": EscalationPolicy(levels=[level], repeat_every=30 * M),
        "critical": EscalationPolicy(levels=[level], repeat_every=15 * M),
    }


class NotifySettings(Strict):
    # Pages due to one person on one channel within this window go as one message listing
    # each alert (fewer SMS at 3 a.m.); 0s sends each page on its own.
    bundle_window: DurationOrZero = 60 * timedelta(seconds=1)


def _retention_period(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except TimeValueError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, timedelta):
        return value
    raise ValueError(f'not a duration: {value!r} (write it as a string like "2190d")')


def _one_day_to_100_years(value: timedelta) -> timedelta:
    # Past 100 years nothing is ever deleted; under a day, a record could go before anyone
    # had looked at the alert it raised.
    if not timedelta(days=1) <= value <= timedelta(days=36_525):
        raise ValueError("must be from 1d to 36525d (100 years)")
    return value


# Longer than ``Duration`` (at most 366 days): retention periods are counted in years.
RetentionPeriod = Annotated[
    timedelta,
    BeforeValidator(_retention_period),
    AfterValidator(_one_day_to_100_years),
    PlainSerializer(format_duration_spec, return_type=str, when_used="json"),
]
SIX_YEARS = timedelta(days=2190)


class RetentionSettings(Strict):
    """How long what the store holds is kept (``[retention]``); the daily retention job
    deletes what is older, ``custody-watch retention --dry-run`` shows what would go.

    Six years for records, their audit trail and their access log: the Management of Police
    Information guidance holds police records for a minimum of six years, and six years is
    the Limitation Act 1980 s.2 period for a civil claim (see the README). Rejected rows are
    kept only while they help fix the feed: 90 days covers the digest's 28-day figures and a
    quarterly data-quality review (DPA 2018 s.39: no longer than necessary)."""

    # A released detention, with its versions, its resolved alerts and their findings,
    # messages and notes: counted from its release. Open ones and those with a live alert
    # are never deleted.
    released_detentions: RetentionPeriod = SIX_YEARS
    quarantine: RetentionPeriod = timedelta(days=90)
    access_log: RetentionPeriod = SIX_YEARS
    audit_log: RetentionPeriod = SIX_YEARS
    # Rows deleted per transaction, so a first run over years of history never holds a
    # long lock over the tables the daemon writes every tick.
    batch: int = Field(default=1000, ge=1, le=10_000)


class PathsSettings(Strict):
    # Filled in before validation (config.paths): $STATE_DIRECTORY under systemd, else var.
    data_dir: str = "var"


class LoggingSettings(Strict):
    # json: one JSON object a line, for a log shipper; human: one readable line each.
    format: Literal["human", "json"] = "human"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(Strict):
    timezone: ZoneName = "Europe/London"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    scope: ScopeSettings = Field(default_factory=ScopeSettings)
    sources: list[Source] = Field(default_factory=list)
    channels: dict[Name, Channel] = Field(default_factory=_default_channels)
    people: list[Person] = Field(default_factory=list)
    rota: list[RotaEntry] = Field(default_factory=list)
    escalation: dict[SeverityName, EscalationPolicy] = Field(default_factory=_default_escalation)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    paths: PathsSettings = Field(default_factory=PathsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @model_validator(mode="before")
    @classmethod
    def _data_under_data_dir(cls, data: object) -> object:
        """The data directory's default and the default SQLite file inside it."""
        return with_data_dir_defaults(data) if isinstance(data, dict) else data


def rules_policy(settings: Settings) -> Policy:
    """The ``Policy`` the pure rules take: ``[rules]`` with the scope and the time zone."""
    return to_policy(settings.rules, People(settings.scope.people), parse_zone(settings.timezone))
