"""/healthz and /metrics: the details of /healthz for a logged-in user (anyone else gets the
status and the checks' names), /metrics behind a login or a bearer token when configured,
and suite labels bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from custody_watch.liveness import DaemonStatus, Heartbeat
from custody_watch.web.app import create_app
from fakes.twilio_api import FakeTwilio

from .support import Site, make_site


def logged_in(site: Site) -> Site:
    """The site's client, logged in: /healthz's details are for users."""
    assert site.login("alice").status_code == 303
    return site


def as_user(site: Site, app: object) -> TestClient:
    """A client of another app on the same store, with the site's logged-in session."""
    return TestClient(app, cookies={"cw_session": site.client.cookies["cw_session"]})  # type: ignore[arg-type]


def test_healthy(site: Site) -> None:
    logged_in(site)
    response = site.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["sources"]["suite-a"]["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"


def test_a_stale_source_is_a_problem(site: Site) -> None:
    logged_in(site)
    site.clock.advance(timedelta(minutes=16))  # stale_after = 15m
    response = site.client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert any(p.startswith("source suite-a: stale") for p in body["problems"])


def test_no_heartbeat_is_a_problem(site: Site) -> None:
    logged_in(site)
    site.ticks[0] = 10_000.0  # real seconds since the last cycle
    body = site.client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert any(p.startswith("scheduler: the last cycle finished") for p in body["problems"])
    # A scheduler that never finished a cycle since it started.
    ticks = [0.0]
    fresh = Heartbeat(monotonic=lambda: ticks[0])
    with as_user(site, create_app(replace(site.web, heartbeat=fresh))) as client:
        assert client.get("/healthz").status_code == 200  # just started: give it time
        ticks[0] = 1_000.0
        response = client.get("/healthz")
        assert response.status_code == 503
        assert "no cycle has finished" in response.json()["problems"][0]


def test_a_failed_cycle_is_a_problem(site: Site) -> None:
    logged_in(site)
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
        # No login can be checked either: anyone sees which check failed, not why.
        assert response.json()["problems"] == ["database"]
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "custody_watch_database_up 0.0" in metrics.text


def test_without_a_scheduler_in_the_process(site: Site) -> None:
    logged_in(site)
    with as_user(site, create_app(replace(site.web, heartbeat=None))) as client:
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
    logged_in(site)
    return as_user(site, create_app(replace(site.web, heartbeat=heartbeat))), status, ticks


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
    logged_in(site)
    from custody_watch.store import outbox

    with site.ctx.sessions.begin() as session:
        session.add(
            outbox.pending(
                outbox.Route(
                    dedupe_key="test:overdue",
                    alert_id=None,
                    purpose="ops_notice",
                    person_id="ops",
                    channel="sms",
                    address="+447700900003",
                ),
                outbox.Body(subject="s", text="b"),
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


# --- what anyone may see, and what only a user may --------------------------------------


def with_a_failing_source(site: Site) -> None:
    """The source's last error quotes its URL with a password and an API key (as rows kept
    from before errors were redacted at the source may)."""
    from custody_watch.store import sources

    with site.ctx.sessions.begin() as session:
        state = sources.state(session, "suite-a", "csv_folder")
        state.last_error = "HTTPError: 401 from https://feed:pa55word@feed.example/v1?api_key=K3Y"
        state.failures = 4
    site.clock.advance(timedelta(minutes=16))


def test_without_a_login_healthz_gives_the_status_and_check_names_only(site: Site) -> None:
    with_a_failing_source(site)
    response = site.client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "status": "degraded",
        "problems": ["source suite-a"],
        "checks": {
            "database": "ok",
            "outbox": "ok",
            "source suite-a": "failing",
            "scheduler": "ok",
        },
    }
    for private in ("feed.example", "K3Y", "pa55word", "401", "http"):
        assert private not in response.text


def test_when_healthy_anyone_sees_ok_and_the_checks(site: Site) -> None:
    response = site.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "outbox": "ok", "source suite-a": "ok", "scheduler": "ok"},
    }


def test_a_user_sees_the_details_with_the_urls_secrets_redacted(site: Site) -> None:
    with_a_failing_source(site)
    logged_in(site)
    response = site.client.get("/healthz")
    assert response.status_code == 503
    source = response.json()["sources"]["suite-a"]
    assert source["failures"] == 4
    assert source["last_error"] == "HTTPError: 401 from https://…@feed.example/v1?…"
    assert "K3Y" not in response.text and "pa55word" not in response.text


def test_healthz_takes_http_basic_for_the_details(site: Site) -> None:
    import base64

    from .support import PASSWORD

    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    body = site.client.get("/healthz", headers={"Authorization": f"Basic {basic}"}).json()
    assert body["sources"]["suite-a"]["status"] == "ok"


def test_metrics_with_a_token_need_it_as_a_bearer(site: Site) -> None:
    app = create_app(replace(site.web, metrics_token="scrape-token-0123456789"))
    client = TestClient(app)
    assert client.get("/metrics").status_code == 401
    for wrong in ("Bearer nope", "Bearer scrape-token-012345678", "Basic scrape-token-0123456789"):
        refused = client.get("/metrics", headers={"Authorization": wrong})
        assert refused.status_code == 401, wrong
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "custody_watch_" not in refused.text
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200 and "custody_watch_children_in_custody 2.0" in ok.text
    # A login is not the token: a scraper holds the token, people hold logins.
    site.login("alice", client=client)
    assert client.get("/metrics").status_code == 401


def test_the_metrics_token_comes_from_the_environment_variable_named(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    from custody_watch.daemon.web_side import build_web_context
    from custody_watch.errors import ConfigError

    site = make_site(tmp_path, twilio)
    settings = site.ctx.settings.model_copy(
        update={"web": site.ctx.settings.web.model_copy(update={"metrics_token_env": "CW_T"})}
    )
    ctx = replace(site.ctx, settings=settings)
    env = {"CUSTODY_WATCH_SECRET_KEY": "web-tests-signing-key-0123456789"}
    assert build_web_context(ctx, {**env, "CW_T": "tok-0123456789"}).metrics_token == (
        "tok-0123456789"
    )
    try:
        build_web_context(ctx, env)
    except ConfigError as exc:
        assert "CW_T is not set" in str(exc)
    else:
        raise AssertionError("an unset token must not leave /metrics open")
    site.ctx.engine.dispose()


def test_suite_labels_are_the_configs_and_at_most_a_cap_of_the_feeds_the_rest_other() -> None:
    from custody_watch.web.metrics import suite_counts

    feed = [(f"S-{i:03}", 1) for i in range(300)] + [("big", 50), ("ours", 2), ('x"}\n', 7)]
    counts = dict(suite_counts(feed, known=["ours", "quiet"], cap=10))
    assert len(counts) == 11  # ten labels and "other"
    assert counts["ours"] == 2 and counts["big"] == 50  # the config's; the largest
    assert "quiet" not in counts  # no child there now: no series
    assert 'x"}\n' not in counts  # never text a label cannot hold
    assert counts["other"] == 300 - 8 + 7
    assert sum(counts.values()) == sum(n for _, n in feed)
    assert suite_counts([("suite-a", 1)], known=[]) == [("suite-a", 1)]


def test_the_suite_labels_in_a_scrape(site: Site) -> None:
    text = site.client.get("/metrics").text
    assert 'custody_watch_suite_children_in_custody{suite="suite-a"} 1.0' in text
    assert 'custody_watch_suite_children_in_custody{suite="suite-b"} 1.0' in text
