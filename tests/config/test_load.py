"""Strict configuration: the shared example is accepted, the defaults are RULES.md's, and every
mistake is an error naming the key."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from custody_watch.config import (
    Settings,
    config_path,
    load_settings,
    parse_settings,
    read_settings,
    rules_policy,
)
from custody_watch.config.model import FolderSource
from custody_watch.config.rules import RulesSettings
from custody_watch.domain import Detention
from custody_watch.errors import ConfigError, CustodyWatchError
from custody_watch.rules import People, Policy, evaluate_all
from custody_watch.times import LONDON

EXAMPLE = Path(__file__).parents[3] / "shared/spec/config-example.toml"
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def example_text() -> str:
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example config is not at {EXAMPLE}")
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def example(example_text: str) -> dict[str, Any]:
    return tomllib.loads(example_text)


@pytest.fixture
def no_config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without config/custody-watch.toml and no environment variable."""
    monkeypatch.delenv("CUSTODY_WATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, origin="test.toml")
    message = str(caught.value)
    assert message.startswith("test.toml: ")
    assert "\n" not in message
    return message


# --- the shared example -----------------------------------------------------------------------


def test_the_shared_example_config_is_accepted_as_it_is(example_text: str) -> None:
    settings = read_settings(EXAMPLE)
    assert settings.timezone == "Europe/London"
    assert settings.scope.people == "children"
    assert [s.name for s in settings.sources] == ["suite-a"]
    assert settings.sources[0].poll_every == M
    assert settings.sources[0].stale_after == 15 * M
    assert set(settings.channels) == {"console", "sms", "email"}
    assert [p.id for p in settings.people] == ["insp-a", "supt-b", "ops"]
    assert [r.role for r in settings.rota] == ["duty_inspector", "superintendent", "operations"]
    assert settings.escalation["high"].levels[1].wait == 30 * M
    assert settings.escalation["critical"].repeat_every == 15 * M
    assert settings.digest.at == time(7, 0)
    assert settings.digest.recipients == ["supt-b"]


def test_the_shared_example_loads_when_named(example_text: str, no_config_env: Path) -> None:
    assert load_settings(EXAMPLE) == read_settings(EXAMPLE)


def test_the_shared_example_has_the_default_rule_thresholds(example_text: str) -> None:
    assert read_settings(EXAMPLE).rules == RulesSettings()


def test_the_example_config_copied_elsewhere_is_accepted(example_text: str, tmp_path: Path) -> None:
    path = tmp_path / "custody-watch.toml"
    path.write_text(example_text, encoding="utf-8")
    assert read_settings(path) == read_settings(EXAMPLE)


# --- defaults are exactly RULES.md ------------------------------------------------------------


RULES_MD_DEFAULTS: dict[str, dict[str, Any]] = {
    "pace_limit": {
        "basic_limit": 24 * H,
        "extension_cap": 36 * H,
        "warrant_cap": 96 * H,
        "warning_before": 3 * H,
        "high_before": 1 * H,
    },
    "review_overdue": {
        "first_review_after": 6 * H,
        "review_interval": 9 * H,
        "warning_before": 30 * M,
        "critical_after": 2 * H,
    },
    "child_detention_duration": {
        "warning_after": 8 * H,
        "high_after": 16 * H,
        "critical_after": 24 * H,
    },
    "post_charge_transfer": {"high_after": 1 * H, "critical_after": 4 * H},
    "place_of_safety_limit": {"limit": 24 * H, "extension_cap": 36 * H, "warning_before": 4 * H},
    "police_protection_at_station": {"critical_after": 2 * H},
    "police_protection_limit": {
        "warning_after": 48 * H,
        "high_after": 66 * H,
        "critical_after": 72 * H,
    },
    "appropriate_adult": {"warning_after": 1 * H, "high_after": 3 * H},
    "child_overnight": {"window_start": time(22, 0), "window_end": time(7, 0)},
    # v2
    "welfare_not_informed": {"warning_after": 1 * H, "high_after": 3 * H},
    "cell_visit_overdue": {"visit_interval": 30 * M, "high_after": 30 * M},
    "court_production_overdue": {"critical_after": 4 * H},
    "repeat_detention": {"lookback": 90 * 24 * H},
    "referral_missing": {"shown_for": 72 * H},
}
# The v2 settings that are not durations.
RULES_MD_OTHER_DEFAULTS: dict[str, dict[str, Any]] = {
    "repeat_detention": {"other_detentions": 2},
    "looked_after": {"raise_": True},
}


def test_the_rule_defaults_are_exactly_the_rules_md_thresholds() -> None:
    expected = copy.deepcopy(RULES_MD_DEFAULTS)
    for rule, values in RULES_MD_OTHER_DEFAULTS.items():
        expected.setdefault(rule, {}).update(values)
    assert Settings().rules.model_dump() == expected


def test_the_policy_from_default_settings_has_the_rules_md_thresholds() -> None:
    policy = rules_policy(Settings())
    for rule, thresholds in RULES_MD_DEFAULTS.items():
        for name, value in thresholds.items():
            assert getattr(getattr(policy, rule), name) == value, f"{rule}.{name}"
    assert policy == Policy()
    assert policy.people is People.CHILDREN
    assert policy.zone == LONDON


def test_the_other_defaults_are_the_documented_ones() -> None:
    settings = Settings()
    assert settings.timezone == "Europe/London"
    assert settings.scope.people == "children"
    assert settings.web.ack_link_ttl == 24 * H
    assert settings.digest.at == time(7, 0)
    for severity in ("warning", "high", "critical"):
        assert settings.escalation[severity].ack_timeout == 2 * H
    source = FolderSource(name="s", kind="csv_folder", path="in")
    assert source.stale_after == 15 * M  # feed_stale default in RULES.md
    assert source.poll_every == 1 * M


@pytest.mark.parametrize(
    ("rule", "name"),
    [(rule, name) for rule, fields in RULES_MD_DEFAULTS.items() for name in fields],
)
def test_every_threshold_can_be_changed_and_reaches_the_policy(
    example: dict[str, Any], rule: str, name: str
) -> None:
    is_time = isinstance(RULES_MD_DEFAULTS[rule][name], time)
    data = copy.deepcopy(example)
    data["rules"] = {rule: {name: "05:15" if is_time else "7h13m"}}
    policy = rules_policy(parse_settings(data))
    expected = time(5, 15) if is_time else timedelta(hours=7, minutes=13)
    assert getattr(getattr(policy, rule), name) == expected
    # Nothing else moved.
    for other_rule, thresholds in RULES_MD_DEFAULTS.items():
        for other, value in thresholds.items():
            if (other_rule, other) != (rule, name):
                assert getattr(getattr(policy, other_rule), other) == value


def test_the_v2_count_and_the_looked_after_raise_reach_the_policy(
    example: dict[str, Any],
) -> None:
    assert rules_policy(Settings()).repeat_detention.other_detentions == 2
    assert rules_policy(Settings()).looked_after_raise is True
    data = copy.deepcopy(example)
    data["rules"] = {"repeat_detention": {"other_detentions": 3}, "looked_after": {"raise": False}}
    policy = rules_policy(parse_settings(data))
    assert policy.repeat_detention.other_detentions == 3
    assert policy.looked_after_raise is False


def test_scope_all_reaches_the_policy(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["scope"] = {"people": "all"}
    assert rules_policy(parse_settings(data)).people is People.ALL


# --- unknown keys -----------------------------------------------------------------------------


def _at(path: tuple[Any, ...]) -> Any:
    def put(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path:
            target = target[part]
        target["bogus"] = 1

    return put


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ((), "bogus"),
        (("web",), "web.bogus"),
        (("database",), "database.bogus"),
        (("scope",), "scope.bogus"),
        (("digest",), "digest.bogus"),
        (("sources", 0), "sources[0].bogus"),
        (("channels", "sms"), "channels.sms.bogus"),
        (("channels", "email"), "channels.email.bogus"),
        (("channels", "console"), "channels.console.bogus"),
        (("people", 1), "people[1].bogus"),
        (("rota", 2), "rota[2].bogus"),
        (("escalation", "high"), "escalation.high.bogus"),
        (("escalation", "high", "levels", 1), "escalation.high.levels[1].bogus"),
        (("escalation", "warning", "levels", 0), "escalation.warning.levels[0].bogus"),
    ],
)
def test_an_unknown_key_anywhere_is_an_error_naming_its_path(
    example: dict[str, Any], where: tuple[Any, ...], key: str
) -> None:
    data = copy.deepcopy(example)
    _at(where)(data)
    message = config_error(data)
    assert f"{key}: unknown key" in message


@pytest.mark.parametrize(
    ("rules", "key"),
    [
        ({"pace_limit": {"bogus": "1h"}}, "rules.pace_limit.bogus"),
        ({"child_detention_duration": {"warning": "4h"}}, "rules.child_detention_duration.warning"),
        ({"no_such_rule": {}}, "rules.no_such_rule"),
    ],
)
def test_an_unknown_key_under_rules_is_an_error_naming_its_path(
    example: dict[str, Any], rules: dict[str, Any], key: str
) -> None:
    data = {**copy.deepcopy(example), "rules": rules}
    assert f"{key}: unknown key" in config_error(data)


def test_an_unknown_key_in_a_sources_table_of_a_file_names_the_file_and_key(
    example_text: str, tmp_path: Path
) -> None:
    text = example_text.replace('stale_after = "15m"', 'stale_after = "15m"\nstale_afer = "1h"', 1)
    assert text != example_text
    path = tmp_path / "cw.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_settings(path)
    assert str(caught.value) == f"{path}: sources[0].stale_afer: unknown key"


def test_an_unknown_key_in_an_inline_escalation_level_names_the_level(
    example_text: str, tmp_path: Path
) -> None:
    text = example_text.replace('wait = "30m" }', 'wait = "30m", wiat = "5m" }', 1)
    assert text != example_text
    path = tmp_path / "cw.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"escalation\.high\.levels\[1\]\.wiat: unknown key"):
        read_settings(path)


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d["web"].update(ack_link_ttl="soon"), "web.ack_link_ttl"),
        (lambda d: d["sources"][0].update(stale_after="15 minutes"), "sources[0].stale_after"),
        (lambda d: d["sources"][0].update(poll_every="1x"), "sources[0].poll_every"),
        (
            lambda d: d["escalation"]["high"]["levels"][0].update(wait="-5m"),
            "escalation.high.levels[0].wait",
        ),
        (
            lambda d: d["escalation"]["critical"].update(repeat_every=15),
            "escalation.critical.repeat_every",
        ),
        (
            lambda d: d["escalation"]["high"].update(ack_timeout="2 h"),
            "escalation.high.ack_timeout",
        ),
        (
            lambda d: d.update(rules={"child_detention_duration": {"warning_after": "4 hours"}}),
            "rules.child_detention_duration.warning_after",
        ),
        (
            lambda d: d.update(rules={"pace_limit": {"basic_limit": "24"}}),
            "rules.pace_limit.basic_limit",
        ),
        (
            lambda d: d.update(rules={"child_overnight": {"window_start": "10pm"}}),
            "rules.child_overnight.window_start",
        ),
        (lambda d: d["digest"].update(at="7"), "digest.at"),
    ],
)
def test_a_bad_duration_or_time_of_day_names_the_key(
    example: dict[str, Any], mutate: Any, key: str
) -> None:
    data = copy.deepcopy(example)
    mutate(data)
    assert f": {key}: " in config_error(data)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.update(timezone="Mars/Base"), "timezone"),
        (lambda d: d["scope"].update(people="adults"), "scope.people"),
        (lambda d: d["channels"]["email"].update(port="587"), "channels.email.port"),
        (lambda d: d["channels"]["email"].update(port=70000), "channels.email.port"),
        (lambda d: d["people"][0].update(phone="07700 900001"), "people[0].phone"),
        (lambda d: d["channels"]["sms"].update(account_sid="XX1"), "channels.sms.account_sid"),
        (lambda d: d["people"][0].pop("name"), "people[0].name"),
        (lambda d: d["escalation"]["high"].update(levels=[]), "escalation.high.levels"),
    ],
)
def test_a_bad_value_names_the_key(example: dict[str, Any], mutate: Any, key: str) -> None:
    data = copy.deepcopy(example)
    mutate(data)
    assert f": {key}" in config_error(data)


