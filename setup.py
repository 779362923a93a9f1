"""Build hook: copies the top-level folders the program reads at run time into the package.

``templates/`` and ``config/sample/`` stay at the top of the checkout, where people edit
them; a wheel must still carry them, or an installed daemon renders no message at all
(issue 17). ``custody_watch.resources`` finds the copies with ``importlib.resources`` and
falls back to the checkout's folders in an editable install, where this copy is skipped.
Everything else about the build is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Package folder -> checkout folder; the same map as custody_watch.resources.PACKAGED.
PACKAGED = {"templates": "templates", "sample": "config/sample"}
# Files that are part of a checkout's tooling, not of what the program reads.
SKIP = ("__pycache__", "*.pyc", "*.py")


class build_py_with_data(build_py):  # noqa: N801 (setuptools' own command naming)
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the editable finder points at the checkout; resources falls back to it
        for inside, outside in PACKAGED.items():
            source = HERE / outside
            if not source.is_dir():
                raise SystemExit(f"setup.py: {outside}/ is missing; the wheel would not work")
            target = Path(self.build_lib) / "custody_watch" / inside
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SKIP))


setup(cmdclass={"build_py": build_py_with_data})
