"""The CUDA kernel pack: fused kernels registered for device type ``cuda``.

``register(registry)`` is the ``lamina.kernels.cuda`` entry point; the core calls it when the CUDA
backend is instantiated (never at import). Each kernel's ``supports`` predicate accepts only
contiguous float32/float64 CuPy arrays (and the shapes it handles), so a stand-in backend or an
unusual layout falls back to the op's reference implementation. Kernels for ops defined by other
plugins (convolution, pooling, cross-entropy, recurrent layers, norms, optimizer updates) register
only when that plugin is installed; ``skipped`` says which were left out and why.
"""

from __future__ import annotations

from typing import Any

__lamina_plugin_api__ = "1.0"

#: the priority of this pack's kernels (above the reference, below a user's own kernels at 100+)
PRIORITY = 10
_registered: list[Any] = []


#: kernel modules; each targets an op of the core or of one plugin, imported only when registering
MODULES = ("conv", "pool", "xent", "rnn", "norm", "optim")
#: module -> why it was skipped (the plugin whose op it targets is not installed)
skipped: dict[str, str] = {}


def table() -> list[tuple[type, type, Any]]:
    """(op, kernel class, supports) for every kernel of the pack whose target op is installed."""
    import importlib

    from . import activation, softmax

    rows = [(op, impl, activation.supports_pointwise) for op, impl in activation.KERNELS]
    rows += [(op, impl, softmax.supports_last_axis) for op, impl in softmax.KERNELS]
    skipped.clear()
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ImportError as e:  # the target plugin (lamina-layers-basic, -losses, ...) is not installed
            skipped[name] = f"{type(e).__name__}: {e}"
            continue
        rows += list(mod.KERNELS)
    return rows


def register(registry: Any) -> None:
    """Register every kernel for ``cuda`` (idempotent: a second call replaces the first)."""
    for k in _registered:
        registry.unregister(k)
    _registered.clear()
    for op, impl, supports in table():
        _registered.append(registry.register(op, "cuda", impl, priority=PRIORITY, supports=supports,
                                             name=f"lamina-backend-cuda:{impl.__name__}"))