def test_an_absurdly_long_duration_is_a_config_error_naming_the_key(
    example: dict[str, Any],
) -> None:
    data = copy.deepcopy(example)
    data["web"]["ack_link_ttl"] = "9999999999d"
    assert "web.ack_link_ttl" in config_error(data)


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["rota"][0].update(person="nobody"),
            "rota[0].person: no person with id 'nobody'",
        ),
        (
            lambda d: d["escalation"]["high"]["levels"][1].update(notify=["ghost"]),
            "escalation.high.levels[1].notify: 'ghost' is neither a rota role nor a person",
        ),
        (
            lambda d: d["escalation"]["critical"]["levels"][0].update(channels=["sms", "pager"]),
            "escalation.critical.levels[0].channels: no channel named 'pager'",
        ),
        (
            lambda d: d["digest"].update(recipients=["ghost"]),
            "digest.recipients: no person with id 'ghost'",
        ),
        (lambda d: d["digest"].update(channels=["fax"]), "digest.channels: no channel named 'fax'"),
        (lambda d: d["people"].append(dict(d["people"][0])), "people[3]: 'insp-a' is given twice"),
        (
            lambda d: d["sources"].append(dict(d["sources"][0])),
            "sources[1]: 'suite-a' is given twice",
        ),
    ],
)
def test_a_reference_to_nothing_is_an_error_naming_the_key(
    example: dict[str, Any], mutate: Any, expected: str
) -> None:
    data = copy.deepcopy(example)
    mutate(data)
    assert config_error(data) == f"test.toml: {expected}"


