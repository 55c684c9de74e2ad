"""The CUDA kernel pack: fused kernels registered for device type ``cuda``.

``register(registry)`` is the ``lamina.kernels.cuda`` entry point; the core calls it when the CUDA
backend is instantiated (never at import). Each kernel's ``supports`` predicate accepts only
contiguous float32/float64 CuPy arrays (and the shapes it handles), so a stand-in backend or an
unusual layout falls back to the op's reference implementation.

The core's ops (``Relu``, ``Softmax``, ...) are registered by class. The ops of other plugins
(convolution, pooling, cross-entropy, recurrent layers, norms, optimizer updates) are registered by
name with a factory ``make(op) -> kernel class`` (see ``lamina.backends.kernels``): this package
imports no other plugin, a kernel joins its op when the op's plugin is imported, and a kernel whose
plugin is not installed (or not used yet) stays pending; ``skipped()`` lists those and why.
"""

from __future__ import annotations

from typing import Any

__lamina_plugin_api__ = "1.0"

#: the priority of this pack's kernels (above the reference, below a user's own kernels at 100+)
PRIORITY = 10
_registered: list[Any] = []

#: kernel modules for the ops of other plugins (registered by op name)
MODULES = ("conv", "pool", "xent", "rnn", "norm", "optim")


def table() -> list[tuple[Any, Any, Any]]:
    """(op class or op name, kernel class or factory, supports) for every kernel of the pack."""
    import importlib

    from . import activation, softmax

    rows = [(op, impl, activation.supports_pointwise) for op, impl in activation.KERNELS]
    rows += [(op, impl, softmax.supports_last_axis) for op, impl in softmax.KERNELS]
    for name in MODULES:
        rows += list(importlib.import_module(f"{__name__}.{name}").KERNELS)
    return rows


def kernel_name(op: Any) -> str:
    """The registered name of the kernel for ``op`` (a class or a name): ``lamina-backend-cuda:Cuda<op>``,
    which is also its class's name."""
    return f"lamina-backend-cuda:Cuda{op if isinstance(op, str) else op.__name__}"


def register(registry: Any) -> None:
    """Register every kernel for ``cuda`` (idempotent: a second call replaces the first)."""
    for k in _registered:
        registry.unregister(k)
    _registered.clear()
    for op, impl, supports in table():
        _registered.append(registry.register(op, "cuda", impl, priority=PRIORITY, supports=supports,
                                             name=kernel_name(op)))


def skipped() -> dict[str, str]:
    """Registered kernels that do not serve yet, by name, and why (their op does not exist yet, or the
    kernel could not be built)."""
    out = {}
    for k in _registered:
        if k.op is None:
            out[k.name] = (f"waiting for the op {k.op_name!r}: the plugin defining it is not installed or has "
                           "not been imported yet")
        elif k.error is not None:
            out[k.name] = f"could not be built: {k.error}"
    return out
