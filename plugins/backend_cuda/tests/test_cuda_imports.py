"""lamina-backend-cuda imports no other lamina plugin: every kernel for another plugin's op is
registered by the op's name (``lamina.backends.kernels``), so its source names no plugin package.
Checked statically on the package's source with ``ast``, dynamic imports of a literal name included."""

from __future__ import annotations

import ast
from pathlib import Path

import lamina_backend_cuda

PACKAGE = Path(lamina_backend_cuda.__file__).resolve().parent
OWN = "lamina_backend_cuda"


def plugin_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a lamina plugin package other than this one: ``import x``,
    ``from x import y``, and ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            called = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if called in ("import_module", "__import__"):
                names = [node.args[0].value]
        for name in names:
            top = name.split(".")[0]
            if top.startswith("lamina_") and top != OWN:
                found.append((node.lineno, name))
    return found


def test_the_checker_finds_each_kind_of_import():
    source = ("import lamina\nimport numpy\nfrom lamina.autograd import Function\nfrom . import _source\n"
              "from lamina_backend_cuda.kernels import conv\n"
              "from lamina_layers_basic.conv import ConvNd\nimport lamina_optim.fused as f\n"
              "import importlib\nm = importlib.import_module('lamina_norms._kernel')\n"
              "n = __import__('lamina_losses')\n")
    assert plugin_imports(source) == [(6, "lamina_layers_basic.conv"), (7, "lamina_optim.fused"),
                                      (9, "lamina_norms._kernel"), (10, "lamina_losses")]


def test_lamina_backend_cuda_imports_no_other_plugin():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10 and PACKAGE / "kernels" / "conv.py" in files
    bad = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
           for path in files for line, name in plugin_imports(path.read_text(encoding="utf-8"))]
    assert not bad, "lamina-backend-cuda imports other plugins (register kernels by op name instead):\n" + \
        "\n".join(bad)
