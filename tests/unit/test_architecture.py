"""The layout holds: a headless core, no import cycles, small modules, a short core top level.

import-linter (in `make lint`) checks the layer contracts; these tests check what it does not:
that importing any core module loads no Textual or Rich at run time, that no two rolecall
modules need each other (deferred imports included; `if TYPE_CHECKING:` imports excluded),
and the size rules from STYLE.md.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import rolecall
import rolecall.core

PACKAGE = Path(rolecall.__file__).parent

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(rolecall.core.__path__, prefix="rolecall.core.")
)

MAX_LINES = 500
"""No module is longer than this (aim for about 400)."""

MAX_CORE_LEAVES = 12
"""Modules directly in `rolecall.core`, beside its concept packages."""


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_ui(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        "ui = ('textual', 'rich', 'rolecall.ui', 'rolecall.cli', 'rolecall.demo')\n"
        "print(','.join(m for m in ui if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_core_modules_are_found_in_their_packages() -> None:
    for module in (
        "rolecall.core.catalogue.model",
        "rolecall.core.catalogue.store",
        "rolecall.core.naming.session_name",
        "rolecall.core.sts.assumer",
        "rolecall.core.console.url",
        "rolecall.core.lifecycle",
        "rolecall.core.importers.merge",
    ):
        assert module in CORE_MODULES


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(imports):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(imports[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(imports.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("rolecall", exclude_type_checking_imports=True, cache_dir=None)
    imports = {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m != module}
        for module in graph.modules
    }
    assert _cycles(imports) == []


def test_no_module_is_too_long() -> None:
    lengths = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_core_keeps_a_short_top_level() -> None:
    leaves = sorted(p.name for p in (PACKAGE / "core").glob("*.py") if p.name != "__init__.py")
    assert len(leaves) <= MAX_CORE_LEAVES, leaves
