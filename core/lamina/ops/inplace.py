"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[k] = v`` ...) with version counters.

Without graph recording the array is changed in place. With recording, the op runs out of place
on a snapshot (so nothing saved for backward aliases the storage being overwritten), the result
is written into the tensor's storage, and the tensor takes the new node as its history.
An in-place op keeps the tensor's dtype: a result that torch would not cast to it (float into an
integer tensor, complex into a real one, anything but bool into a bool one) is a RuntimeError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _state
from ._util import SCALAR_TYPE


def check_cast(src: Any, dst: Any) -> None:
    """Raise as torch does when an array of dtype ``src`` may not be written into one of ``dst`` (NumPy dtypes):
    same-kind casting, with bool below every other kind."""
    if src == dst:
        return
    refused = ((src.kind == "c" and dst.kind != "c") or (src.kind == "f" and dst.kind in "biu")
               or (src.kind != "b" and dst.kind == "b"))
    if refused:
        raise RuntimeError(f"result type {SCALAR_TYPE.get(src.name, src.name)} can't be cast to the desired "
                           f"output type {SCALAR_TYPE.get(dst.name, dst.name)}")


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


def _check_shape(x: Tensor, result: Tensor) -> None:
    if result._data.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(result.shape)}")


def rebase(x: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` into ``x``'s storage and give ``x`` the result's history."""
    _check_shape(x, result)
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
    """Build ``Tensor.<name>_``: ``array_op(array, *args)`` mutates in place when no graph is needed.

    ``array_op`` is a fast path: when it refuses (a TypeError or ValueError, e.g. NumPy's casting
    rule or a tensor bound it does not take) the out-of-place op runs and its result is checked
    against ``self``'s shape and dtype.
    """

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if check_inplace(self, *args):
            snap = snapshot(self)
            args = tuple(snap if a is self else a for a in args)  # x.mul_(x): both operands are the old x
            result = out_of_place(snap, *args, **kwargs)
            check_cast(result._data.dtype, self._data.dtype)
            return rebase(self, result)
        if array_op is not None and self._data.flags.writeable:
            plain = [a._data if isinstance(a, Tensor) else a for a in args]
            try:
                array_op(self._data, *plain, **kwargs)
            except (TypeError, ValueError):
                pass  # the general path below raises torch's error, or handles what the fast path does not
            else:
                self._vc.v += 1
                return self
        res = out_of_place(self.detach(), *args, **kwargs)
        _check_shape(self, res)
        check_cast(res._data.dtype, self._data.dtype)
        self._data[...] = res._data
        self._vc.v += 1
        return self

    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`{name}`."
    return method


class _ZeroGrad(Function):
    """``values`` cast to ``x``'s dtype, with a zero gradient for ``x``: a comparison's place in the graph."""

    @staticmethod
    def forward(ctx, x, values):
        return values.astype(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        return ctx.xp.zeros_like(dy), None


def make_compare_inplace(name: str, compare: Callable[..., Tensor], tensor_only: bool = False) -> Callable[..., Tensor]:
    """Build ``Tensor.<name>_`` for a comparison or logical op: ``self`` keeps its dtype and holds 1/0.

    ``tensor_only``: the other operand must be a Tensor (torch's ``logical_and_(1.0)`` is a TypeError).

    In the graph the tensor's gradient becomes zero, as torch's ``eq_`` on a tensor that requires grad.
    """

    def method(self: Tensor, *args: Any) -> Tensor:
        if tensor_only and not isinstance(args[0], Tensor):
            raise TypeError(f"{name}_(): argument 'other' (position 1) must be Tensor, not {type(args[0]).__name__}")
        if check_inplace(self, *args):
            snap = snapshot(self)
            args = tuple(snap if a is self else a for a in args)
            mask = compare(snap.detach(), *(a.detach() if isinstance(a, Tensor) else a for a in args))
            _check_shape(self, mask)
            return rebase(self, _ZeroGrad.apply(snap, mask._data))
        mask = compare(self.detach(), *args)
        _check_shape(self, mask)
        self._data[...] = mask._data
        self._vc.v += 1
        return self

    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`{name}`: ``self`` keeps its dtype."
    return method
