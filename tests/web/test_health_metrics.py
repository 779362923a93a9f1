"""/healthz and /metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

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
