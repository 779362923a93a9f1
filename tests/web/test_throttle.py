"""The login throttle, on times the test passes in: growing delays for the (user name,
address) pair that failed, a global cap that holds only pairs that have failed, and memory
that stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custody_watch.web.auth import Throttle

T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_the_delays_grow_zero_zero_one_two_four_up_to_thirty_seconds() -> None:
    throttle = Throttle()
    assert [throttle.delay_after(n).total_seconds() for n in range(9)] == [
        0,
        0,
        0,
        1,
        2,
        4,
        8,
        16,
        30,
    ]
    assert throttle.delay_after(10_000) == timedelta(seconds=30)


def test_a_pair_waits_its_delay_after_each_failure() -> None:
    throttle = Throttle()
    now = T0
    for _ in range(2):
        assert throttle.retry_after("alice", "192.0.2.1", now) == 0
        throttle.failed("alice", "192.0.2.1", now)
    assert throttle.retry_after("alice", "192.0.2.1", now) == 0
    throttle.failed("alice", "192.0.2.1", now)  # the third: one second
    assert throttle.retry_after("alice", "192.0.2.1", now) == 1.0
    assert throttle.retry_after("alice", "192.0.2.1", now + S) == 0
    throttle.failed("alice", "192.0.2.1", now + S)  # the fourth: two seconds
    assert throttle.retry_after("alice", "192.0.2.1", now + S) == 2.0
    # The name is the same whatever its case or spaces.
    assert throttle.retry_after(" ALICE ", "192.0.2.1", now + S) == 2.0


def test_other_pairs_are_never_held_back_by_a_strangers_failures() -> None:
    throttle = Throttle()
    for i in range(50):
        throttle.failed("alice", "203.0.113.66", T0 + i * S)
    assert throttle.retry_after("alice", "203.0.113.66", T0 + 50 * S) > 0
    assert throttle.retry_after("alice", "192.0.2.1", T0 + 50 * S) == 0
    assert throttle.retry_after("bob", "203.0.113.66", T0 + 50 * S) == 0


def test_a_success_or_a_quiet_quarter_hour_forgets_the_failures() -> None:
    throttle = Throttle()
    for _ in range(5):
        throttle.failed("alice", "192.0.2.1", T0)
    throttle.succeeded("alice", "192.0.2.1")
    assert throttle.retry_after("alice", "192.0.2.1", T0) == 0
    for _ in range(5):
        throttle.failed("bob", "192.0.2.1", T0)
    assert throttle.retry_after("bob", "192.0.2.1", T0 + timedelta(minutes=15)) == 0
    throttle.failed("bob", "192.0.2.1", T0 + timedelta(minutes=15))
    assert throttle.retry_after("bob", "192.0.2.1", T0 + timedelta(minutes=15)) == 0  # starts over


def test_past_the_global_cap_every_pair_that_failed_waits_for_the_minute() -> None:
    throttle = Throttle(global_limit=10, global_window=timedelta(minutes=1))
    # A spray: ten names from ten addresses, one wrong password each, in ten seconds.
    for i in range(10):
        throttle.failed(f"user{i}", f"198.51.100.{i}", T0 + i * S)
    now = T0 + 10 * S
    assert throttle.retry_after("user0", "198.51.100.0", now) == 50.0  # the oldest's minute
    assert throttle.retry_after("user9", "198.51.100.9", now) == 50.0
    # Whoever has not failed still logs in at once.
    assert throttle.retry_after("alice", "192.0.2.1", now) == 0
    assert throttle.retry_after("user0", "198.51.100.0", T0 + 60 * S) == 0


def test_memory_stays_bounded_whatever_the_number_of_pairs() -> None:
    throttle = Throttle(max_keys=100, global_limit=100_000)
    for i in range(5_000):
        throttle.failed(f"u{i}", f"10.0.{i // 256}.{i % 256}", T0)
    assert len(throttle) == 100
    # The most recent pairs are kept.
    for _ in range(2):
        throttle.failed("u4999", "10.0.19.135", T0)
    assert throttle.retry_after("u4999", "10.0.19.135", T0) == 1.0
