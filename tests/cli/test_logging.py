"""Log lines: JSON objects with ``[logging] format = "json"``, readable lines otherwise."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest

from custody_watch.config import parse_settings
from custody_watch.config.model import LoggingSettings
from custody_watch.errors import ConfigError
from custody_watch.logs import RepeatedSkips, configure_logging, logging_for


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_format_writes_one_object_a_line_with_time_level_logger_and_message() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream)

    logging.getLogger("custody_watch.test").warning("feed %s is silent", "suite-a")

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "custody_watch.test"
    assert record["message"] == "feed suite-a is silent"
    assert datetime.fromisoformat(record["time"]).utcoffset() is not None


def test_a_traceback_stays_inside_its_json_record() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream)
    try:
        raise ValueError("bad row")
    except ValueError:
        logging.getLogger("custody_watch.test").exception("cycle failed")

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert "ValueError: bad row" in record["exc_info"]


def test_human_format_writes_readable_lines_and_honours_the_level() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="human", level="warning"), stream)

    logging.getLogger("custody_watch.test").info("not shown")
    logging.getLogger("custody_watch.test").warning("shown")

    [line] = stream.getvalue().splitlines()
    assert line.endswith(" WARNING custody_watch.test: shown")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_configuring_twice_replaces_the_handler_instead_of_doubling_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LoggingSettings(), first)
    configure_logging(LoggingSettings(format="json"), second)

    logging.getLogger("custody_watch.test").warning("once")

    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


def test_the_logging_section_is_validated_and_names_a_bad_value() -> None:
    assert parse_settings({"logging": {"format": "json"}}).logging.format == "json"
    with pytest.raises(ConfigError, match=r"logging\.format"):
        parse_settings({"logging": {"format": "xml"}})


def test_a_command_leaves_no_handler_behind_to_print_into_the_next_ones_output() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    with logging_for(LoggingSettings(format="json", level="debug")):
        assert len(root.handlers) == len(before) + 1
        assert root.level == logging.DEBUG
    assert root.handlers == before


def test_without_a_stream_lines_go_to_the_stderr_of_the_moment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = io.StringIO()
    monkeypatch.setattr(sys, "stderr", earlier)
    configure_logging(LoggingSettings())
    monkeypatch.undo()
    earlier.close()  # as pytest closes a finished test's capture

    logging.getLogger("custody_watch.test").warning("to the current stderr")

    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert err.endswith(" WARNING custody_watch.test: to the current stderr\n")


@pytest.mark.parametrize(("level", "shown"), [("info", False), ("debug", True)])
def test_the_schedulers_every_job_chatter_is_shown_only_at_debug(level: str, shown: bool) -> None:
    stream = io.StringIO()
    with logging_for(LoggingSettings(level=level), stream):  # type: ignore[arg-type]
        logging.getLogger("apscheduler.executors.default").info('Running job "run_poll"')
        logging.getLogger("apscheduler.scheduler").warning("job run_poll skipped")
        logging.getLogger("custody_watch.daemon").info("custody-watch running")
    text = stream.getvalue()
    assert ('Running job "run_poll"' in text) is shown
    assert "job run_poll skipped" in text  # a skipped or missed job always shows
    assert "custody-watch running" in text


SKIPPED = (
    'Execution of job "run_poll (trigger: interval[0:00:02], next run at: {at})" skipped: '
    "maximum number of running instances reached (1)"
)


def test_a_long_running_job_is_said_to_be_skipped_once_a_minute_not_every_tick() -> None:
    now = [0.0]
    stream = io.StringIO()
    with logging_for(LoggingSettings(), stream) as handler:
        handler.filters[:] = [RepeatedSkips(every=60.0, clock=lambda: now[0])]
        scheduler = logging.getLogger("apscheduler.scheduler")
        for second in range(0, 130, 2):  # a poll of over two minutes, a tick every 2 s
            now[0] = float(second)
            scheduler.warning(SKIPPED.format(at=f"06:42:{second:03d}"))
        scheduler.warning(SKIPPED.replace("run_poll", "run_one_cycle").format(at="06:44:10"))
        logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    lines = stream.getvalue().splitlines()
    assert sum("run_poll" in line for line in lines) == 3  # at 0 s, 60 s and 120 s
    assert sum("run_one_cycle" in line for line in lines) == 1  # another job: its own
    assert any("was missed" in line for line in lines)  # other warnings untouched


def test_the_twilio_sdks_request_headers_are_not_logged_by_default() -> None:
    stream = io.StringIO()
    with logging_for(LoggingSettings(), stream):
        logging.getLogger("twilio.http_client").info("Headers: {'Authorization': 'x'}")
    assert "Headers" not in stream.getvalue()
