"""The differentiable ops under NumPy's names that ``ctx.xp`` offers while ``create_graph=True``.

``Tensor`` declares ``table`` as its ``_graph_ops``; the engine (a layer below) builds its
``GraphNamespace`` from it, so autograd never imports the op families.
"""

from __future__ import annotations

from typing import Any

from .._base.dtype import _FROM_NP, to_np
from .._tensor import Tensor
from . import combine as J
from . import creation
from . import cumulative as C
from . import elementwise as E
from . import indexing as I
from . import linalg as L
from . import reduction as R
from . import shape as S

_TABLE: dict[str, Any] = {}


def table() -> dict[str, Any]:
    """The table, built at the first double backward."""
    if not _TABLE:
        _TABLE.update(_ops())
    return _TABLE


def _ops() -> dict[str, Any]:
    def broadcast_to(x, shape):
        return S.expand(x, tuple(shape))

    def transpose(x, axes=None):
        return S.permute(x, tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))

    def flip(x, axis=None):
        return J.flip(x, tuple(range(x.ndim)) if axis is None else axis)

    def cumsum(x, axis=None):
        return C.cumsum(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)

    def cumprod(x, axis=None):
        return C.cumprod(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)

    def expand_dims(x, axis):
        return S.unsqueeze(x, axis)

    def take_along_axis(x, idx, axis):
        return I.gather(x, axis, idx if isinstance(idx, Tensor) else creation.as_tensor(idx))

    def concatenate(xs, axis=0):
        return J.cat(list(xs), axis)

    def stack(xs, axis=0):
        return J.stack(list(xs), axis)

    def _const(fn):
        def make(shape, dtype=None, **_):
            return fn(*tuple(shape) if isinstance(shape, (tuple, list)) else (shape,),
                      dtype=None if dtype is None else _FROM_NP[_np_dtype(dtype)])

        return make

    def zeros_like(x, dtype=None):
        return creation.zeros_like(x)

    def ones_like(x, dtype=None):
        return creation.ones_like(x)

    def isfinite(x):
        return x.isfinite()

    def isnan(x):
        return x.isnan()

    def sum(x, axis=None, keepdims=False):  # noqa: A001
        return R.sum(x, axis, keepdims)

    def mean(x, axis=None, keepdims=False):
        return R.mean(x, axis, keepdims)

    def moveaxis(x, source, destination):
        return S.movedim(x, source, destination)

    return {
        "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "sign": E.sign, "sin": E.sin, "cos": E.cos,
        "tan": E.tan, "tanh": E.tanh, "sinh": E.sinh, "cosh": E.cosh, "arcsin": E.asin, "arccos": E.acos,
        "arctan": E.atan, "log1p": E.log1p, "expm1": E.expm1, "log2": E.log2, "log10": E.log10,
        "maximum": E.maximum, "minimum": E.minimum, "square": E.square, "where": I.where,
        "broadcast_to": broadcast_to, "transpose": transpose, "swapaxes": S.transpose, "flip": flip,
        "cumsum": cumsum, "cumprod": cumprod, "roll": J.roll, "reshape": S.reshape, "expand_dims": expand_dims,
        "take_along_axis": take_along_axis, "matmul": L.matmul, "concatenate": concatenate, "stack": stack,
        "einsum": lambda eq, *ops, **_: L.einsum(eq, *ops),
        "zeros": _const(creation.zeros), "ones": _const(creation.ones), "zeros_like": zeros_like,
        "ones_like": ones_like, "isfinite": isfinite, "isnan": isnan, "sum": sum,
        "mean": mean, "moveaxis": moveaxis,
    }


def _np_dtype(d: Any):

    return to_np(d)  # a Tensor's dtype (a lamina dtype) as well as NumPy dtypes and names


