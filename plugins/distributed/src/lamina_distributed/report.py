"""``lamina run --report``: the torch names a program's source reaches that lamina lacks, found without running it."""

from __future__ import annotations

import importlib
from types import ModuleType

from lamina.compat import aliases, install_torch_alias


def missing_names(source: str, filename: str = "<program>") -> list[tuple[str, int, str]]:
    """The torch names a program's ``source`` reaches that lamina lacks, without running it: ``[(name, line,
    why)]`` in order of first use. Names are read from ``import torch...``/``from torch... import`` statements
    and the dotted attribute chains on the names they bind (``nn.Conv2d``, ``torch.cuda.is_available``); the
    plugin aliases (``torchvision``) count as torch does. Methods of tensors are not seen (their type is not
    known before the program runs). The alias is installed for the lookups (it stays installed)."""
    import ast

    install_torch_alias()
    roots = set(aliases()) - {"lamina"}
    bound: dict[str, str] = {}  # local name -> the torch path it stands for
    found: dict[str, tuple[int, str]] = {}

    def check(path: str, line: int) -> None:
        if path in found or path.partition(".")[0] not in roots:
            return
        why = _lookup_error(path)
        if why:
            found[path] = (line, why)

    def chain(node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in bound:
            return ".".join([bound[node.id], *reversed(parts)])
        return None

    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.partition(".")[0] in roots:
                    bound[a.asname or a.name.partition(".")[0]] = a.name if a.asname else a.name.partition(".")[0]
                    check(a.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.partition(".")[0] in roots:
            for a in node.names:
                if a.name != "*":
                    bound[a.asname or a.name] = f"{node.module}.{a.name}"
                    check(f"{node.module}.{a.name}", node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "ctx", None), ast.Store):
            path = chain(node)
            if path is not None:
                check(path, node.lineno)
    return sorted(((name, line, why) for name, (line, why) in found.items()), key=lambda t: (t[1], t[0]))


def _lookup_error(path: str) -> str:
    """Why ``path`` (``torch.nn.Conv2d``) cannot be reached under the alias; "" when it can (or is not a name of
    a module: an attribute of a class or a value is not looked into)."""
    parts = path.split(".")
    try:
        obj: object = importlib.import_module(parts[0])
    except ImportError as exc:
        return str(exc)
    for i in range(1, len(parts)):
        if not isinstance(obj, ModuleType):
            return ""
        try:
            obj = getattr(obj, parts[i])
        except AttributeError as exc:
            try:  # a submodule not imported yet (torch.nn.modules.conv)
                obj = importlib.import_module(".".join(parts[:i + 1]))
            except ImportError:
                return str(exc).split("\n")[0]
    return ""
