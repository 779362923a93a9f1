"""``[rules]`` is derived from the pure rules' policy: each threshold is declared once."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

import pytest

from custody_watch.config import Settings, parse_settings, rules_policy
from custody_watch.config.rules import THRESHOLDS, section_model
from custody_watch.errors import ConfigError
from custody_watch.rules import policy as p

H = timedelta(hours=1)


def test_every_threshold_dataclass_is_a_rules_section_with_the_same_keys() -> None:
    sections = Settings().rules.model_dump()
    for name, threshold in THRESHOLDS.items():
        assert set(sections[name]) == {f.name for f in dataclasses.fields(threshold)}, name
    # The flat flag keeps its config spelling.
    assert Settings().rules.model_dump(by_alias=True)["looked_after"] == {"raise": True}


def test_the_default_settings_give_exactly_the_rules_default_policy() -> None:
    assert rules_policy(Settings()) == p.Policy()


def test_a_changed_threshold_reaches_the_policy_field_for_field() -> None:
    data = {
        "rules": {
            "pace_limit": {"warning_before": "2h"},
            "child_overnight": {"window_start": "21:30"},
            "repeat_detention": {"other_detentions": 3},
            "looked_after": {"raise": False},
        }
    }
    policy = rules_policy(parse_settings(data))
    assert policy.pace_limit == p.PaceLimitPolicy(warning_before=2 * H)
    assert policy.child_overnight.window_start == time(21, 30)
    assert policy.repeat_detention.other_detentions == 3
    assert policy.looked_after_raise is False


@pytest.mark.parametrize("count", [0, 1001])
def test_a_count_outside_the_bounds_its_field_declares_is_refused(count: int) -> None:
    with pytest.raises(ConfigError, match=r"rules\.repeat_detention\.other_detentions"):
        parse_settings({"rules": {"repeat_detention": {"other_detentions": count}}})


def test_a_new_threshold_is_one_edit_to_its_dataclass() -> None:
    """What adding ``high_before`` to a rule looks like: the dataclass gains a field, and the
    config section has the key, its default and its duration parsing with no other edit."""

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithNewThreshold:
        warning_after: timedelta = 1 * H
        high_before: timedelta = 30 * timedelta(minutes=1)

    section = section_model("with_new_threshold", WithNewThreshold)
    assert section().model_dump() == {"warning_after": H, "high_before": 30 * timedelta(minutes=1)}
    assert section.model_validate({"high_before": "45m"}).model_dump()["high_before"] == (
        45 * timedelta(minutes=1)
    )


def test_an_int_threshold_without_bounds_is_refused_when_the_model_is_made() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unbounded:
        count: int = 2

    with pytest.raises(TypeError, match="must declare its bounds"):
        section_model("unbounded", Unbounded)
