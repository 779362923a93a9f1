"""Whole daemons on one PostgreSQL database, as a national deployment runs them: two under
a slow Twilio send nothing twice; a daemon killed with SIGKILL mid-dispatch is taken over
within its lease (at once when it restarts); a store that refuses writes, or a table locked
by someone else, makes /healthz say 503 while it lasts.

Leases here are a few seconds (``[daemon] lease``) so that the suite stays quick; the
default (20 s) behaves the same, only slower."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from fakes.twilio_api import FakeTwilio

from .fleet import Fleet

pytestmark = pytest.mark.postgres


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def fleet(tmp_path: Path, postgres_schema_url: str, twilio: FakeTwilio) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path, postgres_schema_url, twilio)
    yield fleet
    fleet.close()


def all_sent(fleet: Fleet, count: int) -> bool:
    rows = [r for r in fleet.rows() if r.purpose == "notify"]
    return len(rows) == count and all(r.state == "sent" for r in rows)


def test_two_daemons_under_a_slow_twilio_send_no_sms_twice(fleet: Fleet, twilio: FakeTwilio):
    """Twilio takes 0.3 s a message, so a batch of ten takes longer than the 3 s lease: only
    the heartbeat keeps each daemon's claims from being taken by the other."""
    fleet.lease, fleet.heartbeat = "3s", "1s"
    twilio.hang_next(times=10_000, seconds=0.3, then_accept=True)
    fleet.drop_children(40)
    fleet.start("a")
    fleet.start("b")
    fleet.wait_for("40 pages sent", lambda: all_sent(fleet, 40), timeout=120)

    sent = fleet.sent_tokens()
    assert len(sent) == 40
    assert [token for token, n in sent.items() if n > 1] == []
    pages = [r for r in fleet.rows() if r.purpose == "notify"]
    assert len({r.claimed_by for r in pages}) == 2  # both daemons took part
    assert all(r.attempts == 1 for r in pages)  # no claim ever lapsed


def killed_mid_batch(fleet: Fleet, twilio: FakeTwilio) -> tuple[float, str]:
    """Daemon a claims a batch and is killed with SIGKILL while Twilio holds one of its
    sends. The first send is slow (1.5 s) so that one is ``sent`` before the kill; the next
    ones hang 10 s, so that the send held when "mid-batch" is seen is still held when the
    kill lands, however slowly a loaded machine gets from the look to the kill. (With 1.5 s
    hangs throughout, CI once killed a daemon that had just finished its batch: nothing was
    in flight, and the restart had nothing to take back.) The faults left queued are
    dropped at the kill, so that the daemon taking over is answered at once."""
    twilio.hang_next(times=1, seconds=1.5, then_accept=True)
    twilio.hang_next(times=5, seconds=10, then_accept=True)
    fleet.drop_children(20)
    a = fleet.start("a")

    holders: list[str | None] = []

    def mid_batch() -> bool:
        # The holder is read from the same look as "mid-batch".
        rows = fleet.rows()
        sending = [r.claimed_by for r in rows if r.state == "sending"]
        if sending and any(r.state == "sent" for r in rows) and twilio.hanging:
            holders.append(sending[0])
            return True
        return False

    fleet.wait_for("a mid-batch", mid_batch, timeout=60)
    killed_at = fleet.kill(a)
    twilio.clear_faults()
    held_by = holders[0]
    assert held_by is not None
    in_flight = [r for r in fleet.rows() if r.state == "sending"]
    assert in_flight and {r.claimed_by for r in in_flight} == {held_by}, (
        "the kill was meant to land mid-batch, with rows still claimed"
    )
    return killed_at, held_by


def duplicates(fleet: Fleet) -> int:
    return sum(n - 1 for n in fleet.sent_tokens().values() if n > 1)


def test_a_daemon_killed_mid_dispatch_is_taken_over_within_its_lease(
    fleet: Fleet, twilio: FakeTwilio
):
    fleet.lease = "6s"
    killed_at, dead = killed_mid_batch(fleet, twilio)
    fleet.start("b")
    done = fleet.wait_for("every page sent", lambda: all_sent(fleet, 20), timeout=60)

    takeover = done - killed_at
    assert takeover < 30, f"took {takeover:.1f}s"
    assert duplicates(fleet) <= 1  # at most the message in flight at the kill
    assert len(fleet.sent_tokens()) == 20
    assert any(r.claimed_by != dead for r in fleet.rows())


