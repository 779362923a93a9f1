from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from custody_watch.errors import ConfigError
from custody_watch.sources.base import SourceError
from custody_watch.sources.http_json import HttpJsonFeed

from .conftest import SeenSet
from .feed_server import FeedServer, Reply

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TOKEN_ENV = "CUSTODY_WATCH_HTTP_TOKEN"


def record(ref: str, updated_at: str | None = None) -> dict[str, object]:
    values: dict[str, object] = {
        "custody_ref": ref,
        "suite": "S1",
        "arrival_time": "2026-06-10T08:00:00Z",
    }
    if updated_at is not None:
        values["updated_at"] = updated_at
    return values


class Sleeps(list[float]):
    """Records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def feed(server: FeedServer, path: str = "/feed", **kwargs: Any) -> HttpJsonFeed:
    kwargs.setdefault("env", {TOKEN_ENV: "s3cret"})
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("jitter", lambda: 0.5)
    return HttpJsonFeed("feed", server.url(path), **kwargs)


def refs(result: Any) -> list[str]:
    return [str(row.values["custody_ref"]) for b in result.batches for row in b.rows]


def test_it_sends_the_bearer_token_and_asks_since_the_watermark(
    feed_server: FeedServer,
) -> None:
    feed_server.script("/feed", Reply(body=[record("C-1", "2026-06-10T08:00:00Z")]))
    source = feed(feed_server)

    first = source.poll(None, SeenSet(), NOW)
    second = source.poll(first.watermark, SeenSet(), NOW)

    assert refs(first) == ["C-1"]
    assert first.watermark == "2026-06-10T08:00:00Z"
    one, two = feed_server.requests
    assert one.headers["Authorization"] == "Bearer s3cret"
    assert "since" not in one.query
    assert two.query["since"] == ["2026-06-10T08:00:00Z"]
    assert refs(second) == ["C-1"]


def test_a_since_already_in_the_url_is_replaced_not_repeated(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(body=[]))

    feed(feed_server, path="/feed?since=old&area=north").poll("new", SeenSet(), NOW)

    assert feed_server.requests[0].query == {"since": ["new"], "area": ["north"]}


def test_without_the_token_variable_it_sends_no_authorization(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(body=[]))

    feed(feed_server, env={}).poll(None, SeenSet(), NOW)

    assert "Authorization" not in feed_server.requests[0].headers


def test_it_follows_next_links_and_keeps_the_latest_updated_at(feed_server: FeedServer) -> None:
    # 08:30+01:00 is 07:30Z, earlier than 07:45Z although it sorts later as text.
    feed_server.script(
        "/feed",
        Reply(body={"records": [record("C-1", "2026-06-10T07:45:00Z")], "next": "page2?c=x"}),
    )
    feed_server.script(
        "/page2",
        Reply(
            body={
                "records": [record("C-2", "2026-06-10T08:30:00+01:00")],
                "next": feed_server.url("/page3"),
            }
        ),
    )
    feed_server.script("/page3", Reply(body={"records": [], "next": None}))

    result = feed(feed_server).poll(None, SeenSet(), NOW)

    assert [len(b.rows) for b in result.batches] == [1, 1]  # an empty page is no batch
    assert result.batches[1].label == feed_server.url("/page2?c=x")
    assert refs(result) == ["C-1", "C-2"]
    assert result.watermark == "2026-06-10T07:45:00Z"
    assert not result.more and not result.problems
    assert len(feed_server.requests) == 3
    assert all(r.headers["Authorization"] == "Bearer s3cret" for r in feed_server.requests)


def test_a_record_that_is_not_an_object_becomes_a_row_with_a_problem(
    feed_server: FeedServer,
) -> None:
    feed_server.script("/feed", Reply(body=[record("C-1"), "oops", None]))

    rows = feed(feed_server).poll(None, SeenSet(), NOW).batches[0].rows

    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[0].problem is None
    assert rows[1].problem == "row: not a JSON object (got str)"
    assert rows[2].problem == "row: not a JSON object (got null)"


def test_records_without_updated_at_move_the_watermark_to_now(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(body=[record("C-1")]))

    assert feed(feed_server).poll("2026-06-10T01:00:00Z", SeenSet(), NOW).watermark == (
        "2026-06-10T12:00:00Z"
    )


def test_an_empty_answer_keeps_the_watermark(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(body=[]))

    result = feed(feed_server).poll("2026-06-10T01:00:00Z", SeenSet(), NOW)

    assert result.watermark == "2026-06-10T01:00:00Z"
    assert not result.batches


def test_a_server_error_is_retried_after_a_backoff(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(500, {"error": "busy"}), Reply(body=[record("C-1")]))
    sleeps = Sleeps()

    result = feed(feed_server, sleep=sleeps, backoff=1.0).poll(None, SeenSet(), NOW)

    assert refs(result) == ["C-1"]
    assert sleeps == [0.75]  # first step 1s: half fixed, half jittered (0.5 here)


def test_backoff_grows_exponentially_and_stays_jittered(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(503))
    sleeps = Sleeps()

    with pytest.raises(SourceError, match="failed after 4 attempt"):
        feed(feed_server, sleep=sleeps, retries=3, jitter=lambda: 1.0).poll(None, SeenSet(), NOW)

    assert sleeps == [1.0, 2.0, 4.0]
    assert len(feed_server.requests) == 4


def test_too_many_requests_waits_as_long_as_retry_after_says(feed_server: FeedServer) -> None:
    feed_server.script(
        "/feed", Reply(429, headers={"Retry-After": "7"}), Reply(body=[record("C-1")])
    )
    sleeps = Sleeps()

    result = feed(feed_server, sleep=sleeps).poll(None, SeenSet(), NOW)

    assert sleeps == [7.0]
    assert refs(result) == ["C-1"]


def test_a_retry_after_longer_than_a_poll_should_wait_fails_the_poll_at_once(
    feed_server: FeedServer,
) -> None:
    feed_server.script("/feed", Reply(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()

    with pytest.raises(SourceError, match="asked to wait 3600s") as caught:
        feed(feed_server, sleep=sleeps).poll(None, SeenSet(), NOW)

    assert caught.value.transient and sleeps == []


@pytest.mark.parametrize(
    ("status", "why"), [(401, "token was refused"), (403, "not allowed"), (404, "no feed")]
)
def test_refusals_fail_at_once_as_not_transient(
    feed_server: FeedServer, status: int, why: str
) -> None:
    feed_server.script("/feed", Reply(status))

    with pytest.raises(SourceError, match=f"HTTP {status}, .*{why}") as caught:
        feed(feed_server).poll(None, SeenSet(), NOW)

    assert not caught.value.transient
    assert len(feed_server.requests) == 1


def test_a_server_that_hangs_fails_the_poll_as_transient_within_the_timeouts(
    feed_server: FeedServer,
) -> None:
    feed_server.script("/feed", Reply(body=[], hang=10))
    sleeps = Sleeps()
    started = time.monotonic()

    with pytest.raises(SourceError, match=r"no answer within 0\.3s") as caught:
        feed(feed_server, timeout=0.3, retries=1, sleep=sleeps).poll(None, SeenSet(), NOW)

    assert caught.value.transient
    assert time.monotonic() - started < 3
    assert len(sleeps) == 1


def test_a_server_that_is_not_listening_fails_the_poll_as_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = HttpJsonFeed("feed", f"http://127.0.0.1:{port}/feed", retries=1, sleep=Sleeps())

    with pytest.raises(SourceError, match="cannot connect") as caught:
        source.poll(None, SeenSet(), NOW)

    assert caught.value.transient


def test_a_first_page_that_is_not_json_fails_the_poll(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(raw=b"<html>maintenance</html>"))

    with pytest.raises(SourceError, match="not JSON") as caught:
        feed(feed_server).poll(None, SeenSet(), NOW)

    assert caught.value.transient


def test_a_bad_later_page_keeps_the_pages_read_and_the_old_watermark(
    feed_server: FeedServer,
) -> None:
    feed_server.script(
        "/feed",
        Reply(body={"records": [record("C-1", "2026-06-10T09:00:00Z")], "next": "/broken"}),
    )
    feed_server.script("/broken", Reply(body={"items": []}))

    result = feed(feed_server).poll("2026-06-10T01:00:00Z", SeenSet(), NOW)

    assert refs(result) == ["C-1"]
    assert result.watermark == "2026-06-10T01:00:00Z"
    assert len(result.problems) == 1 and "'records' list" in result.problems[0]


def test_paging_is_bounded_and_says_there_is_more(feed_server: FeedServer) -> None:
    for n in range(5):
        feed_server.script(
            f"/p{n}", Reply(body={"records": [record(f"C-{n}")], "next": f"/p{n + 1}"})
        )

    result = feed(feed_server, path="/p0", max_pages=3).poll(None, SeenSet(), NOW)

    assert refs(result) == ["C-0", "C-1", "C-2"]
    assert result.more


def test_a_next_link_back_to_a_page_already_read_stops_paging(feed_server: FeedServer) -> None:
    feed_server.script("/feed", Reply(body={"records": [record("C-1")], "next": "/feed"}))

    result = feed(feed_server).poll(None, SeenSet(), NOW)

    assert refs(result) == ["C-1"]
    assert "leads back to a page read" in result.problems[0]
    assert len(feed_server.requests) == 1


def test_a_url_that_is_not_http_is_refused_when_built() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        HttpJsonFeed("feed", "file:///etc/passwd")