def test_an_escalation_level_may_notify_a_person_directly(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["escalation"]["high"]["levels"][1]["notify"] = ["supt-b"]
    assert parse_settings(data).escalation["high"].levels[1].notify == ["supt-b"]


# --- finding the file -------------------------------------------------------------------------


def test_without_a_file_or_variable_the_built_in_defaults_apply(no_config_env: Path) -> None:
    assert config_path(None) == (Path("config/custody-watch.toml"), False)
    assert load_settings() == Settings()


def test_the_default_file_is_read_when_it_exists(no_config_env: Path, example_text: str) -> None:
    (no_config_env / "config").mkdir()
    (no_config_env / "config/custody-watch.toml").write_text(
        example_text.replace('people = "children"', 'people = "all"'), encoding="utf-8"
    )
    assert load_settings().scope.people == "all"


def test_the_environment_variable_names_the_config(
    monkeypatch: pytest.MonkeyPatch, no_config_env: Path, example_text: str
) -> None:
    path = no_config_env / "from-env.toml"
    path.write_text(example_text.replace('people = "children"', 'people = "all"'), "utf-8")
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", str(path))
    assert config_path(None) == (path, True)
    assert load_settings().scope.people == "all"


def test_a_named_config_wins_over_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, no_config_env: Path, example_text: str
) -> None:
    env_file = no_config_env / "env.toml"
    env_file.write_text(example_text.replace('people = "children"', 'people = "all"'), "utf-8")
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", str(env_file))
    assert load_settings(EXAMPLE).scope.people == "children"


