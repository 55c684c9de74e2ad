"""Elementwise ops on sparse COO tensors where torch keeps the layout.

* linear in the values (neg, positive, scalar mul/div): applied to the stored values; the coalesced
  flag is kept (duplicates stay duplicates, their sum scales the same);
* zero-preserving but nonlinear (abs, sqrt, sin, tanh, relu, pow, ...): coalesce first, as torch does;
* sparse + sparse: torch's merge of the two entry lists (read as sorted by linear index; equal heads
  summed), so uncoalesced inputs give torch's entry order; sparse * sparse: the intersection of the
  coalesced patterns (torch may return a different but equal-valued pattern for uncoalesced inputs);
* sparse * dense: values times the dense entries at the indices (pattern kept); dense + sparse is dense.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import lamina
from lamina import Tensor

from ._index import linearize, merge_sorted, unravel


def _is_sparse(x: Any) -> bool:
    return isinstance(x, Tensor) and x.is_sparse


def _scalar(x: Any) -> bool:
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and not x.is_sparse and x.ndim == 0)


def _nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    info = lamina.finfo(x.dtype)
    x = lamina.where(x != x, lamina.full_like(x, nan), x)
    x = lamina.where(x == float("inf"), lamina.full_like(x, info.max if posinf is None else posinf), x)
    return lamina.where(x == float("-inf"), lamina.full_like(x, info.min if neginf is None else neginf), x)


#: values-level forms of the ops the core's Tensor does not have as methods
_COMPOSED = {
    "positive": lambda x: x,
    "deg2rad": lambda x: x * (math.pi / 180.0),
    "rad2deg": lambda x: x * (180.0 / math.pi),
    "asinh": lambda x: (x + (x * x + 1).sqrt()).log().where(x >= 0, -((-x) + (x * x + 1).sqrt()).log()),
    "atanh": lambda x: ((1 + x) / (1 - x)).log() * 0.5,
    "nan_to_num": _nan_to_num,
}


def _values_op(vals: Tensor, name: str, *args: Any, **kwargs: Any) -> Tensor:
    if name in _COMPOSED and not hasattr(type(vals), name):
        return _COMPOSED[name](vals, *args, **kwargs)
    return getattr(vals, name)(*args, **kwargs)


def _linear(name: str):
    def op(self):
        from ._coo import make_coo

        return make_coo(self._idx, _values_op(self._vals, name), self._size, self._coalesced)

    op.__name__ = name
    op.__doc__ = f"{name} of the stored values (linear: the pattern and coalesced flag are kept)."
    return op


def _on_coalesced(name: str):
    def op(self, *args: Any, **kwargs: Any):
        from ._coo import make_coo

        c = self.coalesce()
        return make_coo(c._idx, _values_op(c._vals, name, *args, **kwargs), c._size, True)

    op.__name__ = name
    op.__doc__ = f"{name} of the coalesced values (zero-preserving, so the pattern is kept)."
    return op


def mul(input: Tensor, other: Any) -> Tensor:
    """Sparse times a scalar, a dense tensor of the same shape, or another sparse tensor."""
    from ._coo import make_coo

    if not _is_sparse(input):
        input, other = other, input
    if _scalar(other):
        return make_coo(input._idx, input._vals * other, input._size, input._coalesced)
    if _is_sparse(other):
        return _mul_sparse(input, other)
    if tuple(other.shape) != tuple(input._size):
        raise RuntimeError(f"mul: expected sizes of 'self' and 'other' to match, but {list(input._size)} != "
                           f"{list(other.shape)}")
    at = other[tuple(input._indices())]                                 # (nnz, *D)
    return make_coo(input._idx, input._vals * at, input._size, input._coalesced)


def _mul_sparse(a: Tensor, b: Tensor) -> Tensor:
    from ._coo import make_coo

    _check_same_size("mul", a, b)
    a, b = a.coalesce(), b.coalesce()
    xp = a.device.backend.xp
    sizes = a._size[:a.sparse_dim()]
    _, pa, pb = xp.intersect1d(linearize(xp, a._idx, sizes), linearize(xp, b._idx, sizes), return_indices=True)
    dev = a.device
    vals = a._vals[lamina.as_tensor(pa, device=dev)] * b._vals[lamina.as_tensor(pb, device=dev)]
    return make_coo(a._idx[:, pa], vals, a._size, True)


def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """sparse + sparse (torch's merge), or dense + sparse -> dense."""
    from ._coo import make_coo

    if not _is_sparse(input):
        return input + (other.to_dense() if alpha == 1 else other.to_dense() * alpha)
    if not _is_sparse(other):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    _check_same_size("add", input, other)
    if input.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same sparse dimensions, but got "
                           f"{input.sparse_dim()} and {other.sparse_dim()}")
    xp = input.device.backend.xp
    sizes = input._size[:input.sparse_dim()]
    lin_a, lin_b = linearize(xp, input._idx, sizes), linearize(xp, other._idx, sizes)
    slot_a, slot_b, n = merge_sorted(xp, lin_a, lin_b)
    lin = xp.zeros(n, dtype=xp.int64)
    lin[slot_a] = lin_a
    lin[slot_b] = lin_b
    dt = lamina.promote_types(input.dtype, other.dtype)
    vb = other._vals.to(dt) * alpha if alpha != 1 else other._vals.to(dt)
    from ._autograd import ScatterSum

    vals = ScatterSum.apply(lamina.cat([input._vals.to(dt), vb]), xp.concatenate([slot_a, slot_b]), n)
    return make_coo(unravel(xp, lin, sizes), vals, input._size, input._coalesced and other._coalesced)


def _check_same_size(name: str, a: Tensor, b: Tensor) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"{name}: expected sizes of 'self' and 'other' to match, but {list(a.shape)} != "
                           f"{list(b.shape)}")


class ArithMethods:
    """Mixed into ``SparseCooTensor``."""

    __slots__ = ()

    neg = __neg__ = _linear("neg")
    negative = neg
    positive = __pos__ = _linear("positive")
    conj = _linear("conj")
    for _name in ("abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh", "expm1", "log1p",
                  "relu", "sign", "sgn", "square", "floor", "ceil", "round", "trunc", "frac", "erf", "erfinv",
                  "deg2rad", "rad2deg", "nan_to_num", "signbit", "isnan", "isinf", "pow"):
        locals()[_name] = _on_coalesced(_name)
    del _name
    absolute = __abs__ = locals()["abs"]
    arcsin, arctan, arcsinh, arctanh = locals()["asin"], locals()["atan"], locals()["asinh"], locals()["atanh"]
    __pow__ = locals()["pow"]

    def mul(self, other: Any) -> Tensor:
        return mul(self, other)

    multiply = __mul__ = __rmul__ = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        from ._coo import make_coo

        if not _scalar(other):
            raise NotImplementedError("div: a sparse COO tensor can be divided by a scalar only in lamina-sparse")
        return make_coo(self._idx, self._vals.div(other, rounding_mode=rounding_mode), self._size, self._coalesced)

    divide = true_divide = div

    def __truediv__(self, other: Any) -> Tensor:
        return self.div(other)

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return add(self, other, alpha=alpha)

    def __add__(self, other: Any) -> Tensor:
        return add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return add(other, self)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return add(self, other, alpha=-alpha) if _is_sparse(other) else add(self, other)

    subtract = sub

    def __sub__(self, other: Any) -> Tensor:
        return self.sub(other)

    def __rsub__(self, other: Any) -> Tensor:
        return add(other, self, alpha=-1)
