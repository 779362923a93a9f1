"""Fixtures for the rules tests. Constants and helpers live in ``support.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from custody_watch.domain import Detention

from .support import build_detention


@pytest.fixture
def make_detention() -> Callable[..., Detention]:
    """Factory for records: a 15-year-old, ``pace_arrest``, arrived at ``ARRIVAL``.

    ``make_detention(charged_time=..., reviews=(...,))`` overrides any field."""

    def make(**overrides: Any) -> Detention:
        return build_detention(**overrides)

    return make
