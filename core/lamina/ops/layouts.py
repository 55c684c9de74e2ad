"""What the core offers tensors of layouts a plugin provides (sparse COO/CSR/..., lamina-sparse).

Such a tensor is an instance of a ``lamina.Tensor`` subclass (``isinstance`` holds, as in torch)
with no strided array of its own. Two hooks, and the core never imports the plugin:

* :func:`init_layout_tensor` sets the core's per-tensor state of a fresh instance, with a
  ``storage`` object that stands in for the strided array (it answers ``shape``, ``dtype``,
  ``ndim``, ``size`` and refuses computation);
* a core op that accepts such operands (``mm``, ``matmul``, hence ``addmm`` and the Tensor
  methods) first asks :func:`layout_hook`: the first operand whose class defines
  ``__lamina_function__(func, args, kwargs)`` gets the call; it returns the result, or
  ``NotImplemented`` to let the dense op go on (as torch's ``__torch_function__`` protocol). The
  lookup is an attribute read on the operands' classes, so dense calls pay one ``getattr``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import TensorBase, _init_from

_HOOK = "__lamina_function__"


def init_layout_tensor(t: TensorBase, storage: Any, device: Any) -> None:
    """Set the core state of ``t`` (made with ``object.__new__(cls)``) on ``device``, holding ``storage``."""
    _init_from(t, storage, device)


def layout_hook(*operands: Any) -> Callable | None:
    """The ``__lamina_function__`` of the first operand whose class defines one, else None."""
    for x in operands:
        hook = getattr(type(x), _HOOK, None)
        if hook is not None:
            return hook
    return None


def call_layout_hook(func: Callable, args: tuple, kwargs: dict | None = None) -> Any:
    """``func(*args, **kwargs)`` served by a layout operand's hook, or NotImplemented when none serves it."""
    hook = layout_hook(*args)
    if hook is None:
        return NotImplemented
    return hook(func, args, kwargs or {})
