"""Decide, then act, as the imports say it: the modules that decide an alert's transitions
import nothing that pages or raises another alert, the alert side and dispatch import each
other in one direction only, and neither has a cycle (function-local imports included:
grimp reads them too)."""

from __future__ import annotations

import grimp
import pytest

GRAPH = grimp.build_graph("custody_watch", cache_dir=None)
DECIDING = ("lifecycle", "escalate", "transition", "deps")
ACTING = ("paging", "system", "effects", "delivery")


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports, directly or through others."""
    return set(GRAPH.find_upstream_modules(module))


@pytest.mark.parametrize("decider", DECIDING)
def test_the_modules_that_decide_import_nothing_that_acts(decider: str) -> None:
    acting = {f"custody_watch.alerts.{name}" for name in ACTING}
    assert imports_of(f"custody_watch.alerts.{decider}") & acting == set()


def test_dispatch_reaches_the_alert_side_only_through_its_dependencies_object() -> None:
    dispatch = {m for m in GRAPH.modules if m.startswith("custody_watch.dispatch")}
    reached = set().union(*(imports_of(m) for m in dispatch))
    assert {m for m in reached if m.startswith("custody_watch.alerts")} == {
        "custody_watch.alerts.deps"
    }


def test_no_alert_module_imports_dispatch() -> None:
    alerts = {m for m in GRAPH.modules if m.startswith("custody_watch.alerts")}
    reached = set().union(*(imports_of(m) for m in alerts))
    assert {m for m in reached if m.startswith("custody_watch.dispatch")} == set()


@pytest.mark.parametrize("package", ["custody_watch.alerts", "custody_watch.dispatch"])
def test_the_package_has_no_import_cycle(package: str) -> None:
    modules = sorted(m for m in GRAPH.modules if m.startswith(f"{package}."))
    knots = [
        (a, b)
        for a in modules
        for b in modules
        if a < b and GRAPH.chain_exists(a, b) and GRAPH.chain_exists(b, a)
    ]
    assert knots == []
