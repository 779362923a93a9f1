"""Real daemons (``custody-watch run`` subprocesses) on one database, a drop folder of
children whose alerts are due now, and the Twilio stand-in: for the tests that kill, restart
and slow things down. Every daemon has its own web port, hence its own worker id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import OutboxRow
from fakes.ports import free_port
from fakes.twilio_api import FakeTwilio

HEADER = (
    "custody_ref,suite,arrival_time,date_of_birth,legal_basis,reviews,"
    "appropriate_adult_requested_time,appropriate_adult_arrived_time,released_time,updated_at,"
    "person_ref\n"
)

CONFIG = """
timezone = "Europe/London"

[database]
url = "{database}"
statement_timeout = "5s"
lock_timeout = "2s"

[daemon]
tick = "1s"
lease = "{lease}"
heartbeat_every = "{heartbeat}"

[web]
listen = "127.0.0.1:{port}"
public_base_url = "http://127.0.0.1:{port}"

# Each page its own message: these tests follow rows through claims, leases and kills one
# by one (tests/dispatch/test_bundles.py has bundles under two workers).
[notify]
bundle_window = "0s"

[[sources]]
name = "suite-a"
kind = "csv_folder"
path = "{inbox}"
poll_every = "1s"
stale_after = "1h"

[channels.sms]
kind = "twilio"
account_sid = "{account_sid}"
from_number = "{from_number}"
api_base_url = "{twilio_url}"
timeout = "10s"

[[people]]
id = "insp-a"
name = "Insp. A. Example"
phone = "+447700900001"

[[people]]
id = "ops"
name = "Force control room"
phone = "+447700900003"

[[rota]]
role = "duty_inspector"
person = "insp-a"

[[rota]]
role = "operations"
person = "ops"

[escalation.warning]
levels = [{{ notify = ["duty_inspector"], channels = ["sms"] }}]

[escalation.high]
levels = [{{ notify = ["duty_inspector"], channels = ["sms"], wait = "15m" }}]

[escalation.critical]
levels = [{{ notify = ["duty_inspector"], channels = ["sms"], wait = "10m" }}]
"""


@dataclass
class Member:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def health(self) -> tuple[int, dict[str, Any]]:
        import json

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, {}

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Fleet:
    root: Path
    database: str
    twilio: FakeTwilio
    lease: str = "6s"
    heartbeat: str = "1s"
    members: list[Member] = field(default_factory=list)
    _ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inbox = self.root / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.database)
        upgrade(engine)  # once, before several daemons race to migrate
        self.sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self._engine = engine

    def config(self, name: str) -> Path:
        """The same config every time for one name (one port, so one worker id)."""
        port = self._ports.setdefault(name, free_port())
        path = self.root / f"{name}.toml"
        path.write_text(
            CONFIG.format(
                database=self.database,
                lease=self.lease,
                heartbeat=self.heartbeat,
                port=port,
                inbox=self.inbox,
                account_sid=self.twilio.account_sid,
                from_number=self.twilio.from_number,
                twilio_url=self.twilio.url,
            ),
            encoding="utf-8",
        )
        return path

    def start(self, name: str) -> Member:
        config = self.config(name)
        log = self.root / f"{name}.log"
        env = {
            **os.environ,
            **self.twilio.env(),
            "CUSTODY_WATCH_SECRET_KEY": "fleet-test-key",
            "PYTHONUNBUFFERED": "1",
        }
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "custody_watch", "run", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )
        member = Member(name, self._ports[name], process, log)
        self.members.append(member)
        return member

    def kill(self, member: Member) -> float:
        """kill -9; returns the monotonic instant of the kill."""
        member.process.send_signal(signal.SIGKILL)
        member.process.wait(timeout=10)
        return time.monotonic()

    def close(self) -> None:
        for member in self.members:
            if member.alive():
                member.process.send_signal(signal.SIGTERM)
        for member in self.members:
            try:
                member.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                member.process.kill()
        self._engine.dispose()

    def drop_children(self, count: int, *, first: int = 0) -> None:
        """``count`` 15-year-olds who arrived 90 minutes ago without an appropriate adult:
        a warning each (one SMS to the duty inspector), due now on the real clock."""
        arrived = (datetime.now(UTC) - timedelta(minutes=90)).replace(microsecond=0)
        at = arrived.isoformat().replace("+00:00", "Z")
        rows = "".join(
            f"C-{n:04d},suite-a,{at},2011-03-01,pace_arrest,,,,,{at},P-{n:04d}\n"
            for n in range(first, first + count)
        )
        name = f"children-{first}.csv"
        partial = self.inbox / f".{name}.partial"
        partial.write_text(HEADER + rows, encoding="utf-8")
        partial.rename(self.inbox / name)

    def rows(self) -> list[OutboxRow]:
        with self.sessions() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    def sent_tokens(self) -> Counter[str]:
        """How many times the stand-in accepted each outbox row (by the unguessable token
        in its status-callback URL)."""
        return Counter((m.status_callback or "").rpartition("m=")[2] for m in self.twilio.messages)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return time.monotonic()
            time.sleep(0.1)
        logs = "\n".join(f"--- {m.name}\n{m.log.read_text()[-3000:]}" for m in self.members)
        raise AssertionError(f"timed out waiting for {what}\n{logs}")
