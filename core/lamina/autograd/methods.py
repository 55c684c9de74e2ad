"""The autograd entry points every tensor has: ``backward``, ``register_hook``, ``retain_grad``.

A mixin of ``lamina.ops.tensor.Tensor`` (the autograd layer sits below the op families).
"""

from __future__ import annotations

import builtins
import warnings
from typing import TYPE_CHECKING, Any

from . import engine as _engine
from .grad_mode import state as _grad_state

if TYPE_CHECKING:
    from .._tensor import Tensor


_scalar_warned = False


def warn_scalar_of_grad(t: Tensor) -> None:
    """torch's one-per-process UserWarning when ``float()``/``complex()`` takes a tensor that requires grad
    while grad mode is on (``item()``, ``int()`` and ``bool()`` stay silent, as there)."""
    global _scalar_warned
    if t._requires_grad and _grad_state.enabled and not _scalar_warned:
        _scalar_warned = True
        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                      "Consider using tensor.detach() first.", UserWarning, stacklevel=3)


class AutogradMethods:
    """Mixed into ``Tensor``; ``self`` is always a tensor."""

    __slots__ = ()

    def __float__(self: Tensor) -> builtins.float:
        warn_scalar_of_grad(self)
        return builtins.float(self.item())

    def retain_grad(self: Tensor) -> None:
        if self._node is None:
            return
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
        if not self._retain:
            self._retain = True
            from .tensor_hooks import add_retain_hook

            add_retain_hook(self)

    def register_hook(self: Tensor, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        from .tensor_hooks import register_tensor_hook

        return register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self: Tensor, hook: Any) -> Any:
        """Call ``hook(self)`` (a leaf) right after its ``.grad`` is accumulated in a backward pass, as soon
        as its gradient is complete (DistributedDataParallel all-reduces from here); not on ``autograd.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .function import _Handle

        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _Handle(self._post_hooks, hook)

    def backward(self: Tensor, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        if inputs is not None:
            return _engine.backward([self], [gradient], retain_graph, create_graph, inputs)
        roots = _engine._root_grads((self,), (gradient,), create_graph)  # what backward() does, one frame less
        _engine.run(roots, create_graph if retain_graph is None else retain_graph, create_graph)
