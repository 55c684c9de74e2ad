"""The namespaces' per-module name caches, cleared when the index changes (refresh, register, prefer)."""

from __future__ import annotations

caches: list[dict[str, object]] = []


def clear_caches() -> None:
    for cache in caches:
        cache.clear()
