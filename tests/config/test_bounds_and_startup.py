"""Dangerous values are refused naming the key: a zero wait, interval, timeout or repeat, a
duration over 366 days, an unparseable ``web.listen``; and what the daemon's start checks
beyond the file (``check_startup``): unreadable secret files, half-set logins, a database
driver that is not installed. The shared example is still accepted as it is."""

from __future__ import annotations

import copy
import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import pytest

from custody_watch.config import parse_settings
from custody_watch.daemon.startup import check_database_driver, check_startup
from custody_watch.errors import ConfigError

EXAMPLE = Path(__file__).parents[3] / "shared/spec/config-example.toml"


@pytest.fixture
def example() -> dict[str, Any]:
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example config is not at {EXAMPLE}")
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, origin="test.toml")
    return str(caught.value)


def changed(example: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """``example`` with the value at a dotted path (``a.b[0].c``) replaced."""
    data = copy.deepcopy(example)
    node: Any = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    "key",
    [
        "escalation.critical.repeat_every",
        "escalation.high.levels[0].wait",
        "escalation.warning.ack_timeout",
        "sources[0].poll_every",
        "sources[0].stale_after",
        "channels.sms.timeout",
        "channels.email.timeout",
        "web.ack_link_ttl",
    ],
)
def test_a_zero_wait_interval_timeout_or_repeat_is_refused_naming_the_key(
    example: dict[str, Any], key: str
) -> None:
    assert refused(changed(example, key, "0s")) == f"test.toml: {key}: must be more than 0"


@pytest.mark.parametrize("value", ["367d", "99999999d", "9999999999999d"])
@pytest.mark.parametrize(
    "key",
    [
        "rules.child_detention_duration.critical_after",
        "escalation.critical.repeat_every",
        "sources[0].stale_after",
    ],
)
def test_a_duration_over_366_days_is_refused_naming_the_key(
    example: dict[str, Any], key: str, value: str
) -> None:
    message = refused(changed(example, key, value))
    assert message.startswith(f"test.toml: {key}: must be at most 366 days")


def test_a_year_and_zero_where_zero_means_none_are_accepted(example: dict[str, Any]) -> None:
    data = changed(example, "rules.pace_limit.warning_before", "0s")
    data = changed(data, "rules.child_detention_duration.critical_after", "366d")
    data = changed(data, "sources[0].settle_time", "0s")
    settings = parse_settings(data)
    assert settings.rules.pace_limit.warning_before.total_seconds() == 0
    assert settings.rules.child_detention_duration.critical_after.days == 366


@pytest.mark.parametrize(
    ("listen", "why"),
    [
        ("nonsense", "not host:port"),
        ("127.0.0.1", "not host:port"),
        (":8080", "not host:port"),
        ("127.0.0.1:http", "not host:port"),
        ("127.0.0.1:70000", "port must be 1 to 65535"),
        ("::1:8080", "IPv6 host goes in brackets"),
        ("127.0.0.1:٨٠", "not host:port"),  # Arabic-Indic digits are not a port
    ],
)
def test_an_unparseable_listen_address_is_refused(
    example: dict[str, Any], listen: str, why: str
) -> None:
    message = refused(changed(example, "web.listen", listen))
    assert message.startswith("test.toml: web.listen: ") and why in message


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "[::1]:8080", "localhost:1", "127.0.0.1:0"])
def test_a_host_and_port_are_accepted(example: dict[str, Any], listen: str) -> None:
    assert parse_settings(changed(example, "web.listen", listen)).web.listen == listen


def test_the_example_starts_with_only_a_warning_that_sms_will_be_printed(
    example: dict[str, Any],
) -> None:
    settings = parse_settings(example)
    assert check_startup(settings, {}) == [
        "channels.sms: CUSTODY_WATCH_TWILIO_AUTH_TOKEN is not set: SMS will be printed on the "
        "console, not sent"
    ]
    assert check_startup(settings, {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN": "t" * 32}) == []


def startup_error(settings_data: dict[str, Any], env: dict[str, str]) -> str:
    settings = parse_settings(settings_data)
    with pytest.raises(ConfigError) as caught:
        check_startup(settings, env)
    return str(caught.value)


def test_a_secret_file_that_does_not_exist_is_refused_naming_the_variable(
    example: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-token"
    message = startup_error(example, {"CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE": str(missing)})
    assert message.startswith("channels.sms: CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE: cannot read")
    message = startup_error(example, {"CUSTODY_WATCH_SECRET_KEY_FILE": str(missing)})
    assert message.startswith("CUSTODY_WATCH_SECRET_KEY_FILE: cannot read")


def test_an_smtp_login_without_its_password_is_refused(example: dict[str, Any]) -> None:
    message = startup_error(example, {"CUSTODY_WATCH_SMTP_USERNAME": "relay"})
    assert message == (
        "channels.email: CUSTODY_WATCH_SMTP_USERNAME is set but CUSTODY_WATCH_SMTP_PASSWORD is not"
    )
    message = startup_error(example, {"CUSTODY_WATCH_SMTP_PASSWORD": "secret"})
    assert "CUSTODY_WATCH_SMTP_PASSWORD is set but CUSTODY_WATCH_SMTP_USERNAME is not" in message


def test_an_http_source_token_file_that_does_not_exist_is_refused_naming_the_source(
    example: dict[str, Any], tmp_path: Path
) -> None:
    data = copy.deepcopy(example)
    data["sources"].append(
        {"name": "api", "kind": "http_json", "url": "https://feed.example/records"}
    )
    message = startup_error(data, {"CUSTODY_WATCH_HTTP_TOKEN_FILE": str(tmp_path / "none")})
    assert message.startswith("sources[1].token_env: CUSTODY_WATCH_HTTP_TOKEN_FILE: cannot read")


@pytest.mark.skipif(
    importlib.util.find_spec("MySQLdb") is not None, reason="mysqlclient is installed here"
)
def test_a_database_whose_driver_is_not_installed_is_refused_without_echoing_the_url(
    example: dict[str, Any],
) -> None:
    data = changed(example, "database.url", "mysql://cw:hunter2@db.example/cw")
    message = startup_error(data, {})
    assert message.startswith("database.url: the driver for 'mysql' is not installed")
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("nonsense", "database.url: not a database URL"),
        ("nosuchdb://h/db", "database.url: no database kind 'nosuchdb' is known"),
    ],
)
def test_a_database_url_that_names_nothing_usable_is_refused(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        check_database_driver(url)


def test_the_databases_the_store_runs_on_pass_the_driver_check(tmp_path: Path) -> None:
    check_database_driver(f"sqlite:///{tmp_path}/cw.db")
    check_database_driver("postgresql+psycopg://cw@127.0.0.1:1/none")  # never connected
