"""Print cs_sdk's module import graph (top-level and function-level imports, from the AST)
and its strongly connected components of more than one module (import cycles).

    python scripts/import_graph.py [--edges]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "cs_sdk"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / PACKAGE).rglob("*.py")}
    # A C extension is a module too (its source is next to it); it imports nothing of ours.
    extensions = {module_name(p.with_suffix(".py")) for p in (ROOT / PACKAGE).rglob("*.c")}
    edges: dict[str, set[str]] = {name: set() for name in [*files, *extensions]}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # "from . import x" names a module x, or a name in the package: each alias
                # counts as the module when it is one, else as the package itself.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in edges else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in edges:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


def main() -> int:
    edges = graph()
    if "--edges" in sys.argv:
        for name in sorted(edges):
            print(f"{name} -> {', '.join(sorted(edges[name])) or '-'}")
    cycles = components(edges)
    for component in cycles:
        print(f"cycle of {len(component)}: {' '.join(component)}")
        members = set(component)
        for name in component:
            inside = sorted(edges[name] & members)
            print(f"    {name} -> {', '.join(inside)}")
    print(f"{len(cycles)} cycle(s) among {len(edges)} modules")
    return 1 if cycles else 0


if __name__ == "__main__":
    raise SystemExit(main())
