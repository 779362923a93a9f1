"""The digest's charts: text from the feed is drawn as text, never read as markup."""

from __future__ import annotations

from typing import Any

import pytest

from custody_watch.digest.charts import custody_times_chart

HOSTILE_REFS = [
    r"$\undefinedmacro{x}$",
    r"$\frac{1}{0",
    "$$",
    r"\$x_{1}$",
    "<b>C-1</b>",
]


def _figures(refs: list[str]) -> dict[str, Any]:
    children = [
        {"custody_ref": ref, "held_minutes": 60 * (i + 1), "in_custody_at_window_end": i % 2 == 0}
        for i, ref in enumerate(refs)
    ]
    return {"date": "2026-06-11", "children": children}


@pytest.mark.parametrize("ref", HOSTILE_REFS)
def test_a_custody_ref_that_looks_like_maths_text_is_drawn_as_given(ref: str) -> None:
    chart = custody_times_chart(_figures([ref, "C-2"]))
    assert chart is not None
    assert chart.png.startswith(b"\x89PNG")
    # The alt text names the child by the ref exactly as the feed gave it.
    assert ref in chart.alt
