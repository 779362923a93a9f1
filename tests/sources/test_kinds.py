from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from custody_watch.config.load import parse_settings
from custody_watch.config.model import Source as SourceSettings
from custody_watch.sources.folder import DropFolder
from custody_watch.sources.http_json import HttpJsonFeed
from custody_watch.sources.kinds import KINDS, build_source
from custody_watch.sources.simulator import Simulator
from custody_watch.sources.sql import SqlTable

from .conftest import SeenSet
from .feed_server import FeedServer, Reply

NOW = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)


def settings_of(**source: object) -> SourceSettings:
    return parse_settings({"sources": [{"name": "s1", **source}]}).sources[0]


@pytest.mark.parametrize(
    ("source", "cls"),
    [
        ({"kind": "csv_folder", "path": "inbox"}, DropFolder),
        ({"kind": "jsonl", "path": "inbox"}, DropFolder),
        ({"kind": "sql", "url": "sqlite://", "table": "custody"}, SqlTable),
        ({"kind": "http_json", "url": "https://feed.example/records"}, HttpJsonFeed),
        ({"kind": "simulator"}, Simulator),
    ],
)
def test_each_kind_builds_its_source_under_the_configured_name(
    source: dict[str, object], cls: type
) -> None:
    built = build_source(settings_of(**source))

    assert isinstance(built, cls)
    assert built.name == "s1"


def test_every_configurable_kind_has_a_source() -> None:
    assert set(KINDS) == {"csv_folder", "jsonl", "sql", "http_json", "simulator"}


def test_a_jsonl_folder_reads_jsonl_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"custody_ref": "J-1"}\n')
    (tmp_path / "b.csv").write_text("custody_ref\nC-1\n")
    settings = settings_of(kind="jsonl", path=str(tmp_path))
    source = build_source(settings, sleep=lambda seconds: None)

    assert [b.label for b in source.poll(None, SeenSet(), NOW).batches] == ["a.jsonl"]


def test_the_http_token_comes_from_the_named_variable_of_the_given_environment(
    feed_server: FeedServer,
) -> None:
    feed_server.script("/feed", Reply(body=[]))
    settings = settings_of(kind="http_json", url=feed_server.url("/feed"), token_env="FEED_TOKEN")

    build_source(settings, env={"FEED_TOKEN": "abc"}).poll(None, SeenSet(), NOW)

    assert feed_server.requests[0].headers["Authorization"] == "Bearer abc"


def test_the_simulator_settings_reach_the_simulation() -> None:
    settings = settings_of(kind="simulator", seed=3, suites=["X9"], force="F1", child_share=0.5)

    rows = build_source(settings).poll(None, SeenSet(), NOW).batches[0].rows

    assert {r.values["suite"] for r in rows} == {"X9"}
    assert {r.values["force"] for r in rows} == {"F1"}
