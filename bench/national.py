"""National scale: the simulator as 43 forces with 4 custody suites each (30 arrivals a
minute in all), three daemons on one PostgreSQL database, in real time, for 10 minutes.

    python bench/national.py --minutes 10

What it measures, printed as one JSON line and a short table (bench/README.md keeps the
figures of a run on a quiet machine):

- cycle p50/p99: each daemon's tick, sampled from its own ``/metrics``
  (``custody_watch_last_cycle_duration_seconds``, read whenever its cycle count moved);
- lateness p50/p99: for every finding raised by time passing (its ``since`` later than the
  last version of the record received before it was raised), from its ``since`` to its
  ``raised_at``, the clock at the start of the tick that raised it: add a cycle for the
  outbox rows, written in that tick;
- in custody at once (largest sample), arrivals a minute, messages a second (outbox rows
  sent, and what the Twilio and SMTP stand-ins received);
- database CPU: the CPU seconds of every PostgreSQL server process over the run, per
  second of the run (1.0 is one core busy);
- store growth: the schema's size at the end of the first poll minute and at the end, per
  day, and extrapolated to a year;
- trouble in the daemons' logs over the whole run: errors logged, failed cycle steps,
  deadlocks and unique-key violations (each one a race between daemons sharing the
  database, which should be none).

The daemons are real (``custody-watch run``), with the Twilio and SMTP stand-ins the tests
use; messages take ``--twilio-delay`` seconds each. The schema is fresh and dropped at the end
unless ``--keep``."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from stores import schema_mb  # isort: skip
from soak import (  # isort: skip
    CONFIG,
    DEFAULT_DATABASE,
    FakeSmtp,
    FakeTwilio,
    Soak,
    drop_schema,
    fresh_schema,
    make_engine,
    upgrade,
)

FORCES = 43
SUITES_PER_FORCE = 4
ARRIVALS_PER_MINUTE = 30

SOURCE = """
[[sources]]
name = "force-{n:02d}"
kind = "simulator"
seed = {seed}
force = "F{n:02d}"
suites = [{suites}]
detentions_per_day = {per_day}
child_share = 0.08
failure_rate = 0.15
poll_every = "1m"
stale_after = "1h"
"""


def national_config(forces: int, suites_per_force: int, per_minute: float, seed: int) -> str:
    """The soak's config (people, rota, escalation, stand-ins) with one simulator source per
    force. ``detentions_per_day`` is per suite: the national rate shared out evenly."""
    per_day = max(1, round(per_minute * 24 * 60 / (forces * suites_per_force)))
    sources = []
    for n in range(1, forces + 1):
        suites = ", ".join(f'"F{n:02d}-S{s}"' for s in range(1, suites_per_force + 1))
        text = SOURCE.format(n=n, seed=seed + n, suites=suites, per_day=per_day)
        sources.append(text.replace("{", "{{").replace("}", "}}"))
    start = CONFIG.index("[[sources]]")
    end = CONFIG.index("[channels.sms]")
    return CONFIG[:start] + "".join(sources).lstrip() + "\n" + CONFIG[end:]


def percentile(values: Sequence[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


_METRIC = re.compile(r"^(custody_watch_[a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+|NaN)$")


def scrape(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match and match.group(2) != "NaN":
            found[match.group(1)] = float(match.group(2))
    return found


def postgres_cpu_seconds() -> float:
    """CPU seconds (user and system) of every process named postgres on this machine."""
    tick = 100.0  # USER_HZ on Linux
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if not name.startswith("postgres"):
            continue
        fields = text[text.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


# A finding raised by time passing: its ``since`` is later than every version of the record
# the tick that raised it could have read. ``raised_at`` is the clock at the tick's start,
# and a poll storing a version concurrently (its own job) can land after that moment but
# before the tick reads the detention: counting only versions received by ``raised_at``
# took new arrivals ("held 0m since arrival") for thresholds missed by the 35 s between
# the arrival's minute and the poll that brought it. So versions received up to
# ``RACE_SECONDS`` after ``raised_at`` count too; a threshold that falls just before a new
# version is then left out (uncounted, never counted late).
RACE_SECONDS = 10
LATENESS = sa.text(
    f"""
    SELECT EXTRACT(EPOCH FROM f.raised_at - f.since) AS late
    FROM findings f
    JOIN alerts a ON a.id = f.alert_id
    WHERE f.raised_at >= :t AND f.since > (
        SELECT max(v.received_at) FROM detention_versions v
        WHERE v.detention_id = a.detention_id
          AND v.received_at <= f.raised_at + interval '{RACE_SECONDS} seconds'
    )
    """
)


def overdue(engine: sa.Engine) -> int:
    """Detentions whose check is more than ``OVERDUE_SECONDS`` late (not yet evaluated)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM detentions"
                    f" WHERE next_check_at < now() - interval '{OVERDUE_SECONDS} seconds'"
                )
            ).scalar_one()
        )


