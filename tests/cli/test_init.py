"""``custody-watch init DIR``: a commented starter config and the sample feed, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody_watch.config import read_settings

from .support import cli


def test_init_writes_a_starter_config_that_validates_and_the_sample_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "init", str(tmp_path / "site"))
    assert code == 0, err
    config = tmp_path / "site" / "custody-watch.toml"
    assert f"wrote {config} (valid)" in out

    settings = read_settings(config)
    assert [source.kind for source in settings.sources] == ["simulator"]
    text = config.read_text(encoding="utf-8")
    assert text.count("\n#") > 20  # a commented start, not a bare one
    # The commented sample source names the copied folder, absolute.
    assert f'# path = "{tmp_path / "site" / "sample"}"' in text
    assert (
        (tmp_path / "site" / "sample" / "suite-day.csv")
        .read_text(encoding="utf-8")
        .startswith("custody_ref,")
    )


def test_the_starter_config_passes_check_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, "init", str(tmp_path))
    code, out, err = cli(capsys, "check-config", "--config", str(tmp_path / "custody-watch.toml"))
    assert code == 0, err
    assert "templates: every message renders" in out


def test_init_does_not_overwrite_a_config_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "custody-watch.toml"
    config.write_text("# mine\n", encoding="utf-8")

    code, _, err = cli(capsys, "init", str(tmp_path))
    assert code == 2
    assert err.strip() == f"custody-watch: {config}: already exists; pass --force to overwrite it"
    assert config.read_text(encoding="utf-8") == "# mine\n"

    code, _, err = cli(capsys, "init", str(tmp_path), "--force")
    assert code == 0, err
    assert "[[sources]]" in config.read_text(encoding="utf-8")
