"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[k] = v`` ...) with version counters.

Without graph recording the array is changed in place. With recording, the op runs out of place
on a snapshot (so nothing saved for backward aliases the storage being overwritten), the result
is written into the tensor's storage, and the tensor takes the new node as its history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..autograd.grad_mode import state as _state


def check_inplace(x: Tensor, *others: Any) -> bool:
    """Raise for illegal in-place changes; return whether the change must be recorded in the graph."""
    if not _state.enabled:
        return False
    needs = x._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    if not needs:
        return False
    if x._node is None and x._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if x._base is not None and (x._base._requires_grad or x._requires_grad):
        raise RuntimeError(
            "in-place operation on a view of a tensor that requires grad: lamina does not rewrite the base's "
            "history; use the out-of-place form (e.g. y = x.mul(2)) or clone() first")
    return True


def snapshot(x: Tensor) -> Tensor:
    """A tensor with a copy of ``x``'s values and ``x``'s place in the graph."""
    t = Tensor._make(x._data.copy(), x._device, x._requires_grad)
    t._node, t._output_nr = x._node, x._output_nr
    return t


def rebase(x: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` into ``x``'s storage and give ``x`` the result's history."""
    if result._data.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(result.shape)}")
    x._data[...] = result._data
    x._vc.v += 1
    # saved references to the result array now point at x's storage, whose version we own
    node = result._node
    if node is not None and node._saved is not None:
        node._saved = tuple(x._data if s is result._data else s for s in node._saved)
        if node._saved_src is not None:
            node._saved_src = [("out", s[1], x._vc, x._vc.v) if s is not None and s[0] == "out" else s
                               for s in node._saved_src]
    x._node, x._output_nr = node, result._output_nr
    x._requires_grad = result._requires_grad
    return x


def make_inplace(name: str, out_of_place: Callable, array_op: Callable | None = None) -> Callable[..., Tensor]:
    """Build ``Tensor.<name>_``: ``array_op(array, *args)`` mutates in place when no graph is needed."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if check_inplace(self, *args):
            snap = snapshot(self)
            args = tuple(snap if a is self else a for a in args)  # x.mul_(x): both operands are the old x
            return rebase(self, out_of_place(snap, *args, **kwargs))
        if array_op is not None and self._data.flags.writeable:
            plain = [a._data if isinstance(a, Tensor) else a for a in args]
            array_op(self._data, *plain, **kwargs)
        else:
            res = out_of_place(self.detach(), *args, **kwargs)
            if res._data.dtype != self._data.dtype:
                if self._data.dtype.kind in "biu" and res._data.dtype.kind in "fc":
                    raise RuntimeError(f"{name}_: result type {res.dtype} can't be cast to the desired output "
                                       f"type {self.dtype}")
            self._data[...] = res._data
        self._vc.v += 1
        return self

    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`{name}`."
    return method
