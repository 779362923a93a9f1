"""Finding templates, static files and the sample: the package's copy when installed from a
wheel, the checkout's folders in an editable install, a site's own templates when named."""

from __future__ import annotations

from pathlib import Path

import pytest

from custody_watch import resources

ROOT = Path(__file__).resolve().parents[2]


def test_an_editable_install_reads_the_checkouts_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(resources.TEMPLATES_ENV, raising=False)
    assert resources.templates_dir() == ROOT / "templates"
    assert (resources.static_dir() / "app.css").is_file()
    assert (resources.sample_dir() / "suite-day.csv").is_file()


def test_an_installed_package_reads_its_own_copy_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(resources.TEMPLATES_ENV, raising=False)
    (tmp_path / "templates" / "sms").mkdir(parents=True)
    monkeypatch.setattr(resources, "files", lambda _package: tmp_path)

    assert resources.templates_dir() == tmp_path / "templates"
    # No copy of the sample in this fake package: the checkout's is the fallback.
    assert resources.sample_dir() == ROOT / "config" / "sample"


def test_with_neither_the_error_names_where_the_package_should_have_had_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "files", lambda _package: tmp_path / "site-packages")
    monkeypatch.setattr(resources, "CHECKOUT", tmp_path / "lib")

    assert resources.packaged_dir("templates") == tmp_path / "site-packages" / "templates"


def test_a_site_can_name_its_own_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.TEMPLATES_ENV, str(tmp_path))
    assert resources.templates_dir() == tmp_path
    assert resources.static_dir() == tmp_path / "web" / "static"
