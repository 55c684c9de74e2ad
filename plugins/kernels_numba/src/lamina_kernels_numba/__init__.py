"""lamina-kernels-numba: an optional CPU kernel pack of fused, multi-threaded numba kernels.

``register(registry)`` is the ``lamina.kernels.cpu`` entry point; the core calls it when the CPU
backend is instantiated. Kernels are registered by op name with a factory, so this package imports
neither the plugins whose ops it serves nor numba itself until a kernel is first selected; the
first call of each kernel compiles it (cached on disk by numba, so later processes load it).

A kernel runs its loops over independent groups (a channel, a row) with ``numba.prange`` and sums
in a fixed order, in float64, so its results do not depend on the thread count. The thread count
follows ``lamina.set_num_threads``. Uninstall the pack and the ops' NumPy references run instead.
"""

from __future__ import annotations

from typing import Any

__lamina_plugin_api__ = "1.0"

#: above the reference (0), below a user's own kernels (100+); the CUDA pack uses the same level
PRIORITY = 10
_registered: list[Any] = []


def table() -> list[tuple[str, Any, Any]]:
    """(op name, kernel factory, supports) for every kernel of the pack."""
    from . import norm

    return list(norm.KERNELS)


def kernel_name(op_name: str) -> str:
    """``lamina-kernels-numba:Numba<op>``, also the kernel class's name."""
    return f"lamina-kernels-numba:Numba{op_name}"


def register(registry: Any) -> None:
    """Register every kernel for ``cpu`` (idempotent: a second call replaces the first)."""
    for k in _registered:
        registry.unregister(k)
    _registered.clear()
    for op, make, supports in table():
        _registered.append(registry.register(op, "cpu", make, priority=PRIORITY, supports=supports,
                                             name=kernel_name(op)))
