"""/healthz and /metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from custody_watch.daemon.status import DaemonStatus
from custody_watch.web.app import create_app
from custody_watch.web.health import Heartbeat
from fakes.twilio_api import FakeTwilio

from .support import Site, make_site


def test_healthy(site: Site) -> None:
    response = site.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["sources"]["suite-a"]["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"


def test_a_stale_source_is_a_problem(site: Site) -> None:
    site.clock.advance(timedelta(minutes=16))  # stale_after = 15m
    response = site.client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert any(p.startswith("source suite-a: stale") for p in body["problems"])


def test_no_heartbeat_is_a_problem(site: Site) -> None:
    site.ticks[0] = 10_000.0  # real seconds since the last cycle
    body = site.client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert any(p.startswith("scheduler: the last cycle finished") for p in body["problems"])
    # A scheduler that never finished a cycle since it started.
    ticks = [0.0]
    fresh = Heartbeat(monotonic=lambda: ticks[0])
    with TestClient(create_app(replace(site.web, heartbeat=fresh))) as client:
        assert client.get("/healthz").status_code == 200  # just started: give it time
        ticks[0] = 1_000.0
        response = client.get("/healthz")
        assert response.status_code == 503
        assert "no cycle has finished" in response.json()["problems"][0]


def test_a_failed_cycle_is_a_problem(site: Site) -> None:
    assert site.web.heartbeat is not None
    site.web.heartbeat.beat(site.clock.now(), 1.0, ok=False)
    response = site.client.get("/healthz")
    assert response.status_code == 503
    assert "the last cycle failed" in " ".join(response.json()["problems"])


def test_database_down(site: Site, tmp_path: Path) -> None:
    broken = sessionmaker(create_engine(f"sqlite:///{tmp_path}/no/such/dir/cw.db"))
    app = create_app(replace(site.web, sessions=broken))
    with TestClient(app) as client:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["problems"][0].startswith("database:")
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "custody_watch_database_up 0.0" in metrics.text


def test_without_a_scheduler_in_the_process(site: Site) -> None:
    with TestClient(create_app(replace(site.web, heartbeat=None))) as client:
        body = client.get("/healthz").json()
        assert body["status"] == "ok"
        assert body["scheduler"]["status"] == "not in this process"


def test_metrics(site: Site) -> None:
    response = site.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    names = {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert names and all(name.startswith("custody_watch_") for name in names)
    for expected in (
        "custody_watch_children_in_custody 2.0",
        'custody_watch_open_alerts{severity="critical"} 1.0',
        "custody_watch_outbox_depth 0.0",
        "custody_watch_outbox_oldest_pending_age_seconds 0.0",
        'custody_watch_sends_total{channel="sms",result="sent"} 1.0',
        'custody_watch_source_lag_seconds{source="suite-a"} 0.0',
        "custody_watch_cycle_duration_seconds_count 1.0",
        "custody_watch_cycle_duration_seconds_sum 0.25",
    ):
        assert expected in text, expected
    site.clock.advance(timedelta(minutes=5))
    assert (
        'custody_watch_source_lag_seconds{source="suite-a"} 300.0'
        in site.client.get("/metrics").text
    )


def test_metrics_behind_the_login_when_configured(tmp_path: Path, twilio: FakeTwilio) -> None:
    site = make_site(tmp_path, twilio, metrics_public=False)
    assert site.client.get("/metrics").status_code == 401
    site.add_user("prometheus", "viewer")
    site.login("prometheus")
    assert site.client.get("/metrics").status_code == 200
    site.ctx.engine.dispose()


def test_each_app_has_its_own_registry(site: Site) -> None:
    other = create_app(site.web)
    assert other.state.registry is not site.app.state.registry


# --- the daemon's own trouble: hung ticks, a store that takes no writes, dead channels ----


def with_daemon(site: Site) -> tuple[TestClient, DaemonStatus, list[float]]:
    """The site with a daemon status on a clock the test moves (real seconds)."""
    ticks = [100.0]
    status = DaemonStatus(tick_seconds=2.0, monotonic=lambda: ticks[0])
    heartbeat = Heartbeat(monotonic=lambda: ticks[0], daemon=status)
    heartbeat.beat(site.clock.now(), 0.25)
    status.wrote()
    return TestClient(create_app(replace(site.web, heartbeat=heartbeat))), status, ticks


def problems(client: TestClient) -> tuple[int, list[str]]:
    response = client.get("/healthz")
    return response.status_code, response.json().get("problems", [])


def test_a_tick_running_for_more_than_two_ticks_is_a_problem_while_it_lasts(site: Site) -> None:
    client, status, ticks = with_daemon(site)
    status.job_started("tick")
    ticks[0] += 3.0
    assert problems(client)[0] == 200
    ticks[0] += 2.0  # 5 s: more than two ticks (4 s)
    status.wrote()  # the heartbeat still writes: only the tick hangs
    code, found = problems(client)
    assert code == 503
    assert any("a tick has been running for 5s" in p for p in found)
    assert 'custody_watch_job_running_seconds{job="tick"} 5.0' in client.get("/metrics").text
    status.job_finished("tick", error="OperationalError: canceling statement due to lock timeout")
    assert problems(client)[0] == 200
    assert 'custody_watch_job_overruns_total{job="tick"} 1.0' in client.get("/metrics").text


def test_a_store_that_took_no_write_for_two_ticks_is_a_problem(site: Site) -> None:
    client, status, ticks = with_daemon(site)
    ticks[0] += 4.5
    status.job_finished("tick", error="InsufficientPrivilege: permission denied for table")
    code, found = problems(client)
    assert code == 503
    assert any(
        p.startswith("store: the last successful write was 4s ago") and "permission denied" in p
        for p in found
    ), found
    assert "custody_watch_daemon_healthy 0.0" in client.get("/metrics").text
    status.wrote()
    assert problems(client)[0] == 200
    assert "custody_watch_daemon_healthy 1.0" in client.get("/metrics").text


def test_a_channel_that_failed_its_last_three_tries_is_a_problem_until_one_works(
    site: Site,
) -> None:
    client, status, _ticks = with_daemon(site)
    now = site.clock.now()
    for _ in range(2):
        status.channels.failed("sms", now, "Twilio 503")
    assert problems(client)[0] == 200
    status.channels.failed("sms", now, "Twilio 503")
    code, found = problems(client)
    assert code == 503
    assert "channel sms: the last 3 tries failed (Twilio 503)" in found
    metrics = client.get("/metrics").text
    assert 'custody_watch_channel_consecutive_failures{channel="sms"} 3.0' in metrics
    status.channels.ok("sms", now)
    assert problems(client)[0] == 200


def test_outbox_rows_overdue_by_more_than_a_minute_are_a_problem(site: Site) -> None:
    from custody_watch.store import outbox

    with site.ctx.sessions.begin() as session:
        session.add(
            outbox.pending(
                dedupe_key="test:overdue",
                alert_id=None,
                purpose="ops_notice",
                person_id="ops",
                channel="sms",
                address="+447700900003",
                level=None,
                subject="s",
                body_text="b",
                body_html=None,
                max_attempts=5,
                now=site.clock.now(),
            )
        )
    assert site.client.get("/healthz").status_code == 200  # due now: not overdue yet
    site.clock.advance(timedelta(seconds=61))
    response = site.client.get("/healthz")
    assert response.status_code == 503
    assert "outbox: 1 messages overdue by more than 1m" in response.json()["problems"]
    assert "custody_watch_outbox_overdue 1.0" in site.client.get("/metrics").text
