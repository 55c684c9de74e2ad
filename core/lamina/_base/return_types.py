"""Named result tuples (``values``, ``indices``) as PyTorch's ``torch.return_types``."""

from __future__ import annotations

from collections import namedtuple

_cache: dict[str, type] = {}


def max_min(name: str) -> type:
    cls = _cache.get(name)
    if cls is None:
        base = namedtuple(name, ["values", "indices"])
        cls = type(name, (base,), {"__slots__": (), "__repr__": _repr, "__module__": "lamina.return_types"})
        _cache[name] = cls
    return cls


def _repr(self) -> str:
    return (f"lamina.return_types.{type(self).__name__}(\nvalues={self.values!r},\n"
            f"indices={self.indices!r})")
