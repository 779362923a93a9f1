"""No command-line argument ends in a traceback: a bad value is one line naming the option,
exit 2, before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_evaluate import assert_one_line_error, cli


@pytest.mark.parametrize("speed", ["nan", "inf", "-inf", "1e400", "0", "-1", "1e9"])
def test_run_refuses_a_speed_that_is_not_a_usable_factor(tmp_path: Path, speed: str) -> None:
    result = cli(tmp_path, "run", "--once", f"--speed={speed}")
    assert_one_line_error(result, "--speed")
    assert not (tmp_path / "var").exists(), "nothing is built for a refused command"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1800-01-01", "9000-06-01"])
def test_digest_refuses_a_date_at_the_edge_of_the_calendar(tmp_path: Path, day: str) -> None:
    result = cli(tmp_path, "digest", "--date", day)
    assert_one_line_error(result, "--date", "between the years")


def test_a_fractional_speed_is_a_slower_clock_not_an_error() -> None:
    from custody_watch.cli.common import checked_speed

    assert checked_speed(0.5) == 0.5
