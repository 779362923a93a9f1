"""``check-config`` refuses what the daemon's start refuses, with exit 2 and one line naming
the key; and ``run`` refuses the same config with the same line (one check for both)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .support import cli

EXAMPLE = Path(__file__).parents[3] / "shared/spec/config-example.toml"
SECRETS = (
    "CUSTODY_WATCH_TWILIO_AUTH_TOKEN",
    "CUSTODY_WATCH_SMTP_USERNAME",
    "CUSTODY_WATCH_SMTP_PASSWORD",
    "CUSTODY_WATCH_SECRET_KEY",
    "CUSTODY_WATCH_HTTP_TOKEN",
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared example, its database and inbox moved under ``tmp_path``, with no secret
    in the environment."""
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example config is not at {EXAMPLE}")
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "custody-watch.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = cli(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    return line


def test_the_example_is_valid_and_warns_that_sms_will_be_printed(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "check-config", "--config", str(config))
    assert code == 0, err
    assert f"{config}: valid" in out
    assert "CUSTODY_WATCH_TWILIO_AUTH_TOKEN is not set" in out


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('repeat_every = "15m"', 'repeat_every = "0s"', "escalation.critical.repeat_every"),
        ('wait = "10m"', 'wait = "0s"', "escalation.critical.levels[0].wait"),
        ('poll_every = "1m"', 'poll_every = "0s"', "sources[0].poll_every"),
        ('listen = "127.0.0.1:8080"', 'listen = "nonsense"', "web.listen"),
        ('stale_after = "15m"', 'stale_after = "99999999d"', "sources[0].stale_after"),
    ],
)
def test_check_config_and_run_refuse_a_dangerous_value_the_same_way(
    config: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, key: str
) -> None:
    edit(config, old, new)
    line = refused(capsys, "check-config", "--config", str(config))
    assert f"{config}: {key}: " in line
    assert refused(capsys, "run", "--once", "--config", str(config)) == line


def test_a_missing_secret_file_is_refused_by_check_config_and_by_run(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE", str(config.parent / "missing"))
    line = refused(capsys, "check-config", "--config", str(config))
    assert "channels.sms: CUSTODY_WATCH_TWILIO_AUTH_TOKEN_FILE: cannot read" in line
    assert refused(capsys, "run", "--once", "--config", str(config)) == line
    assert not (config.parent / "var").exists()  # refused before any database was made


def test_a_half_set_smtp_login_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_SMTP_USERNAME", "relay-user")
    line = refused(capsys, "check-config", "--config", str(config))
    assert "channels.email: CUSTODY_WATCH_SMTP_USERNAME is set but" in line


def test_a_database_driver_that_is_not_installed_is_refused_without_the_password(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("mysqlclient is installed here")
    edit(config, 'url = "sqlite:///var/custody-watch.db"', 'url = "mysql://cw:hunter2@db/cw"')
    line = refused(capsys, "check-config", "--config", str(config))
    assert "database.url: the driver for 'mysql' is not installed" in line
    assert "hunter2" not in line
