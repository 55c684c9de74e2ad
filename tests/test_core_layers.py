"""The core's floor plan: imports only point down the layers, and no module imports itself back.

The import graph is read from the source with ``ast`` (no module is executed): every ``import``
and ``from ... import`` of a ``lamina`` module counts, inside functions too; only imports under
``if TYPE_CHECKING:`` are left out (they exist for type checkers and never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "core" / "lamina"

#: the layers from the bottom up; a module may import its own layer and the layers below it
LAYERS = [
    ("lamina._base",),                                 # dtypes, errors, named result types
    ("lamina.plugins",),                               # the entry-point index, pluggy events
    ("lamina.backends",),                              # backend protocol, devices, generators, kernel table
    ("lamina._tensor",),                               # TensorBase: state, conversions, repr
    ("lamina.autograd",),                              # Function, the engine, grad modes
    ("lamina.ops",),                                   # op families and the assembled Tensor
    ("lamina.nn",),                                    # Module, Parameter, containers, lazy namespaces
    ("lamina.optim", "lamina.utils"),                  # Optimizer base and schedulers; data, summary
    ("lamina.serialization",),                         # save / load
    ("lamina",),                                       # the package, its facades and the CLI
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes that run: everything but the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The lamina modules an import statement loads (a name imported from a package is its submodule
    when one exists, else the package itself)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    if node.level:
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base not in modules:
        return set()
    out = set()
    for a in node.names:
        sub = f"{base}.{a.name}"
        out.add(sub if sub in modules else base)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        edges: set[str] = set()
        for node in _imports(tree):
            edges |= _targets(name, path, node, modules)
        edges.discard(name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def layer_of(module: str) -> int:
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank is not None, f"{module} is in no layer"
    return rank


def test_the_graph_is_read():
    graph = import_graph()
    assert "lamina.ops.tensor" in graph["lamina"]
    assert "lamina.autograd.function" in graph["lamina.ops.elementwise"]
    assert len(graph) > 60


def test_core_has_no_import_cycle():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles in core/lamina:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_imports_only_point_down_the_layers():
    upward = []
    for mod, targets in sorted(import_graph().items()):
        for t in sorted(targets):
            if layer_of(t) > layer_of(mod):
                upward.append(f"{mod} (layer {layer_of(mod)}) imports {t} (layer {layer_of(t)})")
    assert not upward, "imports that point up:\n" + "\n".join(upward)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycle_finder_finds_cycles(graph, expected):
    assert sorted(_cycles(graph)) == expected


def test_type_checking_imports_are_left_out():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\nelse:\n    import y\n"
                     "def f():\n    import z\n")
    names = sorted(a.name for node in _imports(tree) for a in node.names)
    assert names == ["TYPE_CHECKING", "y", "z"]
