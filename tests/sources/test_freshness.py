"""sources/freshness.py: one answer to "is this feed stale?", and every place that shows it
agreeing with the daemon's ``feed_stale``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from custody_watch.daemon.cycle import run_cycle
from custody_watch.sources.freshness import Status, freshness
from custody_watch.store.schema import AlertRow
from fakes.twilio_api import FakeTwilio

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
NOW = datetime(2026, 12, 3, 21, 30, tzinfo=UTC)


@dataclass(frozen=True)
class State:
    first_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_data_at: datetime | None = None


@dataclass(frozen=True)
class Settings:
    stale_after: timedelta = 15 * M
    expect_data_within: timedelta | None = None


def test_a_source_with_no_state_has_never_been_polled_and_is_not_stale() -> None:
    fresh = freshness(None, Settings(), NOW)
    assert fresh.status is Status.NEVER_POLLED
    assert not fresh.stale
    assert fresh.lag(NOW) is None


def test_a_source_heard_from_within_stale_after_is_fresh() -> None:
    fresh = freshness(State(NOW - H, NOW - 14 * M, NOW - H), Settings(), NOW)
    assert fresh.status is Status.FRESH
    assert fresh.since is None
    assert fresh.lag(NOW) == 14 * M
    assert fresh.reason == "last heard 14m ago"


def test_a_source_silent_for_stale_after_is_stale_since_it_was_last_heard() -> None:
    fresh = freshness(State(NOW - H, NOW - 15 * M, NOW - 20 * M), Settings(), NOW)
    assert fresh.stale
    assert fresh.since == NOW - 15 * M
    assert fresh.reason == ("nothing new and no successful poll for 15m, since Thu 3 Dec 21:15 GMT")


def test_new_data_counts_as_a_sign_of_life_even_when_the_poll_is_reported_failed() -> None:
    fresh = freshness(State(NOW - H, NOW - H, NOW - 5 * M), Settings(), NOW)
    assert not fresh.stale
    assert fresh.last_heard == NOW - 5 * M


def test_a_source_polled_but_never_answering_is_stale_from_its_first_poll() -> None:
    assert not freshness(State(first_poll_at=NOW - 10 * M), Settings(), NOW).stale
    fresh = freshness(State(first_poll_at=NOW - 20 * M), Settings(), NOW)
    assert fresh.stale
    assert fresh.since == NOW - 20 * M
    assert fresh.last_heard is None
    assert fresh.reason.startswith("no successful poll for 20m")


def test_answering_without_new_records_is_stale_only_where_expect_data_within_is_set() -> None:
    # 174 days of empty, successful polls: the case the issue found on the board.
    state = State(NOW - 200 * D, NOW - M, NOW - 174 * D)
    assert not freshness(state, Settings(), NOW).stale
    fresh = freshness(state, Settings(expect_data_within=D), NOW)
    assert fresh.stale
    assert fresh.since == NOW - 174 * D
    assert fresh.lag(NOW) == M  # the source does answer
    assert "no new records for 174d" in fresh.reason


def test_expect_data_within_counts_from_the_first_poll_when_no_data_ever_came() -> None:
    state = State(first_poll_at=NOW - 2 * D, last_success_at=NOW - M)
    fresh = freshness(state, Settings(expect_data_within=D), NOW)
    assert fresh.stale
    assert fresh.since == NOW - 2 * D


def test_stale_after_wins_over_expect_data_within_and_says_since_the_last_sign_of_life() -> None:
    state = State(NOW - 10 * D, NOW - H, NOW - 5 * D)
    fresh = freshness(state, Settings(expect_data_within=D), NOW)
    assert fresh.since == NOW - H
    assert fresh.reason.startswith("nothing new and no successful poll for 1h")


def test_a_time_ahead_of_now_on_a_replay_is_fresh_with_no_negative_lag() -> None:
    fresh = freshness(State(NOW, NOW + H, NOW + H), Settings(), NOW)
    assert not fresh.stale
    assert fresh.lag(NOW) == timedelta(0)


# --- every place agrees ----------------------------------------------------------------------


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.mark.parametrize("expect_data_within", [None, "1d"])
def test_the_cycle_the_pages_healthz_metrics_and_the_cli_agree_on_a_174_day_old_feed(
    tmp_path: Path,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    expect_data_within: str | None,
) -> None:
    from cli.support import cli
    from web import support

    if expect_data_within is not None:
        config = support.CONFIG.replace(
            'stale_after = "15m"',
            f'stale_after = "15m"\nexpect_data_within = "{expect_data_within}"',
        )
        monkeypatch.setattr(support, "CONFIG", config)
    site = support.make_site(tmp_path, twilio)
    site.add_user("alice", "inspector", "insp-a")
    try:
        # The drop folder answers every poll for 174 days with nothing new.
        later = support.T0 + 174 * D
        site.clock.set(later)
        run_cycle(site.ctx, later, poll_all=True)
        stale = expect_data_within is not None

        with site.ctx.sessions() as session:
            alert = session.scalar(
                select(AlertRow).where(AlertRow.live_key == "feed_stale:suite-a")
            )
        assert (alert is not None) is stale  # the daemon's feed_stale

        assert site.login("alice").status_code == 303  # /healthz details are for users
        health = site.client.get("/healthz").json()
        assert health["sources"]["suite-a"]["status"] == ("stale" if stale else "ok")

        metrics = site.client.get("/metrics").text
        value = re.search(r'custody_watch_source_stale\{source="suite-a"\} (\S+)', metrics)
        assert value is not None and float(value[1]) == (1.0 if stale else 0.0)

        sources = site.client.get("/sources").text
        assert ('class="badge sev-high">stale<' in sources) is stale
        board = site.client.get("/").text
        assert ('id="stale-banner"' in board) is stale
        if stale:
            assert "no new records for 174d" in sources
            assert "no new records for 174d" in board

        config_file = tmp_path / "cw.toml"
        config_file.write_text(
            support.CONFIG.format(
                database_url=f"sqlite:///{tmp_path / 'cw.db'}",
                public=support.PUBLIC,
                metrics_public="true",
                extra_web="",
                inbox=tmp_path / "inbox",
                account_sid=twilio.account_sid,
                from_number=twilio.from_number,
                api=twilio.url,
            ),
            encoding="utf-8",
        )
        code, out, _ = cli(
            capsys, "sources", "--config", str(config_file), "--now", later.isoformat(),
            "--format", "json",
        )  # fmt: skip
        assert code == 0
        assert f'"status": "{"stale" if stale else "ok"}"' in out
    finally:
        site.client.close()
        site.ctx.engine.dispose()
