"""The CUDA kernel pack: fused kernels registered for device type ``cuda``.

``register(registry)`` is the ``lamina.kernels.cuda`` entry point; the core calls it when the CUDA
backend is instantiated (never at import). Each kernel's ``supports`` predicate accepts only
contiguous float32/float64 CuPy arrays (and, for softmax, the last axis), so a stand-in backend
or an unusual layout falls back to the op's reference implementation.
"""

from __future__ import annotations

from typing import Any

__lamina_plugin_api__ = "1.0"

#: the priority of this pack's kernels (above the reference, below a user's own kernels at 100+)
PRIORITY = 10
_registered: list[Any] = []


def table() -> list[tuple[type, type, Any]]:
    """(op, kernel class, supports) for every kernel of the pack."""
    from . import activation, optim, softmax

    rows = [(op, impl, activation.supports_pointwise) for op, impl in activation.KERNELS]
    rows += [(op, impl, softmax.supports_last_axis) for op, impl in softmax.KERNELS]
    rows += [(optim.AdamStep, optim.CudaAdamStep, optim.supports_adam),
             (optim.SGDStep, optim.CudaSGDStep, optim.supports_sgd)]
    return rows


def register(registry: Any) -> None:
    """Register every kernel for ``cuda`` (idempotent: a second call replaces the first)."""
    for k in _registered:
        registry.unregister(k)
    _registered.clear()
    for op, impl, supports in table():
        _registered.append(registry.register(op, "cuda", impl, priority=PRIORITY, supports=supports,
                                             name=f"lamina-backend-cuda:{impl.__name__}"))
