"""Secrets come from NAME or from the file named by NAME_FILE, and errors name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody_watch.config.secrets import TWILIO_AUTH_TOKEN, secret
from custody_watch.errors import ConfigError

NAME = TWILIO_AUTH_TOKEN


def test_it_reads_the_variable() -> None:
    assert secret(NAME, {NAME: "s3cret"}) == "s3cret"


@pytest.mark.parametrize("env", [{}, {NAME: ""}, {NAME: "  "}, {f"{NAME}_FILE": ""}])
def test_an_unset_or_empty_secret_is_none(env: dict[str, str]) -> None:
    assert secret(NAME, env) is None


def test_it_reads_the_file_named_by_name_file_without_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("from-a-file\n", encoding="utf-8")
    assert secret(NAME, {f"{NAME}_FILE": str(path)}) == "from-a-file"


def test_a_missing_file_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(ConfigError) as caught:
        secret(NAME, {f"{NAME}_FILE": str(path)})
    assert str(caught.value) == f"{NAME}_FILE: cannot read {path}: No such file or directory"


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{NAME}_FILE: .* is empty$"):
        secret(NAME, {f"{NAME}_FILE": str(path)})


def test_setting_both_forms_is_an_error_rather_than_a_silent_choice(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{NAME} and {NAME}_FILE are both set"):
        secret(NAME, {NAME: "two", f"{NAME}_FILE": str(path)})
