"""A store filled by the real pipeline, and the web app over it.

A csv_folder source reads a drop folder; ``run_cycle`` polls it, evaluates, opens alerts and
sends level 1 by SMS through the real twilio SDK to a local fake of Twilio's API (tests/fakes),
so the outbox rows carry real MessageSids and status-callback URLs. The web side is built
from the same daemon ``Context`` with ``build_web_context``."""

from __future__ import annotations

import io
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from custody_watch.clock import FixedClock
from custody_watch.config import parse_settings
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.cycle import run_cycle
from custody_watch.daemon.runtime import Context
from custody_watch.daemon.web_side import build_web_context
from custody_watch.liveness import Heartbeat
from custody_watch.store.schema import AlertRow, AuditRow, OutboxRow
from custody_watch.store.users import create_user
from custody_watch.web.app import create_app
from custody_watch.web.app_context import WebContext
from daemon.support import HEADER, ROTA
from fakes.twilio_api import FakeTwilio

H = timedelta(hours=1)
M = timedelta(minutes=1)
# Wednesday 14 January 2026, 10:00 GMT.
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
PUBLIC = "http://127.0.0.1:8080"
SECRET_KEY = "web-tests-signing-key-0123456789"
PASSWORD = "correct horse battery"
# argon2id still, with parameters small enough for tests (the defaults take ~0.5 s a hash).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

CONFIG = (
    """
timezone = "Europe/London"

[database]
url = "{database_url}"

[web]
public_base_url = "{public}"
metrics_public = {metrics_public}
{extra_web}

[[sources]]
name = "suite-a"
kind = "csv_folder"
path = "{inbox}"
poll_every = "1m"
stale_after = "15m"

[channels.sms]
kind = "twilio"
account_sid = "{account_sid}"
from_number = "{from_number}"
api_base_url = "{api}"

"""
    + ROTA
)


def z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


# C-1: a 15-year-old held 16 hours, no review, no appropriate adult: a critical alert.
# C-2: a 16-year-old held 2 hours with an appropriate adult: on the board, no findings.
# an adult: not on the board. Row 4: no UTC offset: quarantined.
ROWS = (
    f"C-1,suite-a,{z(T0 - 16 * H)},2010-06-01,pace_arrest,,{z(T0 - 15 * H)},,,,P-7781-ZX\n"
    f"C-2,suite-b,{z(T0 - 2 * H)},2009-03-01,pace_arrest,,{z(T0 - 110 * M)},{z(T0 - H)},,,P-1\n"
    f"A-1,suite-a,{z(T0 - 3 * H)},1980-01-01,pace_arrest,,,,,,P-2\n"
    "C-9,suite-a,2026-01-14T08:00:00,2011-01-01,pace_arrest,,,,,,P-3\n"
)


@dataclass
class Site:
    ctx: Context
    web: WebContext
    app: FastAPI
    client: TestClient
    clock: FixedClock
    twilio: FakeTwilio
    ticks: list[float] = field(default_factory=lambda: [0.0])

    @property
    def token(self) -> str:
        assert self.web.twilio_auth_token is not None
        return self.web.twilio_auth_token

    # -- the store

    def alert(self, custody_ref: str = "C-1") -> AlertRow:
        with self.ctx.sessions() as session:
            alert = session.scalar(select(AlertRow).where(AlertRow.custody_ref == custody_ref))
            assert alert is not None, f"no alert for {custody_ref}"
            return alert

    def outbox(self) -> list[OutboxRow]:
        with self.ctx.sessions() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    def audit(self, event: str | None = None) -> list[AuditRow]:
        with self.ctx.sessions() as session:
            query = select(AuditRow).order_by(AuditRow.id)
            if event is not None:
                query = query.where(AuditRow.event == event)
            return list(session.scalars(query))

    def add_user(
        self, username: str, role: str, person: str | None = None, password: str = PASSWORD
    ) -> None:
        with self.ctx.sessions.begin() as session:
            create_user(session, username, password, role, person, self.clock.now(), FAST_HASHER)

    # -- the browser side

    def login(
        self, username: str, password: str = PASSWORD, client: TestClient | None = None
    ) -> httpx.Response:
        client = client or self.client
        page = client.get("/login")
        response: httpx.Response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf": csrf_of(page.text)},
            follow_redirects=False,
        )
        return response

    # -- Twilio's side

    def signed_post(
        self,
        path: str,
        params: dict[str, str],
        *,
        url: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        """POST a form to ``path``, signed as Twilio signs it for ``url`` (default: the
        public URL of ``path``) with ``token`` (default: the configured auth token)."""
        signed_for = url or PUBLIC + path
        signature = RequestValidator(token or self.token).compute_signature(signed_for, params)
        response: httpx.Response = self.client.post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )
        return response


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]*)"', html)
    assert match, "no CSRF field on the page"
    return match[1]


def make_site(
    tmp_path: Path,
    twilio: FakeTwilio,
    *,
    with_token: bool = True,
    metrics_public: bool = True,
    public: str = PUBLIC,
    extra_web: str = "",
    database_url: str | None = None,
) -> Site:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "day.csv").write_text(HEADER + ROWS, encoding="utf-8")
    text = CONFIG.format(
        database_url=database_url or f"sqlite:///{tmp_path / 'cw.db'}",
        public=public,
        metrics_public=str(metrics_public).lower(),
        extra_web=extra_web,
        inbox=inbox,
        account_sid=twilio.account_sid,
        from_number=twilio.from_number,
        api=twilio.url,
    )
    settings = parse_settings(tomllib.loads(text))
    clock = FixedClock(T0)
    ctx = build_context(settings, clock, env=twilio.env(), stream=io.StringIO())
    run_cycle(ctx, T0, poll_all=True)
    ticks = [0.0]
    heartbeat = Heartbeat(monotonic=lambda: ticks[0])
    heartbeat.beat(T0, 0.25)
    env = {"CUSTODY_WATCH_SECRET_KEY": SECRET_KEY}
    if with_token:
        env |= twilio.env()
    web = replace(build_web_context(ctx, env, heartbeat=heartbeat), password_hasher=FAST_HASHER)
    app = create_app(web)
    return Site(ctx, web, app, TestClient(app), clock, twilio, ticks)
