"""Exporter lookup: tables of exporters found through the ``lamina.onnx.exporters`` entry points.

Each entry point names a table, ``{key: exporter}``; a key is the defining path of a ``Module`` or
``Function`` subclass, ``f"{cls.__module__}.{cls.__qualname__}"``. lamina-onnx's own tables are
entry points like any third party's. Tables are imported on the first export, all at once (an
export needs most of them anyway); ``register_exporter`` adds one in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from lamina import plugins

from .errors import OnnxExporterError

GROUP = "lamina.onnx.exporters"
Exporter = Callable[..., None]

_in_process: dict[str, Exporter] = {}


def class_key(cls: type) -> str:
    """The key an exporter for ``cls`` is registered under."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register_exporter(key: str | type, exporter: Exporter, *, replace: bool = False) -> None:
    """Register ``exporter(g, call)`` for a Module or Function class (or its key) in this process.

    It overrides an installed table's exporter for the same key only with ``replace=True``.
    """
    if isinstance(key, type):
        key = class_key(key)
    if not isinstance(key, str) or not callable(exporter):
        raise TypeError(f"register_exporter: expected a class or key string and a callable, got {key!r}, "
                        f"{exporter!r}")
    if not replace and key in load():
        raise OnnxExporterError(f"register_exporter: an exporter for {key!r} is already registered; pass "
                                "replace=True to override it")
    _in_process[key] = exporter


def unregister_exporter(key: str | type) -> None:
    """Remove an in-process exporter (installed tables are untouched)."""
    _in_process.pop(class_key(key) if isinstance(key, type) else key, None)


def load() -> dict[str, Exporter]:
    """Every exporter: the installed tables (the plugin index caches their import), then in-process ones."""
    entries = cast("Callable[[str], list[Any]]", plugins.entries)  # lazily bound by lamina.plugins
    resolve = cast("Callable[[str, str], object]", plugins.resolve)
    table: dict[str, Exporter] = {}
    source: dict[str, str] = {}
    for entry in sorted(entries(GROUP), key=lambda e: (not e.first_party, e.distribution, e.name)):
        label = f"{entry.distribution}'s entry point {entry.name!r} = {entry.value!r}"
        found = resolve(GROUP, entry.name)
        if not isinstance(found, dict):
            raise OnnxExporterError(f"lamina.onnx: {label} must be a dict {{key: exporter}}, got "
                                    f"{type(found).__name__}")
        for key, exporter in found.items():
            if key in table and table[key] is not exporter:
                raise OnnxExporterError(f"lamina.onnx: two exporters for {key!r}: {source[key]} and {label}")
            table[key], source[key] = exporter, label
    table.update(_in_process)
    return table


def module_exporter(table: dict[str, Exporter], module: Any) -> tuple[str, Exporter] | None:
    """The exporter of the class the module's forward comes from: walk the MRO, stop at a forward."""
    for cls in type(module).__mro__:
        key = class_key(cls)
        found = table.get(key)
        if found is not None:
            return key, found
        if "forward" in cls.__dict__:
            return None
    return None
