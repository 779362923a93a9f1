"""Soak: three daemons on one PostgreSQL database against the simulator, one of them killed
with SIGKILL at random intervals and restarted, every message counted at a Twilio stand-in
and an SMTP sink and matched to its outbox row.

    python bench/soak.py --minutes 10 --kill-every 60

At the end (after the kills stop and the survivors have had ``--drain`` seconds to send what
is due) it prints one JSON line and a short table:

- expected: outbox rows that had to go out (not cancelled, due before the drain began; the
  drain ends when none of them is left pending, or after ``--drain`` seconds);
- sent: messages the stand-ins accepted that match an outbox row (twice counts twice);
- duplicated: accepted messages beyond the first for one row;
- lost: expected rows the store holds as sent (or given up on) that no stand-in received;
- unsent at end: expected rows still waiting when the drain ended (an overloaded run: the
  figures are then not a takeover measurement);
- worst takeover: after each kill, the longest real time until every outbox row the dead
  daemon held (``sending``) was taken over or finished; also when the daemon restarted.

The clock runs ``--speed`` times faster (``run --now T --speed S``: each daemon's clock reads
the shared soak clock when it starts). Daemons started at different moments disagree by
their start-up time times the speed, so every lease in the generated config is scaled by the
speed: a 20 s lease is ``20 * speed`` clock seconds, 20 real seconds, whatever the speed.

The database is a fresh schema in ``--database`` (default: the test server), dropped at the
end unless ``--keep``. Needs the test stand-ins (tests/fakes) and aiosmtpd, as the suite does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from custody_watch.store.db import make_engine  # noqa: E402
from custody_watch.store.migrate import upgrade  # noqa: E402
from fakes.ports import free_port  # noqa: E402
from fakes.smtp_server import FakeSmtp  # noqa: E402
from fakes.twilio_api import FakeTwilio  # noqa: E402

DEFAULT_DATABASE = os.environ.get(
    "CUSTODY_WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

CONFIG = """
timezone = "Europe/London"

[database]
url = "{database}"

[daemon]
tick = "2s"
lease = "{lease}s"
heartbeat_every = "{heartbeat}s"

[web]
listen = "127.0.0.1:{port}"
public_base_url = "http://127.0.0.1:{port}"

[[sources]]
name = "sim"
kind = "simulator"
seed = {seed}
suites = ["SIM-C1", "SIM-C2", "SIM-C3"]
detentions_per_day = {per_day}
child_share = 0.5
failure_rate = 0.5
poll_every = "1m"
stale_after = "1h"

[channels.sms]
kind = "twilio"
account_sid = "{account_sid}"
from_number = "{from_number}"
api_base_url = "{twilio_url}"

[channels.email]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
starttls = false
from_address = "custody-watch@soak.example.police.uk"

[[people]]
id = "insp-a"
name = "Insp. A. Example"
phone = "+447700900001"
email = "insp.a@example.police.uk"

[[people]]
id = "supt-b"
name = "Supt. B. Example"
phone = "+447700900002"
email = "supt.b@example.police.uk"

[[people]]
id = "ops"
name = "Force control room"
email = "control.room@example.police.uk"

[[rota]]
role = "duty_inspector"
person = "insp-a"

[[rota]]
role = "superintendent"
person = "supt-b"

[[rota]]
role = "operations"
person = "ops"

[escalation.warning]
levels = [{{ notify = ["duty_inspector"], channels = ["sms", "email"] }}]

[escalation.high]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms", "email"], wait = "15m" }},
  {{ notify = ["superintendent"], channels = ["sms", "email"], wait = "30m" }},
]
repeat_every = "30m"

[escalation.critical]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms", "email"], wait = "10m" }},
  {{ notify = ["duty_inspector", "superintendent"], channels = ["sms", "email"], wait = "15m" }},
]
repeat_every = "15m"

