"""Import circles among pagi's modules, outside ``if TYPE_CHECKING:`` blocks.

The project's rule: no import circle between modules of ``pagi.protocol``,
``pagi.frontend`` and ``pagi.worker`` at import time. This reads the source
(it imports nothing), follows module-level ``import`` and ``from ... import``
statements (also inside ``if``/``try`` blocks, but not inside functions,
whose imports run later, nor under ``if TYPE_CHECKING:``), and prints every
strongly connected group of more than one module.

    python tools/import_cycles.py [REPO]     # exit status 1 if any circle
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = {"protocol": "pagi.protocol", "frontend": "pagi.frontend", "worker": "pagi.worker"}


def modules(repo: Path) -> dict[str, Path]:
    """Every module of the three packages, by its import name."""
    found: dict[str, Path] = {}
    for folder, name in PACKAGES.items():
        for path in sorted((repo / folder).rglob("*.py")):
            parts = list(path.relative_to(repo / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([name, *parts])] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path) -> set[str]:
    """What ``name`` imports when it is imported (names that may be modules)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _type_checking(node):
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(ast.parse(path.read_text()).body)
    return found


def circles(repo: Path) -> list[list[str]]:
    """The groups of modules that import each other, each sorted."""
    mods = modules(repo)
    graph = {
        name: sorted(imports_of(name, path) & mods.keys() - {name}) for name, path in mods.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in graph:
        if v not in index:
            connect(v)
    return groups


def main() -> int:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    found = circles(repo)
    for group in found:
        print("import circle:", " <-> ".join(group))
    print(f"{len(modules(repo))} modules, {len(found)} import circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
