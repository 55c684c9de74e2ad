"""API entries written from the running object, for what mkdocstrings' static reading cannot show.

mkdocstrings reads source statically (griffe): a function made by a factory (``eq = _compare(...)``) or
bound twice (``concat = cat``) is an *attribute* there, shown as ``eq = _compare(operator.eq)``, and
``Tensor``'s methods are such attributes of its mixins (``add = add``). Imported, they are functions
with a signature and a docstring: those entries are written here from ``inspect``, in the same shape
as mkdocstrings' (heading with the public name as anchor, signature, docstring, ``Shape:`` block).
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import griffe
from griffe_shape import ROLE, rewrite_shape_sections


@functools.cache
def _package(name: str) -> griffe.Module | None:
    try:
        return griffe.load(name, resolve_aliases=True, resolve_external=False)
    except (ImportError, griffe.GriffeError):
        return None


def static_kind(path: str) -> str | None:
    """What griffe makes of ``path``: ``function``, ``class``, ``attribute``, ``module``, or None when it
    finds nothing there (a name served by ``__getattr__``) or cannot follow an import."""
    package = _package(path.split(".")[0])
    if package is None:
        return None
    try:
        obj = package if "." not in path else package[path.split(".", 1)[1]]
        target = obj.final_target if obj.is_alias else obj
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return target.kind.value


def signature(name: str, obj: Any) -> str:
    """``name(params)`` as a call reads, annotations left out; ``name`` alone if there is none."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return name
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return name + str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def docstring_markdown(doc: str) -> str:
    """A docstring as Markdown: ``Shape:`` sections become a "Shape" admonition of preformatted lines."""
    text = rewrite_shape_sections(doc)
    return re.sub(r"^(\s*)Shape:$", r'\1!!! abstract "Shape"', text, flags=re.MULTILINE)


def entry(public: str, anchor: str, obj: Any, level: int) -> str:
    """One API entry: heading (anchor ``anchor``), signature, docstring."""
    short = public.rsplit(".", 1)[-1]
    doc = inspect.getdoc(obj) or ""
    return (f"{'#' * level} `{public}` {{ #{anchor} data-toc-label=\"{short}\" }}\n\n"
            f"```python\n{signature(short, obj)}\n```\n\n{docstring_markdown(doc)}\n")


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    line = ROLE.sub(r"`\1`", doc.split("\n\n", 1)[0].replace("\n", " ").strip())
    return line.replace("|", "\\|").replace("*", "\\*")


def _inplace_of(cls: type, name: str) -> Any:
    """For ``x.add_`` built as ``method(self, *args, **kwargs)`` around ``add``: ``add`` (whose arguments it
    takes), so the table shows them; else None."""
    base = getattr(cls, name[:-1], None) if name.endswith("_") else None
    if base is None or not callable(base):
        return None
    try:
        params = list(inspect.signature(getattr(cls, name)).parameters.values())
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in params]
    return base if kinds == [inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL,
                             inspect.Parameter.VAR_KEYWORD] else None


def method_table(cls: type, prefix: str, same_as: dict[int, dict[str, str]]) -> tuple[list[str], str]:
    """A table of ``cls``'s public methods and properties: (names, Markdown).

    Each row has the anchor ``{prefix}.{name}``, the signature and the docstring's summary; ``same_as``
    maps ``id(function)`` to {name: page link} of the same function documented elsewhere (``lamina.add``
    for ``Tensor.add``; the link of the method's own name is preferred).
    """
    names = sorted(n for n in dir(cls) if not n.startswith("_"))
    rows = ["| method | signature | summary |", "|---|---|---|"]
    for name in names:
        raw = inspect.getattr_static(cls, name)
        obj = getattr(cls, name)
        if isinstance(raw, property):
            sig, obj = "property", raw
        elif callable(obj):
            sig = f"`{signature(name, _inplace_of(cls, name) or obj)}`".replace("|", "\\|")
        else:
            sig = f"`{type(obj).__name__}`"
        summary = _summary(obj.fget if isinstance(obj, property) and obj.fget else obj)
        links = same_as.get(id(getattr(obj, "__func__", obj)), {})
        link = links.get(name) or next(iter(sorted(links.items())), ("", ""))[1]
        if link:
            summary = f"{summary} (as {link})" if summary else f"as {link}"
        rows.append(f"| <span id=\"{prefix}.{name}\"></span>`{name}` | {sig} | {summary} |")
    return names, "\n".join(rows) + "\n"