[digest]
at = "{digest_at}"
recipients = ["supt-b"]
"""


@dataclass
class Daemon:
    name: str
    config: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Kill:
    at: float  # monotonic
    daemon: str
    worker: str | None
    held: list[int]
    tokens: list[str]
    restarted_after: float
    takeover: float | None = None  # real seconds until every held row was taken or done


@dataclass
class Soak:
    args: argparse.Namespace
    root: Path
    url: str
    twilio: FakeTwilio
    smtp: FakeSmtp
    started_wall: float = field(default_factory=time.time)
    clock_start: datetime = field(default_factory=lambda: datetime.now(UTC))
    daemons: list[Daemon] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    # (daemon, monotonic instant): killed daemons waiting to be started again.
    restarts: list[tuple[Daemon, float]] = field(default_factory=list)
    # The config each daemon gets (a str.format template; bench/national.py gives its own).
    template: str = CONFIG

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        speed = self.args.speed
        # One digest due a few (clock) minutes in, so its claim is soaked too.
        digest_at = (self.clock_start + timedelta(minutes=3 * speed)).astimezone(
            ZoneInfo("Europe/London")
        )
        for n in range(self.args.daemons):
            name = f"d{n + 1}"
            config = self.root / f"{name}.toml"
            config.write_text(
                self.template.format(
                    database=self.url,
                    lease=round(20 * speed),
                    heartbeat=round(5 * speed),
                    port=free_port(),
                    seed=self.args.seed,
                    per_day=self.args.per_day,
                    account_sid=self.twilio.account_sid,
                    from_number=self.twilio.from_number,
                    twilio_url=self.twilio.url,
                    smtp_port=self.smtp.port,
                    digest_at=digest_at.strftime("%H:%M"),
                ),
                encoding="utf-8",
            )
            self.daemons.append(Daemon(name, config, self.root / f"{name}.log"))

    def clock_now(self) -> datetime:
        """The shared soak clock: where every daemon's clock should be now."""
        elapsed = (time.time() - self.started_wall) * self.args.speed
        return self.clock_start + timedelta(seconds=elapsed)

    def start(self, daemon: Daemon) -> None:
        env = {
            **os.environ,
            **self.twilio.env(),
            "CUSTODY_WATCH_SECRET_KEY": "soak-key",
            "PYTHONUNBUFFERED": "1",
        }
        now = self.clock_now().isoformat().replace("+00:00", "Z")
        with daemon.log.open("ab") as out:
            daemon.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "custody_watch",
                    "run",
                    "--config",
                    str(daemon.config),
                    "--now",
                    now,
                    "--speed",
                    str(self.args.speed),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )

    def worker_of(self, daemon: Daemon) -> str | None:
        """The worker id a daemon logs on start (it is stable across its restarts)."""
        for line in daemon.log.read_text(errors="replace").splitlines():
            if "custody-watch running as " in line:
                return line.split("custody-watch running as ", 1)[1].split(" (", 1)[0]
        return None

    def held_by(self, worker: str) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id FROM outbox WHERE state = 'sending' AND claimed_by = :w"),
                {"w": worker},
            )
            return [int(r[0]) for r in rows]

    def still_held(self, tokens: list[str]) -> int:
        """Rows still ``sending`` under the dead daemon's claims (not released by its
        restart, not taken over by another daemon, not finished)."""
        if not tokens:
            return 0
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM outbox "
                        "WHERE state = 'sending' AND claim_token = ANY(:tokens)"
                    ),
                    {"tokens": tokens},
                ).scalar_one()
            )

    def tokens_of(self, ids: list[int]) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT claim_token FROM outbox WHERE id = ANY(:ids)"), {"ids": ids}
            )
            return [r[0] for r in rows if r[0]]

    def kill_one(self, rng: random.Random) -> None:
        running = [d for d in self.daemons if d.process and d.process.poll() is None]
        if len(running) < 2:
            return  # always leave one daemon running: this is a takeover test
        victim = rng.choice(running)
        worker = self.worker_of(victim)
        assert victim.process is not None
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        at = time.monotonic()
        held = self.held_by(worker) if worker else []
        tokens = self.tokens_of(held)
        # Half the kills restart at once (the daemon takes its own rows back), half after
        # longer than the lease (the others must take them over).
        restart_after = 0.0 if rng.random() < 0.5 else rng.uniform(25.0, 40.0)
        kill = Kill(at, victim.name, worker, held, tokens, restart_after)
        self.kills.append(kill)
        print(
            f"[soak] {time.strftime('%H:%M:%S')} killed {victim.name} holding {len(held)} rows; "
            f"restart in {restart_after:.0f}s",
            file=sys.stderr,
        )
        if restart_after == 0.0:
            self.start(victim)
        else:
            self.restarts.append((victim, at + restart_after))

    def watch(self) -> None:
        """Between kills: restart a daemon whose time has come, time the takeovers."""
        due = [r for r in self.restarts if time.monotonic() >= r[1]]
        for daemon, _at in due:
            self.start(daemon)
        self.restarts = [r for r in self.restarts if r not in due]
        for kill in self.kills:
            if kill.takeover is None and self.still_held(kill.tokens) == 0:
                kill.takeover = time.monotonic() - kill.at

    def backlog(self, due_by: datetime) -> int:
        """Rows due by ``due_by`` not yet sent, failed or cancelled."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM outbox "
                        "WHERE state IN ('pending', 'sending') AND due_at <= :due"
                    ),
                    {"due": due_by},
                ).scalar_one()
            )

    def stop_all(self) -> None:
        for daemon in self.daemons:
            if daemon.process and daemon.process.poll() is None:
                daemon.process.send_signal(signal.SIGTERM)
        for daemon in self.daemons:
            if daemon.process:
                try:
                    daemon.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.process.kill()

    def tally(self, drain_began: datetime) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, token, state, due_at, channel, purpose FROM outbox")
            ).all()
            digests = conn.execute(sa.text("SELECT day, state FROM digests")).all()
        by_token = {r.token: r for r in rows}
        by_id = {str(r.id): r for r in rows}
        received: Counter[int] = Counter()
        unmatched = 0
        for message in self.twilio.messages:
            token = (message.status_callback or "").rpartition("m=")[2]
            if token in by_token:
                received[by_token[token].id] += 1
            else:
                unmatched += 1
        digest_mails: Counter[str] = Counter()
        for mail in self.smtp.mails:
            ref = str(mail.message["X-Custody-Watch-Ref"] or "")
            if ref in by_id:
                received[by_id[ref].id] += 1
            elif ref.startswith("digest:"):
                digest_mails[ref] += len(mail.rcpt_tos)
            else:
                unmatched += 1
        expected = [r for r in rows if r.state != "cancelled" and r.due_at <= drain_began]
        # Lost: the store holds it as done (sent, or given up on) and nobody received it.
        # Still pending or sending when the drain ended is not lost but late (overload).
        lost = [r.id for r in expected if received[r.id] == 0 and r.state in ("sent", "failed")]
        unsent = [r.id for r in expected if r.state in ("pending", "sending")]
        duplicated = sum(n - 1 for n in received.values() if n > 1)
        takeovers = [k.takeover for k in self.kills if k.takeover is not None and k.held]
        return {
            "name": "soak",
            "minutes": self.args.minutes,
            "speed": self.args.speed,
            "daemons": self.args.daemons,
            "kills": len(self.kills),
            "kills_holding_rows": sum(1 for k in self.kills if k.held),
            "expected": len(expected),
            "sent": sum(received.values()),
            "duplicated": duplicated,
            "lost": len(lost),
            "lost_ids": lost[:20],
            "unsent_at_end": len(unsent),
            "unmatched": unmatched,
            "states": dict(Counter(r.state for r in rows)),
            "digests": {str(day): state for day, state in digests},
            "digest_mails": dict(digest_mails),
            "worst_takeover_seconds": round(max(takeovers), 1) if takeovers else None,
            "worst_takeover_after_restart_at_once": _worst(
                k for k in self.kills if k.held and k.restarted_after == 0.0
            ),
            "worst_takeover_by_another_daemon": _worst(
                k for k in self.kills if k.held and k.restarted_after > 0.0
            ),
            "untimed_takeovers": sum(1 for k in self.kills if k.held and k.takeover is None),
        }


def _worst(kills: Any) -> float | None:
    times = [k.takeover for k in kills if k.takeover is not None]
    return round(max(times), 1) if times else None


def fresh_schema(url: str) -> tuple[str, str]:
    schema = f"soak_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the kills go on")
    parser.add_argument("--kill-every", type=float, default=60.0, help="mean seconds between kills")
    parser.add_argument(
        "--drain", type=float, default=300.0, help="at most this long to send what is due"
    )
    parser.add_argument("--daemons", type=int, default=3)
    parser.add_argument("--speed", type=float, default=10.0, help="clock speed (run --speed)")
    parser.add_argument("--per-day", type=int, default=200, help="detentions a day per suite")
    parser.add_argument("--twilio-delay", type=float, default=0.3, help="seconds a message")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the schema and the logs")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    schema, url = fresh_schema(args.database)
    root = Path(tempfile.mkdtemp(prefix="custody-watch-soak-"))
    print(f"[soak] schema {schema}, logs in {root}", file=sys.stderr)
    try:
        engine = make_engine(url)
        upgrade(engine)  # once, before three daemons race to do it
        engine.dispose()
        with FakeTwilio() as twilio, FakeSmtp() as smtp:
            # Every message is slow, as Twilio is on a bad day: claims are held long enough
            # for kills to land mid-batch.
            twilio.hang_next(times=1_000_000, seconds=args.twilio_delay, then_accept=True)
            soak = Soak(args, root, url, twilio, smtp)
            for daemon in soak.daemons:
                soak.start(daemon)
            end = time.monotonic() + args.minutes * 60
            next_kill = time.monotonic() + rng.uniform(0.5, 1.5) * args.kill_every
            while time.monotonic() < end:
                if time.monotonic() >= next_kill:
                    soak.kill_one(rng)
                    next_kill = time.monotonic() + rng.uniform(0.5, 1.5) * args.kill_every
                soak.watch()
                time.sleep(0.2)
            for daemon, _at in soak.restarts:  # every daemon runs for the drain
                soak.start(daemon)
            soak.restarts.clear()
            drain_began = soak.clock_now()
            drain_end = time.monotonic() + args.drain
            while time.monotonic() < drain_end and soak.backlog(drain_began):
                soak.watch()
                time.sleep(0.5)
            drained = args.drain - max(0.0, drain_end - time.monotonic())
            soak.stop_all()
            result = soak.tally(drain_began)
            result["drain_seconds"] = round(drained, 1)
            soak.engine.dispose()
    finally:
        if not args.keep:
            drop_schema(args.database, schema)
    print(json.dumps(result))
    print(
        f"expected {result['expected']}  sent {result['sent']}  duplicated "
        f"{result['duplicated']}  lost {result['lost']}  kills {result['kills']} "
        f"({result['kills_holding_rows']} mid-send)  worst takeover "
        f"{result['worst_takeover_seconds']}s",
        file=sys.stderr,
    )
    return 0 if result["lost"] == 0 and result["unsent_at_end"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
