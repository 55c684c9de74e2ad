"""The kernel registry: faster implementations of an op for one device type (DESIGN.md §4).

An op is a ``Function`` subclass whose ``forward``/``backward`` in ``xp`` code is the reference
that runs on every backend. A backend or kernel pack registers a faster kernel, itself a subclass
of the op overriding ``forward`` (and ``backward`` where needed), for ``(op, device_type)`` with a
priority and an optional ``supports(arrays, kwargs) -> bool`` predicate. Selection is a cached
dict lookup; the reference is the last resort. ``lamina.kernels.explain`` shows the choice.

By name, for ops of other distributions. Every op is indexed by name when its class is created
(``op_name``, else the class name). A pack that must not import the plugin defining an op passes
that name and a factory instead of a class: ``register("ConvNd", "cuda", make_impl, ...)``, where
``make_impl(op) -> kernel class`` (a subclass of ``op``). The kernel waits (``pending``) until an op
of that name is created, then joins the op's candidates; the factory runs at the first selection
that the predicate accepts, so a broken factory costs only its kernel (a ``RuntimeWarning``, then
the reference). A kernel whose op never appears stays pending and costs nothing (``pending()``
lists it, ``candidates(name, ...)`` returns it, ``explain`` names it). Two ops of one name and a
kernel registered under that name by a factory are reported (``RuntimeWarning``). This is how
lamina-backend-cuda serves the ops of lamina-layers-basic, -losses, -norms, -optim and
-layers-recurrent without importing them (rather than each plugin shipping CUDA code of its own).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["register", "unregister", "registry", "candidates", "pending", "find_op", "select", "Kernel"]

#: ops that have at least one registered kernel (Function.apply checks membership: one set lookup)
kernel_ops: set = set()
_ops_by_name: dict[str, type] = {}
_shared: set[str] = set()                 # names given to more than one op
_table: dict[tuple[type, str], list[Kernel]] = {}
_waiting: dict[str, list[Kernel]] = {}    # op name -> kernels registered by a name no op has yet


class Kernel:
    """One registered kernel (a plain record; no dataclass to keep ``import lamina`` light).

    ``op`` is None while the kernel is pending; ``impl`` is None until ``select`` builds it with the
    factory ``make``; ``error`` says why a factory failed (the kernel is then unregistered).
    """

    __slots__ = ("op", "op_name", "device_type", "impl", "make", "priority", "supports", "name", "error")

    def __init__(self, op: type | None, device_type: str, impl: type | None, priority: int = 0,
                 supports: Callable[[list, dict], bool] | None = None, name: str = "", *,
                 op_name: str = "", make: Callable[[type], type] | None = None) -> None:
        self.op, self.op_name, self.device_type, self.impl, self.make = op, op_name, device_type, impl, make
        self.priority, self.supports, self.name, self.error = priority, supports, name, None

    def __repr__(self) -> str:
        return (f"Kernel({self.op_name}, {self.device_type!r}, {self.name}, priority={self.priority})"
                + (" (pending)" if self.op is None else ""))


def _name_of(cls: type) -> str:
    return cls.__dict__.get("op_name") or cls.__name__


def _warn_shared(name: str) -> None:
    warnings.warn(f"kernels: several ops are named {name!r}; kernels registered under that name apply to "
                  f"{_ops_by_name[name].__module__}.{name} only (give the others an op_name)", RuntimeWarning,
                  stacklevel=3)


def note_op(cls: type) -> None:
    """Called for every Function subclass: index it by name; kernels waiting for that name join it."""
    name = _name_of(cls)
    first = _ops_by_name.setdefault(name, cls)
    if first is not cls:
        _shared.add(name)
        if any(k.make for ks in _kernels_of(first) for k in ks):
            _warn_shared(name)
        return
    for k in _waiting.pop(name, ()):
        _attach(k, cls)


def _kernels_of(op: type) -> list[list[Kernel]]:
    return [ks for (o, _), ks in _table.items() if o is op]


def _resolve(op: Any) -> type:
    if not isinstance(op, str):
        return op
    try:
        return _ops_by_name[op]
    except KeyError:
        waiting = ", ".join(f"{k.name} ({k.device_type})" for k in _waiting.get(op, ()))
        if waiting:
            raise KeyError(f"kernels: no op named {op!r} exists yet; the kernels {waiting} wait for it and apply "
                           "once the plugin defining it is imported (by using one of its layers or functions)"
                           ) from None
        raise KeyError(f"kernels: no op named {op!r}; known ops include {sorted(_ops_by_name)[:20]}") from None


def _check_impl(op: type, impl: Any) -> type:
    if not (isinstance(impl, type) and issubclass(impl, op)):
        raise TypeError(f"kernels.register: expected impl to be a subclass of {op.__name__}, got {impl!r}")
    impl._kernel_of = op
    return impl


def _attach(k: Kernel, op: type) -> None:
    # new lists, here and in unregister: a select iterating the old one is undisturbed
    k.op = op
    _table[op, k.device_type] = sorted(_table.get((op, k.device_type), []) + [k], key=lambda k: -k.priority)
    kernel_ops.add(op)


def _build(k: Kernel) -> type | None:
    # two threads may both build a kernel the first time: the classes are equivalent, one is kept
    if k.error is None:
        try:
            k.impl = _check_impl(k.op, k.make(k.op))
        except Exception as e:  # noqa: BLE001  (a broken pack costs only its kernel)
            k.error = f"{type(e).__name__}: {e}"
            unregister(k)
            warnings.warn(f"kernels: {k.name} for {k.op_name} on {k.device_type} could not be built "
                          f"({k.error}); it is unregistered and the reference implementation runs instead",
                          RuntimeWarning, stacklevel=3)
    return k.impl


def register(op: Any, device_type: str, impl: Any, *, priority: int = 0,
             supports: Callable[[list, dict], bool] | None = None, name: str = "") -> Kernel:
    """Register ``impl`` as a kernel of ``op`` (a class, or an op name) on ``device_type``.

    ``impl`` is a subclass of the op, or a factory ``impl(op) -> subclass`` (needed when the op is
    given by a name that no op has yet: the kernel is then pending; see the module docstring).
    """
    op_name = op if isinstance(op, str) else _name_of(op)
    if isinstance(impl, type):
        op = _resolve(op)
        impl, make = _check_impl(op, impl), None
    elif callable(impl):
        op, impl, make = _ops_by_name.get(op) if isinstance(op, str) else op, None, impl
    else:
        raise TypeError(f"kernels.register: expected impl to be a kernel class or a factory, got {impl!r}")
    k = Kernel(None, device_type, impl, priority, supports, name or getattr(impl or make, "__name__", "?"),
               op_name=op_name, make=make)
    if op is None:
        _waiting.setdefault(op_name, []).append(k)
    else:
        if make is not None and op_name in _shared:
            _warn_shared(op_name)
        _attach(k, op)
    return k


def unregister(kernel: Kernel) -> None:
    if kernel.op is None:
        rest = [k for k in _waiting.pop(kernel.op_name, ()) if k is not kernel]
        if rest:
            _waiting[kernel.op_name] = rest
        return
    key = (kernel.op, kernel.device_type)
    _table[key] = [k for k in _table.get(key, ()) if k is not kernel]
    if not any(_kernels_of(kernel.op)):
        kernel_ops.discard(kernel.op)


def candidates(op: Any, device_type: str) -> list[Kernel]:
    """The kernels of ``op`` on ``device_type``, best first (for a name no op has yet: those waiting)."""
    if isinstance(op, str) and op not in _ops_by_name and op in _waiting:
        return [k for k in _waiting[op] if k.device_type == device_type]
    return list(_table.get((_resolve(op), device_type), ()))


def pending(device_type: str | None = None) -> list[Kernel]:
    """Kernels registered by a name that no op has yet (optionally only those for ``device_type``)."""
    return [k for ks in _waiting.values() for k in ks if device_type in (None, k.device_type)]


def find_op(name: str) -> type | None:
    """The op registered under ``name`` (``op_name`` or class name), or None if no such op exists yet."""
    return _ops_by_name.get(name)


def select(op: type, device_type: str, arrays: list, kwargs: dict) -> type:
    """The implementation class to run: the best registered kernel that supports the call, else op."""
    for k in _table.get((op, device_type), ()):
        if k.supports is None or k.supports(arrays, kwargs):
            impl = k.impl or _build(k)
            if impl is not None:
                return impl
    return op


class _Registry:
    """The object handed to ``Backend.register_kernels`` and kernel packs."""

    register = staticmethod(register)
    unregister = staticmethod(unregister)
    candidates = staticmethod(candidates)
    pending = staticmethod(pending)


registry = _Registry()
