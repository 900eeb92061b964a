"""The package layering holds: a walk of every module's imports (ast) fails on a forbidden edge.

Imports inside ``if TYPE_CHECKING:`` are annotations, not run-time edges, and are not counted.
Lazy imports inside functions are run-time edges and are counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "pygent"

#: package -> packages it must never import (at run time).
FORBIDDEN: dict[str, set[str]] = {
    "tools": {"agent", "server", "client", "tui", "cli", "acp"},
    "permissions": {"agent", "server", "client", "tui", "cli", "acp"},
    "edits": {"agent", "server", "client", "tui", "cli", "acp"},
    "settings": {"agent", "server", "client", "tui", "cli", "acp"},
    "sandbox": {"agent", "server", "client", "tui", "cli", "acp", "tools", "permissions"},
    "tui": {"agent", "server", "tools", "cli", "acp"},
    "mcp": {"agent", "server", "client", "tui", "cli", "acp"},
}
#: The protocol package is a leaf: it may import nothing of pygent but ``errors``.
PROTOCOL_ALLOWED = {"protocol", "errors"}


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0].removesuffix(".py")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, pygent subpackage)`` for each run-time import of pygent in ``tree``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "pygent":
                names = [f"pygent.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pygent" and len(parts) > 1:
                found.append((getattr(node, "lineno", 0), parts[1]))
        for inner in ast.iter_child_nodes(node):
            visit(inner)

    visit(tree)
    return found


def _edges() -> list[tuple[str, str, str]]:
    """Every run-time edge as ``(from package, to package, "file:line")``."""
    edges: list[tuple[str, str, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        source = _package_of(path)
        for line, target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if target != source:
                edges.append((source, target, f"{path.relative_to(SRC)}:{line}"))
    return edges


def test_walker_sees_lazy_imports_and_skips_type_checking_blocks() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pygent.agent import loop\n"
        "def f():\n    from pygent.server.rpc import x\n    import pygent.tui.app\n"
        "from pygent import errors\n"
    )
    assert sorted(target for _, target in _runtime_imports(tree)) == ["errors", "server", "tui"]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_edges(package: str) -> None:
    bad = [
        f"{where}: {src} -> {dst}"
        for src, dst, where in _edges()
        if src == package and dst in FORBIDDEN[package]
    ]
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_protocol_is_a_leaf() -> None:
    assert (SRC / "protocol").is_dir()
    bad = [
        f"{where}: protocol -> {dst}"
        for src, dst, where in _edges()
        if src == "protocol" and dst not in PROTOCOL_ALLOWED
    ]
    assert not bad, "the protocol package imports:\n" + "\n".join(bad)


def test_no_package_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for src, dst, _ in _edges():
        graph.setdefault(src, set()).add(dst)
    cycles: list[str] = []

    def reach(start: str, node: str, seen: set[str]) -> None:
        for nxt in graph.get(node, ()):
            if nxt == start:
                cycles.append(f"{start} -> {node} -> {start}" if node != start else start)
            elif nxt not in seen:
                seen.add(nxt)
                reach(start, nxt, seen)

    for package in graph:
        reach(package, package, {package})
    assert not cycles, "package cycles: " + "; ".join(sorted(set(cycles)))
