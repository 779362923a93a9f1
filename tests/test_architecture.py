"""The shape of the package (ARCHITECTURE.md): the import graph has no cycle, and no function
imports a module of the package to hide one.

Who may import whom is import-linter's contract (pyproject.toml, ``lint-imports`` in CI);
these two facts are checked here, on every test run, because a cycle between two modules of
one layer is allowed by the layers and is still a knot a reader has to untie."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp

import custody_watch

PACKAGE = Path(custody_watch.__file__).parent

# Imports made inside a function on purpose: (importing module, imported module) -> why.
# Start-up time of the command line is a reason; dodging a cycle is not (break the cycle).
FUNCTION_IMPORTS_ALLOWED = {
    (
        "custody_watch.cli.users",
        "custody_watch.store.users",
    ): "start-up time: argon2 (about 50 ms) only for the user commands",
    (
        "custody_watch.cli.digest",
        "custody_watch.digest.send",
    ): "start-up time: the digest's modules only for the digest commands",
    (
        "custody_watch.cli.digest",
        "custody_watch.notify.channels",
    ): "start-up time: the twilio SDK only when a digest is sent",
    (
        "custody_watch.daemon.compose",
        "custody_watch.notify.channels",
    ): "start-up time: commands that only read the store (alerts, oncall) take alert_deps "
    "from here without loading the twilio SDK",
    (
        "custody_watch.daemon.compose",
        "custody_watch.sources.kinds",
    ): "start-up time: the same commands do without httpx and the sources' database drivers",
    (
        "custody_watch.daemon.startup",
        "custody_watch.notify.channels",
    ): "start-up time: as above; the channels are built only when the checks run",
    (
        "custody_watch.cli.run",
        "custody_watch.daemon.web_side",
    ): "start-up time: the web stack (FastAPI, uvicorn) only when the daemon serves it",
    (
        "custody_watch.cli.evaluate",
        "custody_watch.cli.tables",
    ): "start-up time: rich's tables (about 60 ms) only for evaluate's table output",
    (
        "custody_watch.cli.web",
        "custody_watch.daemon.web_side",
    ): "start-up time: the web stack only for `custody-watch web`",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def function_imports(module: str, source: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import of the package inside a function of
    ``module`` (dotted, ``pkg.__init__`` for a package), whose text is ``source``."""
    package = module.split(".")
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("custody_watch"):
                        yield alias.name, node.lineno
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level] if node.level else []
                name = ".".join([*base, node.module] if node.module else base)
                if name.startswith("custody_watch"):
                    yield name, node.lineno


def all_function_imports() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts are loaded by Alembic, not imported by the package
        module = module_name(path)
        # Relative imports count from the module's package: the package itself for __init__.
        inside = module + ".__init__" if path.name == "__init__.py" else module
        for imported, line in function_imports(inside, path.read_text(encoding="utf-8")):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            found.setdefault((module, imported), []).append(where)
    return found


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_import_graph_of_the_package_has_no_cycle() -> None:
    graph = grimp.build_graph("custody_watch", cache_dir=None)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_of_three_modules() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_no_function_imports_the_package_except_the_allowed_ones() -> None:
    unexplained = {
        f"{importer} -> {imported} ({', '.join(where)})"
        for (importer, imported), where in all_function_imports().items()
        if (importer, imported) not in FUNCTION_IMPORTS_ALLOWED
    }
    assert sorted(unexplained) == []


def test_every_allowed_function_import_still_exists() -> None:
    """An entry whose import has gone would allow the next one silently."""
    assert set(FUNCTION_IMPORTS_ALLOWED) - set(all_function_imports()) == set()


def test_an_import_inside_a_function_is_found_with_its_line() -> None:
    source = (
        "from custody_watch import times\n"
        "def f():\n"
        "    from custody_watch.store import users\n"
        "    from .auth import check\n"
        "    import custody_watch.times\n"
    )
    assert list(function_imports("custody_watch.web.example", source)) == [
        ("custody_watch.store", 3),
        ("custody_watch.web.auth", 4),
        ("custody_watch.times", 5),
    ]