def test_an_environment_variable_naming_a_missing_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, no_config_env: Path
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", str(no_config_env / "absent.toml"))
    with pytest.raises(ConfigError, match=r"absent\.toml"):
        load_settings()


def test_an_empty_environment_variable_is_ignored(
    monkeypatch: pytest.MonkeyPatch, no_config_env: Path
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", "")
    assert load_settings() == Settings()


def test_a_named_config_that_does_not_exist_is_an_error_naming_it(no_config_env: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(no_config_env / "nope.toml")
    assert "nope.toml" in str(caught.value)


def test_a_file_that_is_not_toml_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[web\nlisten = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "TOML" in str(caught.value)


def test_a_config_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'timezone = "Europe/London"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"latin\.toml"):
        read_settings(path)


def test_config_error_is_a_custody_watch_error() -> None:
    assert issubclass(ConfigError, CustodyWatchError)


def test_an_empty_config_file_gives_the_built_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    assert read_settings(path) == Settings()


def test_a_config_that_only_changes_a_threshold_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "rules-only.toml"
    path.write_text('[rules.child_detention_duration]\nwarning_after = "4h"\n', "utf-8")
    assert read_settings(path).rules.child_detention_duration.warning_after == 4 * H


# --- a changed threshold changes evaluation ---------------------------------------------------


def test_changing_warning_after_changes_evaluation(example_text: str, tmp_path: Path) -> None:
    path = tmp_path / "cw.toml"
    path.write_text(
        example_text + '\n[rules.child_detention_duration]\nwarning_after = "4h"\n', "utf-8"
    )
    arrival = datetime(2026, 6, 10, 8, tzinfo=UTC)
    child = Detention(
        custody_ref="C-1",
        suite="S1",
        arrival_time=arrival,
        date_of_birth=datetime(2012, 1, 1).date(),
        appropriate_adult_arrived_time=arrival,
    )
    now = arrival + 5 * H

    def durations(policy: Policy) -> list[tuple[str, datetime]]:
        return [
            (f.severity.value, f.since)
            for f in evaluate_all([child], policy, now)
            if f.rule == "child_detention_duration"
        ]

    assert durations(rules_policy(read_settings(EXAMPLE))) == []
    assert durations(rules_policy(read_settings(path))) == [("warning", arrival + 4 * H)]
