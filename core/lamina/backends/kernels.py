"""The kernel registry: faster implementations of an op for one device type (DESIGN.md §4).

An op is a ``Function`` subclass whose ``forward``/``backward`` in ``xp`` code is the reference
that runs on every backend. A backend or kernel pack registers a faster kernel, itself a subclass
of the op overriding ``forward`` (and ``backward`` where needed), for ``(op, device_type)`` with a
priority and an optional ``supports(arrays, kwargs) -> bool`` predicate. Selection is a cached
dict lookup; the reference is the last resort. ``lamina.kernels.explain`` shows the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register", "unregister", "registry", "candidates", "select", "Kernel"]

#: ops that have at least one registered kernel (Function.apply checks membership: one set lookup)
kernel_ops: set = set()
_ops_by_name: dict[str, type] = {}
_table: dict[tuple[type, str], list[Kernel]] = {}


class Kernel:
    """One registered kernel (a plain record; no dataclass to keep ``import lamina`` light)."""

    __slots__ = ("op", "device_type", "impl", "priority", "supports", "name")

    def __init__(self, op: type, device_type: str, impl: type, priority: int = 0,
                 supports: Callable[[list, dict], bool] | None = None, name: str = "") -> None:
        self.op, self.device_type, self.impl = op, device_type, impl
        self.priority, self.supports, self.name = priority, supports, name

    def __repr__(self) -> str:
        return f"Kernel({self.op.__name__}, {self.device_type!r}, {self.name}, priority={self.priority})"


def note_op(cls: type) -> None:
    """Called for every Function subclass: index it by name (``op_name`` or the class name)."""
    name = cls.__dict__.get("op_name") or cls.__name__
    _ops_by_name.setdefault(name, cls)


def _resolve(op: Any) -> type:
    if isinstance(op, str):
        try:
            return _ops_by_name[op]
        except KeyError:
            raise KeyError(f"kernels: no op named {op!r}; known ops include "
                           f"{sorted(_ops_by_name)[:20]}") from None
    return op


def register(op: Any, device_type: str, impl: type, *, priority: int = 0,
             supports: Callable[[list, dict], bool] | None = None, name: str = "") -> Kernel:
    """Register ``impl`` (a subclass of ``op``) as a kernel of ``op`` on ``device_type``."""
    op = _resolve(op)
    if not (isinstance(impl, type) and issubclass(impl, op)):
        raise TypeError(f"kernels.register: expected impl to be a subclass of {op.__name__}, got {impl!r}")
    impl._kernel_of = op
    k = Kernel(op, device_type, impl, priority, supports, name or impl.__name__)
    lst = _table.setdefault((op, device_type), [])
    lst.append(k)
    lst.sort(key=lambda k: -k.priority)
    kernel_ops.add(op)
    return k


def unregister(kernel: Kernel) -> None:
    lst = _table.get((kernel.op, kernel.device_type), [])
    if kernel in lst:
        lst.remove(kernel)
    if not any(_table.get((kernel.op, dt)) for (o, dt) in list(_table) if o is kernel.op):
        kernel_ops.discard(kernel.op)


def candidates(op: Any, device_type: str) -> list[Kernel]:
    return list(_table.get((_resolve(op), device_type), ()))


def select(op: type, device_type: str, arrays: list, kwargs: dict) -> type:
    """The implementation class to run: the best registered kernel that supports the call, else op."""
    for k in _table.get((op, device_type), ()):
        if k.supports is None or k.supports(arrays, kwargs):
            return k.impl
    return op


class _Registry:
    """The object handed to ``Backend.register_kernels`` and kernel packs."""

    register = staticmethod(register)
    unregister = staticmethod(unregister)
    candidates = staticmethod(candidates)


registry = _Registry()
