"""The core is held to a line budget (STYLE.md): code lines of core/lamina, docstrings, comments and
blank lines left out, may not exceed ``[tool.lamina] core-budget`` in pyproject.toml. Raising the
budget is a commit of its own that says why.

``python tests/test_core_budget.py`` prints the count per folder.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "core" / "lamina"


def code_lines(source: str) -> int:
    """Lines that are neither blank, nor a comment, nor part of a module/class/function docstring."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return sum(1 for i, line in enumerate(source.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#") and i not in docstrings)


def core_size() -> dict[str, int]:
    """Code lines per top-level part of core/lamina (a folder, or a file directly in it)."""
    out: dict[str, int] = {}
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE)
        part = rel.parts[0] if len(rel.parts) > 1 else rel.name
        out[part] = out.get(part, 0) + code_lines(path.read_text())
    return out


def budget() -> int:
    return int(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["lamina"]["core-budget"])


def test_core_is_within_its_budget():
    size = core_size()
    total = sum(size.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(size.items(), key=lambda kv: -kv[1]))
    assert total <= budget(), (f"core/lamina has {total} code lines, over the budget of {budget()} "
                               f"(pyproject.toml [tool.lamina] core-budget): {parts}")


def test_counting_leaves_out_docstrings_comments_and_blanks():
    source = ('"""Module doc\n\nmore."""\n\n# a comment\nimport os\n\n\nclass A:\n    """Doc."""\n\n'
              '    x = "not a docstring"\n\n    def f(self):\n        """One\n        two."""\n'
              '        return 1  # counted\n')
    assert code_lines(source) == 5  # import, class, x = ..., def, return


if __name__ == "__main__":
    size = core_size()
    for part, n in sorted(size.items(), key=lambda kv: -kv[1]):
        print(f"{n:6d}  {part}")
    print(f"{sum(size.values()):6d}  core/lamina (budget {budget()})")
    sys.exit(0)
