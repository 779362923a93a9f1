"""Where the config and the data live: --config, $CUSTODY_WATCH_CONFIG, the working
directory's config/custody-watch.toml, /etc/custody-watch; data under [paths] data_dir,
by default systemd's $STATE_DIRECTORY, else ./var."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody_watch.config import Settings, config_path, load, locate, parse_settings
from custody_watch.config.paths import default_data_dir
from custody_watch.errors import ConfigError


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A working directory and a stand-in for /etc, with a config file in each."""
    work = tmp_path / "work"
    (work / "config").mkdir(parents=True)
    etc = tmp_path / "etc" / "custody-watch.toml"
    etc.parent.mkdir()
    for path in (work / "config" / "custody-watch.toml", etc):
        path.write_text('timezone = "Europe/London"\n', encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr(locate, "SYSTEM_PATH", etc)
    monkeypatch.delenv("CUSTODY_WATCH_CONFIG", raising=False)
    return {"cwd": Path("config/custody-watch.toml"), "etc": etc, "tmp": tmp_path}


def test_a_named_config_wins_over_the_environment_and_the_default_places(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", "/from/env.toml")
    assert config_path(Path("/named.toml")) == (Path("/named.toml"), True)


def test_the_environment_wins_over_the_default_places(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_WATCH_CONFIG", "/from/env.toml")
    assert config_path(None) == (Path("/from/env.toml"), True)


def test_the_working_directorys_config_comes_before_etc(places: dict[str, Path]) -> None:
    assert config_path(None) == (places["cwd"], False)


def test_etc_is_read_when_the_working_directory_has_no_config(
    places: dict[str, Path],
) -> None:
    places["cwd"].unlink()
    assert config_path(None) == (places["etc"], False)


def test_with_no_config_anywhere_the_built_in_defaults_apply(places: dict[str, Path]) -> None:
    places["cwd"].unlink()
    places["etc"].unlink()
    assert config_path(None) == (locate.DEFAULT_PATH, False)
    assert load.load_settings(None) == Settings()


def test_the_data_directory_is_var_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    settings = Settings()
    assert settings.paths.data_dir == "var"
    assert settings.database.url == "sqlite:///var/custody-watch.db"


def test_the_data_directory_is_systemds_state_directory_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/custody-watch")
    settings = parse_settings({})
    assert settings.paths.data_dir == "/var/lib/custody-watch"
    assert settings.database.url == "sqlite:////var/lib/custody-watch/custody-watch.db"


def test_of_several_state_directories_the_first_is_the_services_own() -> None:
    assert default_data_dir({"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}) == "/var/lib/a"
    assert default_data_dir({"STATE_DIRECTORY": ""}) == "var"


def test_a_configured_data_directory_holds_the_default_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/custody-watch")
    settings = parse_settings({"paths": {"data_dir": "/srv/cw"}})
    assert settings.database.url == "sqlite:////srv/cw/custody-watch.db"


def test_a_written_database_url_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/custody-watch")
    url = "postgresql+psycopg://cw@db/cw"
    assert parse_settings({"database": {"url": url}}).database.url == url


def test_an_unknown_paths_key_is_an_error_that_names_it() -> None:
    with pytest.raises(ConfigError, match=r"paths\.data_directory: unknown key"):
        parse_settings({"paths": {"data_directory": "/srv"}})


def test_the_shared_example_config_is_still_accepted_as_it_is() -> None:
    example = Path(__file__).resolve().parents[3] / "shared/spec/config-example.toml"
    if not example.is_file():
        pytest.skip(f"{example} is not beside this checkout")
    settings = load.read_settings(example)
    assert settings.database.url == "sqlite:///var/custody-watch.db"