def test_a_daemon_restarted_after_kill_takes_its_own_rows_back_at_once(
    fleet: Fleet, twilio: FakeTwilio
):
    """With a 60 s lease, the same daemon restarted at once does not wait for it. The lease
    is long so that a slow start on a loaded machine (a fresh interpreter, migrations, the
    first poll: 10 s and more seen in CI) cannot be mistaken for waiting on it."""
    fleet.lease, fleet.heartbeat = "60s", "2s"
    killed_at, dead = killed_mid_batch(fleet, twilio)
    fleet.start("a")  # the same config: the same worker id
    done = fleet.wait_for("every page sent", lambda: all_sent(fleet, 20), timeout=120)

    takeover = done - killed_at
    # Waiting for the lease would be 60 s from its last renewal and a tick more.
    assert takeover < 45, f"took {takeover:.1f}s: the restart waited for the lease"
    assert {r.claimed_by for r in fleet.rows()} == {dead}
    assert duplicates(fleet) <= 1
    log = (fleet.root / "a.log").read_text()
    assert "outbox rows and 0 digests held before this start" in log, log


def healthy(fleet: Fleet, index: int = 0) -> bool:
    return fleet.members[index].health()[0] == 200


def schema_of(url: str) -> str:
    return unquote(url).rpartition("search_path=")[2].split()[0].split("&")[0]


def test_a_daemon_whose_store_refuses_writes_says_503_until_it_can_write_again(
    tmp_path: Path, postgres_schema_url: str, twilio: FakeTwilio
):
    """The daemon logs in as a role of its own; taking its write grants away is the store
    going read-only for it (the whole database cannot be: other tests share it)."""
    schema = schema_of(postgres_schema_url)
    role = f"{schema}_daemon"
    admin = sa.create_engine(postgres_schema_url)
    Fleet(tmp_path / "setup", postgres_schema_url, twilio).close()  # migrate as the owner
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))
    url = postgres_schema_url.replace("://postgres@", f"://{role}@", 1)
    fleet = Fleet(tmp_path, url, twilio)
    try:
        fleet.start("a")
        fleet.wait_for("healthy", lambda: healthy(fleet), timeout=60)
        with admin.begin() as conn:
            conn.execute(
                sa.text(
                    f'REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
                    f'FROM "{role}"'
                )
            )
        refused = time.monotonic()
        fleet.wait_for("503", lambda: not healthy(fleet), timeout=20)
        assert time.monotonic() - refused < 10
        status, body = fleet.members[0].health()
        assert status == 503
        # Without a login /healthz names the failing checks only (issue 12).
        assert {"store", "scheduler"} & set(body["problems"]), body
        fleet.drop_children(1)  # a child arrives while the store refuses: no page can go
        time.sleep(2)
        assert twilio.messages == []

        with admin.begin() as conn:
            conn.execute(sa.text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        fleet.wait_for("healthy again", lambda: healthy(fleet), timeout=30)
        fleet.wait_for("the page", lambda: len(twilio.messages) == 1, timeout=30)
    finally:
        fleet.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()


def test_a_locked_outbox_times_out_the_tick_and_health_says_so_while_it_lasts(
    fleet: Fleet, postgres_schema_url: str
):
    fleet.start("a")
    fleet.wait_for("healthy", lambda: healthy(fleet), timeout=60)
    locker = sa.create_engine(postgres_schema_url)
    with locker.connect() as conn:
        conn.execute(sa.text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
        locked = time.monotonic()
        fleet.wait_for("503", lambda: not healthy(fleet), timeout=20)
        assert time.monotonic() - locked < 10
        _status, body = fleet.members[0].health()
        # Names only without a login: the tick overrunning (scheduler) or the health check's
        # own look at the outbox timing out (database), whichever comes first.
        assert {"scheduler", "database"} & set(body["problems"]), body
        conn.rollback()  # the lock goes
    locker.dispose()
    fleet.wait_for("healthy again", lambda: healthy(fleet), timeout=30)
    log = fleet.members[0].log.read_text()
    assert "lock timeout" in log or "LockNotAvailable" in log
