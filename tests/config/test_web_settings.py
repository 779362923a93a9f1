"""``[web]``: trusted proxies are addresses or ranges, the trusted header needs them (refused
by ``check-config`` with exit 2 naming ``trusted_proxies``), session timeouts, and a metrics
token that must be in the environment when its variable is named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from custody_watch.cli import main
from custody_watch.config import parse_settings
from custody_watch.daemon.startup import check_startup
from custody_watch.errors import ConfigError

SECRET = {"CUSTODY_WATCH_SECRET_KEY": "a-secret-key-for-the-tests-0123456789"}


def web(**fields: object) -> dict[str, object]:
    return {"database": {"url": "sqlite:///:memory:"}, "web": fields}


def test_the_defaults_end_a_session_after_an_idle_hour_and_twelve_hours() -> None:
    settings = parse_settings(web())
    assert settings.web.session_idle_timeout == timedelta(hours=1)
    assert settings.web.session_lifetime == timedelta(hours=12)
    assert settings.web.trusted_proxies == []
    assert settings.web.metrics_token_env is None


def test_trusted_proxies_take_addresses_and_ranges() -> None:
    settings = parse_settings(web(trusted_proxies=["10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8"]))
    assert len(settings.web.trusted_proxies) == 4


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.0/33", "", "10.0.0.1/8/8"])
def test_an_entry_that_is_not_an_address_names_the_key(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.trusted_proxies: not an address or CIDR"):
        parse_settings(web(trusted_proxies=[entry]))


def test_an_idle_timeout_longer_than_the_lifetime_is_refused() -> None:
    with pytest.raises(ConfigError, match="session_idle_timeout: must be at most"):
        parse_settings(web(session_idle_timeout="13h"))


def test_the_trusted_header_without_trusted_proxies_is_refused_at_start() -> None:
    settings = parse_settings(web(trusted_user_header="X-Remote-User"))
    with pytest.raises(ConfigError, match=r"^web\.trusted_proxies: "):
        check_startup(settings, SECRET)
    proxied = parse_settings(
        web(trusted_user_header="X-Remote-User", trusted_proxies=["127.0.0.1"])
    )
    check_startup(proxied, SECRET)


def test_check_config_refuses_the_trusted_header_without_trusted_proxies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_SECRET_KEY", SECRET["CUSTODY_WATCH_SECRET_KEY"])
    path = tmp_path / "cw.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/cw.db"\n\n[web]\n'
        'trusted_user_header = "X-Remote-User"\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_:
        main(["check-config", "--config", str(path)])
    assert exit_.value.code == 2
    assert "trusted_proxies" in capsys.readouterr().err
    with path.open("a", encoding="utf-8") as out:
        out.write('trusted_proxies = ["10.0.0.0/8"]\n')
    with pytest.raises(SystemExit) as exit_:
        main(["check-config", "--config", str(path)])
    assert exit_.value.code == 0


def test_a_named_metrics_token_must_be_in_the_environment() -> None:
    settings = parse_settings(web(metrics_token_env="CW_METRICS_TOKEN"))
    with pytest.raises(ConfigError, match=r"web\.metrics_token_env: CW_METRICS_TOKEN is not set"):
        check_startup(settings, SECRET)
    check_startup(settings, {**SECRET, "CW_METRICS_TOKEN": "s3cret-scrape-token"})
