"""``lamina.fx``: torch.fx's API as a faithful pass-through where one exists.

lamina has no symbolic tracer: there is no ``Graph`` of ``Node``s to build, inspect or rewrite. What a
program can use without one works as in torch: ``wrap`` (the decorator/call that marks a global function
as a leaf for tracing, with torch's argument and call-site checks) returns its argument, ``has_side_effect``
returns the function, and ``map_arg`` maps over a nested argument structure (with no ``Node`` ever present
it rebuilds the structure unchanged). ``symbolic_trace`` and ``replace_pattern`` raise
``NotImplementedError``, and so does creating a ``Graph``, ``GraphModule``, ``Tracer``, ``Node``, ``Proxy``,
``Interpreter`` or ``Transformer`` (the classes exist for ``isinstance`` checks, which are always False).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import lamina

__lamina_plugin_api__ = "1.0"

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Transformer", "Node", "Proxy",
           "replace_pattern", "has_side_effect", "map_arg"]

_T = TypeVar("_T")


def _refuse(what: str) -> NoReturn:
    raise NotImplementedError(f"{what}: lamina has no symbolic tracer (torch.fx), so there is no fx Graph to build "
                              "or transform; run the module or function directly (lamina.autograd.observe_ops lists "
                              "the ops it runs)")


def wrap(fn_or_name: Any) -> Any:
    """Mark a global function (or the global of that name) as a tracing leaf; returns ``fn_or_name``.

    Must be called at the top level of a module, as in torch."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    caller = inspect.currentframe().f_back
    if caller is None or caller.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    return fn_or_name


def has_side_effect(fn: _T) -> _T:
    """Return ``fn`` itself (torch notes it so that dead-code elimination keeps its calls)."""
    return fn


def map_arg(a: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to each ``Node`` in the nested tuples/lists/dicts/slices of ``a``; everything else is kept."""
    if not callable(fn):
        raise AssertionError("lamina.fx.map_arg(a, fn): fn must be a callable")
    return _map(a, fn)


def _map(a: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(a, Node):
        return fn(a)
    if isinstance(a, tuple):
        items = tuple(_map(x, fn) for x in a)
        return type(a)(*items) if hasattr(a, "_fields") else items
    if isinstance(a, list):
        return [_map(x, fn) for x in a]
    if isinstance(a, dict):
        return {k: _map(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(_map(a.start, fn), _map(a.stop, fn), _map(a.step, fn))
    return a


def symbolic_trace(root: Any, concrete_args: dict[str, Any] | None = None) -> NoReturn:
    _refuse("lamina.fx.symbolic_trace (torch.fx.symbolic_trace)")


def replace_pattern(gm: Any, pattern: Any, replacement: Any) -> NoReturn:
    _refuse("lamina.fx.replace_pattern (torch.fx.replace_pattern)")


class _NoGraph:
    """An fx type: ``isinstance`` checks against it are always False, constructing it raises."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        _refuse(f"lamina.fx.{cls.__name__} (torch.fx.{cls.__name__})")


class Graph(_NoGraph):
    """torch.fx.Graph, for ``isinstance`` checks only."""


class Node(_NoGraph):
    """torch.fx.Node, for ``isinstance`` checks only."""


class Proxy(_NoGraph):
    """torch.fx.Proxy, for ``isinstance`` checks only."""


class Tracer(_NoGraph):
    """torch.fx.Tracer: cannot be created (and so cannot be subclassed into a working tracer)."""


class Interpreter(_NoGraph):
    """torch.fx.Interpreter: cannot be created."""


class Transformer(Interpreter):
    """torch.fx.Transformer: cannot be created."""


class GraphModule(_NoGraph, lamina.nn.Module):
    """torch.fx.GraphModule, for ``isinstance`` checks only."""
