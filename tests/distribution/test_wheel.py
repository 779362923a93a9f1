"""What an installed custody-watch reads at run time is in the wheel (issue 17: a wheel
without templates sent no alert at all)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from custody_watch import resources

ROOT = Path(__file__).resolve().parents[2]


def files_under(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and, built from it, the wheel: as `python -m build` makes them for release."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


@pytest.mark.slow
def test_the_wheel_carries_every_template_static_file_migration_and_the_sample(
    dist: Path,
) -> None:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    templates = {f"custody_watch/templates/{n}" for n in files_under(ROOT / "templates")}
    assert "custody_watch/templates/web/static/app.css" in templates
    assert templates <= names
    migrations = ROOT / "src/custody_watch/store/migrations"
    assert {f"custody_watch/store/migrations/{n}" for n in files_under(migrations)} <= names
    sample = {"suite-day.csv", "suite-day.jsonl", "README.md"}
    assert {f"custody_watch/sample/{n}" for n in sample} <= names
    assert "custody_watch/config/starter.toml" in names
    # Nothing lands beside the package, where the old lookup went wrong.
    assert not any(name.startswith("templates/") for name in names)


@pytest.mark.slow
def test_the_sdist_holds_what_the_build_hook_copies(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"setup.py", "MANIFEST.in", "templates/sms/notify.txt"} <= names
    assert "templates/web/static/app.js" in names
    assert "config/sample/suite-day.csv" in names
    assert "deploy/systemd/custody-watch.service" in names


def test_the_build_hook_and_the_lookup_name_the_same_folders() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    [packaged] = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "PACKAGED" for t in node.targets)
    ]
    assert packaged == resources.PACKAGED
