"""A message that cannot be made from its template still goes out (in a plain fallback
wording), and operations are alerted; check-config and run --once fail on it. Never a log
line alone (issue 17)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from custody_watch.messages.render import (
    AlertView,
    Renderer,
    render_check,
    sample_view,
)
from custody_watch.resources import TEMPLATES_ENV, packaged_dir, templates_dir
from daemon.support import CONFIG, Daemon

from .support import cli

# A 15-year-old arrives at 09:00 BST; no appropriate adult is requested.
CHILD = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)


@pytest.fixture
def broken_templates(tmp_path: Path) -> Path:
    """The real templates with the SMS alert template's typo a person might make."""
    copy = tmp_path / "templates"
    shutil.copytree(templates_dir(), copy)
    (copy / "sms" / "notify.txt").write_text("{{ a.custody_reff }} needs you\n", encoding="utf-8")
    return copy


@pytest.fixture
def daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Daemon:
    monkeypatch.delenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = tmp_path / "custody-watch.toml"
    config.write_text(
        CONFIG.format(database=f"sqlite:///{tmp_path / 'cw.db'}", inbox=inbox), encoding="utf-8"
    )
    return Daemon(config, inbox, capsys)


def test_a_template_that_fails_gives_the_fallback_wording_and_is_kept_for_operations(
    broken_templates: Path,
) -> None:
    renderer = Renderer(broken_templates)
    view: AlertView = sample_view("notify")

    message = renderer.for_kind("phone", view)

    assert message.text.startswith("custody-watch ALERT critical 4821: SAMPLE-1 SAMPLE-SUITE")
    assert message.text.endswith(" Reply ACK 4821")
    assert renderer.for_kind("email", view).subject  # the email templates still work
    outcome = renderer.take_outcome()
    [failure] = outcome.failures
    assert (failure.kind, failure.purpose) == ("sms", "notify")
    assert "custody_reff" in failure.error
    assert outcome.rendered == 1
    assert renderer.take_outcome().failures == ()  # taken once


def test_a_missing_templates_folder_still_lets_every_message_out() -> None:
    renderer = Renderer(Path("/nonexistent/templates"))
    for purpose in ("notify", "acknowledged", "resolved"):
        assert renderer.for_kind("email", sample_view(purpose)).text
    assert len(renderer.take_outcome().failures) == 3


def test_render_check_names_the_broken_template(broken_templates: Path) -> None:
    assert render_check() == []
    [problem] = render_check(broken_templates)
    assert "sms notify message" in problem and "custody_reff" in problem


def test_check_config_fails_when_a_template_cannot_render(
    broken_templates: Path,
    daemon: Daemon,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(broken_templates))
    code, _, err = cli(capsys, "check-config", "--config", str(daemon.config))
    assert code == 2
    assert "sms notify message" in err and "custody_reff" in err


def test_run_once_sends_the_fallback_alerts_operations_and_exits_non_zero(
    broken_templates: Path, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(broken_templates))
    daemon.drop("day.csv", CHILD)

    code, out, err = daemon.cli("run", "--once", "--now", "2026-06-10T09:30:00Z")

    assert code == 1
    assert "could not be made from the templates" in err
    # The inspector was told about the child all the same.
    assert "To:      +447700900001" in out
    assert "custody-watch ALERT warning" in out
    # And operations were told that the templates are broken.
    assert "To:      +447700900003" in out
    alerts = {a["findings"][0]["rule"]: a for a in daemon.alerts()}
    assert alerts["message_render_failed"]["custody_ref"] is None
    assert alerts["message_render_failed"]["state"] == "open"


def test_the_operations_alert_clears_once_messages_render_again(
    broken_templates: Path, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(broken_templates))
    daemon.drop("day.csv", CHILD)
    daemon.cli("run", "--once", "--now", "2026-06-10T09:30:00Z")

    monkeypatch.delenv(TEMPLATES_ENV)  # fixed: the packaged templates again
    # 3h in custody: appropriate_adult turns high and the inspector is told again.
    out = daemon.run_once("2026-06-10T11:00:00Z")

    assert "Reply ACK" in out
    rules = [a["findings"][0]["rule"] for a in daemon.alerts()]
    assert "message_render_failed" not in rules


def test_the_operations_alert_stays_while_any_template_is_still_broken(
    broken_templates: Path, daemon: Daemon, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(broken_templates))
    daemon.drop("day.csv", CHILD)
    daemon.cli("run", "--once", "--now", "2026-06-10T09:30:00Z")
    # Half fixed: alert texts render again, but the "resolved" notice is now broken.
    half = tmp_path / "half-fixed"
    shutil.copytree(packaged_dir("templates"), half)
    (half / "sms" / "resolved.txt").write_text("{{ a.nope }}\n", encoding="utf-8")
    monkeypatch.setenv(TEMPLATES_ENV, str(half))

    out = daemon.run_once("2026-06-10T11:00:00Z")

    assert "Reply ACK" in out  # the inspector's message rendered from its template
    [render_alert] = [a for a in daemon.alerts() if a["custody_ref"] is None]
    assert render_alert["findings"][0]["rule"] == "message_render_failed"
    assert render_alert["state"] == "open"