# More than a few ticks: a detention stored by the current poll is due at once, and is
# evaluated within a tick or two; one overdue by longer is waiting in the cold start's queue.
OVERDUE_SECONDS = 10


def warmed(engine: sa.Engine) -> int:
    """Sources polled successfully at least once."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM source_state WHERE last_success_at IS NOT NULL")
            ).scalar_one()
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--daemons", type=int, default=3)
    parser.add_argument("--forces", type=int, default=FORCES)
    parser.add_argument("--suites-per-force", type=int, default=SUITES_PER_FORCE)
    parser.add_argument("--per-minute", type=float, default=ARRIVALS_PER_MINUTE)
    parser.add_argument("--twilio-delay", type=float, default=0.05, help="seconds a message")
    parser.add_argument("--seed", type=int, default=43)
    parser.add_argument(
        "--warmup-limit", type=float, default=20.0, help="minutes the first polls may take"
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the schema and the logs")
    args = parser.parse_args(argv)
    # What Soak reads of its arguments: real time, no kills.
    args.speed, args.per_day = 1.0, 0
    schema, url = fresh_schema(args.database)
    root = Path(tempfile.mkdtemp(prefix="custody-watch-national-"))
    print(f"[national] schema {schema}, logs in {root}", file=sys.stderr)
    template = national_config(args.forces, args.suites_per_force, args.per_minute, args.seed)
    try:
        engine = make_engine(url)
        upgrade(engine)
        with FakeTwilio() as twilio, FakeSmtp() as smtp:
            twilio.hang_next(times=1_000_000, seconds=args.twilio_delay, then_accept=True)
            soak = Soak(args, root, url, twilio, smtp, template=template)
            ports = [
                int(re.search(r'listen = "127.0.0.1:(\d+)"', d.config.read_text()).group(1))  # type: ignore[union-attr]
                for d in soak.daemons
            ]
            for daemon in soak.daemons:
                soak.start(daemon)
            # The first poll of each source reads everything in custody or released in the
            # simulator's last 48 hours (tens of thousands of records nationally): measure
            # the steady state after it, not the initial load.
            warm_began = time.monotonic()
            while warmed(engine) < args.forces:
                if time.monotonic() - warm_began > args.warmup_limit * 60:
                    raise SystemExit("national: the first polls did not finish in time")
                time.sleep(2.0)
            warmup = time.monotonic() - warm_began
            # Then the first evaluation of all that (every stored detention is due at once):
            # the steady state begins when nothing is overdue, so that lateness measures a
            # threshold passing, not the cold start's queue (reported on its own).
            backlog_began, backlog = time.monotonic(), overdue(engine)
            while (left := overdue(engine)) > 0:
                if time.monotonic() - warm_began > args.warmup_limit * 60:
                    raise SystemExit(f"national: {left} detentions still overdue after warm-up")
                time.sleep(1.0)
            backlog_seconds = time.monotonic() - backlog_began
            print(
                f"[national] first polls done in {warmup:.0f}s; {backlog} detentions evaluated"
                f" in {backlog_seconds:.0f}s more; measuring",
                file=sys.stderr,
            )
            size_began = schema_mb(engine, schema)
            began, cpu_began = time.monotonic(), postgres_cpu_seconds()
            clock_began = soak.clock_now()
            end = began + args.minutes * 60
            cycles: list[float] = []
            counts: dict[int, float] = {}
            in_custody = 0
            while time.monotonic() < end:
                for port in ports:
                    metrics = scrape(port)
                    count = metrics.get("custody_watch_cycle_duration_seconds_count")
                    last = metrics.get("custody_watch_last_cycle_duration_seconds")
                    if count is not None and last is not None and count != counts.get(port):
                        counts[port] = count
                        cycles.append(last)
                with engine.connect() as conn:
                    in_custody = max(
                        in_custody,
                        conn.execute(
                            sa.text("SELECT count(*) FROM detentions WHERE released_time IS NULL")
                        ).scalar_one(),
                    )
                time.sleep(1.0)
            wall = time.monotonic() - began
            cpu = postgres_cpu_seconds() - cpu_began
            size_end = schema_mb(engine, schema)
            soak.stop_all()
            with engine.connect() as conn:
                lateness = [float(r.late) for r in conn.execute(LATENESS, {"t": clock_began})]
                sent = conn.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE state = 'sent'")
                ).scalar_one()
                arrivals = conn.execute(
                    sa.text("SELECT count(*) FROM detentions WHERE arrival_time >= :t"),
                    {"t": clock_began},
                ).scalar_one()
                stored = conn.execute(sa.text("SELECT count(*) FROM detentions")).scalar_one()
            received = len(twilio.messages) + len(smtp.mails)
            engine.dispose()
    finally:
        if not args.keep:
            drop_schema(args.database, schema)
    growth_per_day = (size_end - size_began) / wall * 86_400
    trouble = logged_trouble(root)
    result: dict[str, Any] = {
        "name": "national",
        "minutes": args.minutes,
        "daemons": args.daemons,
        "forces": args.forces,
        "suites": args.forces * args.suites_per_force,
        "in_custody_max": in_custody,
        "detentions_stored": stored,
        "arrivals_per_minute": round(arrivals / (wall / 60), 1),
        "cycles_sampled": len(cycles),
        "cycle_p50_ms": _ms(percentile(cycles, 0.5)),
        "cycle_p99_ms": _ms(percentile(cycles, 0.99)),
        "findings_timed": len(lateness),
        "lateness_p50_s": _round(percentile(lateness, 0.5)),
        "lateness_p99_s": _round(percentile(lateness, 0.99)),
        "messages_sent": sent,
        "messages_received": received,
        "messages_per_second": round(sent / wall, 2),
        "database_cpu_cores": round(cpu / wall, 2),
        "warmup_seconds": round(warmup),
        # The cold start's first evaluation: how many detentions were due at once after the
        # first polls, and how long until none was overdue.
        "backlog_detentions": backlog,
        "backlog_seconds": round(backlog_seconds),
        "store_mb_after_warmup": round(size_began, 1),
        "store_mb_end": round(size_end, 1),
        "store_growth_mb_per_day": round(growth_per_day, 1),
        "store_growth_gb_per_year": round(growth_per_day * 365 / 1024, 1),
        **trouble,
    }
    print(json.dumps(result))
    print(
        f"in custody {in_custody}  cycle p50/p99 {result['cycle_p50_ms']}/"
        f"{result['cycle_p99_ms']} ms  lateness p99 {result['lateness_p99_s']} s  "
        f"{result['messages_per_second']} msg/s  db cpu {result['database_cpu_cores']} cores  "
        f"+{result['store_growth_gb_per_year']} GB/year",
        file=sys.stderr,
    )
    return 0


# What the daemons' logs must not show when they share one database: each is a race between
# them that someone pays for (a failed step pages operations; a deadlock loses a heartbeat).
TROUBLE = {
    "errors_logged": re.compile(r"^\S+ \S+ ERROR "),
    "steps_failed": re.compile(r"^custody_watch\.daemon\.cycle\.StepsFailed"),
    "deadlocks": re.compile(r"DeadlockDetected: deadlock detected"),
    "unique_violations": re.compile(r"^psycopg\.errors\.UniqueViolation"),
}


def logged_trouble(root: Path) -> dict[str, int]:
    """Counts of ``TROUBLE`` over every daemon's log of the whole run (first polls too)."""
    counts = dict.fromkeys(TROUBLE, 0)
    for log in sorted(root.glob("*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            for name, pattern in TROUBLE.items():
                if pattern.search(line):
                    counts[name] += 1
    return counts


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    sys.exit(main())
