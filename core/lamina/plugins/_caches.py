"""The namespaces' per-module name caches, cleared when the index changes (refresh, register, prefer)."""

from __future__ import annotations

from collections.abc import Callable

caches: list[dict[str, object]] = []
#: called after the caches are cleared, and each time the index is built (plugin-provided Tensor methods)
on_clear: list[Callable[[], None]] = []
on_index: list[Callable[[], None]] = []


def clear_caches() -> None:
    for cache in caches:
        cache.clear()
    for callback in on_clear:
        callback()
