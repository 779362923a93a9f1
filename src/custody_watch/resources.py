"""Files the program reads at run time: message, digest and page templates, the web side's
static files, and the bundled sample feed.

People edit them in the checkout's top-level folders (``templates/``, ``config/sample/``).
A wheel carries copies inside the package (``custody_watch/templates``,
``custody_watch/sample``), made at build time by ``setup.py``, and they are found there with
``importlib.resources`` wherever the wheel is installed. An editable install has no copy, so
the checkout's own folders are used and an edit shows at once."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

TEMPLATES_ENV = "CUSTODY_WATCH_TEMPLATES"
# Where the build puts each top-level folder inside the package; setup.py reads this map
# too, so the build and the lookup cannot disagree about a name.
PACKAGED = {"templates": "templates", "sample": "config/sample"}
# src/custody_watch/resources.py -> the checkout. In an installed wheel this points into
# lib/pythonX.Y, where nothing of ours is: only ever a fallback after the package copy.
CHECKOUT = Path(__file__).resolve().parents[2]


def packaged_dir(name: str) -> Path:
    """The folder ``name`` (a key of ``PACKAGED``): the package's copy when the install has
    one, else the checkout's folder. When neither exists the package path is returned, so
    that an error names the place a wheel should have had it."""
    inside = files("custody_watch").joinpath(name)
    # Jinja2's loader and Starlette's StaticFiles need a real directory. A wheel installed
    # by pip is unpacked on disk, so the traversable is a Path; a zipped install is not
    # supported.
    packaged = Path(str(inside))
    if packaged.is_dir():
        return packaged
    checkout = CHECKOUT / PACKAGED[name]
    return checkout if checkout.is_dir() else packaged


def templates_dir() -> Path:
    """``$CUSTODY_WATCH_TEMPLATES`` (a site's own wording), else the templates that came
    with this install."""
    named = os.environ.get(TEMPLATES_ENV)
    if named:
        return Path(named)
    return packaged_dir("templates")


def static_dir() -> Path:
    return templates_dir() / "web" / "static"


def sample_dir() -> Path:
    """The bundled sample feed (``suite-day.csv``, ``suite-day.jsonl``): see its README."""
    return packaged_dir("sample")
