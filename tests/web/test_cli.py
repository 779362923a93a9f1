"""``custody-watch user add`` and ``custody-watch web`` through the command line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from custody_watch.cli import main
from custody_watch.config import read_settings
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import UserRow

CONFIG = """
[database]
url = "sqlite:///{database}"

[web]
listen = "{listen}"

[[people]]
id = "insp-a"
name = "Insp. A. Example"
phone = "+447700900001"
"""


def cli(config: Path, *args: str, stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        main([*args, "--config", str(config)])
        return 0
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        sys.stdin = old


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "cw.toml"
    path.write_text(
        CONFIG.format(database=tmp_path / "cw.db", listen="127.0.0.1:8080"), encoding="utf-8"
    )
    return path


def users(config: Path) -> list[UserRow]:
    engine = make_engine(read_settings(config).database.url)
    upgrade(engine)  # a refused command may never have opened the store
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(UserRow).order_by(UserRow.username)))
    finally:
        engine.dispose()


def test_user_add_stores_an_argon2_hash(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        config,
        "user", "add", "alice", "--role", "inspector", "--person", "insp-a", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert code == 0
    assert "user alice added (inspector, person insp-a)" in capsys.readouterr().out
    [row] = users(config)
    assert (row.username, row.role, row.person_id, row.disabled) == (
        "alice",
        "inspector",
        "insp-a",
        False,
    )
    assert row.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in row.password_hash


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("bob", "--role", "chief"), "a long enough password\n", "chief"),
        (("bob", "--role", "viewer"), "short\n", "at least 10 characters"),
        (("bob", "--role", "viewer", "--person", "nobody"), "long enough pw\n", "no person"),
        (("b b", "--role", "viewer"), "a long enough password\n", "user name"),
    ],
)
def test_user_add_refuses_mistakes(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    stdin: str,
    message: str,
) -> None:
    code = cli(config, "user", "add", *args, "--password-stdin", stdin=stdin)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert users(config) == []


def test_user_add_twice_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("user", "add", "alice", "--role", "viewer", "--password-stdin")
    assert cli(config, *args, stdin="a long enough password\n") == 0
    assert cli(config, *args, stdin="a long enough password\n") == 2
    assert "already exists" in capsys.readouterr().err


def test_user_add_asks_twice_without_stdin(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[str, bool, bool]] = []

    def prompt(text: str, hide_input: bool = False, confirmation_prompt: bool = False) -> str:
        asked.append((text, hide_input, confirmation_prompt))
        return "a long enough password"

    monkeypatch.setattr("typer.prompt", prompt)
    assert cli(config, "user", "add", "carol", "--role", "admin") == 0
    assert asked == [("Password", True, True)]


def test_user_disable_and_list(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(config, "user", "add", "alice", "--role", "viewer", "--password-stdin", stdin="x" * 12)
    assert cli(config, "user", "disable", "alice") == 0
    assert users(config)[0].disabled
    capsys.readouterr()
    assert cli(config, "user", "list") == 0
    assert capsys.readouterr().out == "alice\tviewer\t- (disabled)\n"


def test_web_refuses_a_bad_listen_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.format(database=tmp_path / "cw.db", listen="nowhere"), encoding="utf-8")
    code = cli(path, "web")
    assert code == 2
    assert "web.listen" in capsys.readouterr().err


def test_listen_addresses() -> None:
    from custody_watch.errors import ConfigError
    from custody_watch.web.server import parse_listen

    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":8080") == ("0.0.0.0", 8080)
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    for bad in ("8080", "host:", "host:http", "host:70000"):
        with pytest.raises(ConfigError):
            parse_listen(bad)
