"""``custody-watch --version``: the installed distribution's version, for bug reports."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from .support import cli


def test_version_prints_the_installed_distributions_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"custody-watch {version('custody-watch')}"


def test_version_needs_no_config_and_runs_no_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", "/nonexistent/custody-watch.toml")
    code, out, err = cli(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.startswith("custody-watch ")
