"""A differentiable stand-in for ``xp`` used while ``create_graph=True``.

Backward formulas are written with operators and ``ctx.xp`` functions. For double backward the
engine hands them Tensors and this namespace, whose functions are lamina's differentiable ops, so
the same formula records a graph. Functions without a differentiable counterpart raise, naming
the function, rather than silently cutting the graph.
"""

from __future__ import annotations

from typing import Any

from .._dtype import _FROM_NP


def _ops():
    import lamina as L

    from ..ops import combine as J
    from ..ops import creation
    from ..ops import elementwise as E
    from ..ops import indexing as I
    from ..ops import reduction as R
    from ..ops import shape as S

    def broadcast_to(x, shape):
        return S.expand(x, tuple(shape))

    def transpose(x, axes=None):
        return S.permute(x, tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))

    def flip(x, axis=None):
        return J.flip(x, tuple(range(x.ndim)) if axis is None else axis)

    def cumsum(x, axis=None):
        return R.cumsum(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)

    def expand_dims(x, axis):
        return S.unsqueeze(x, axis)

    def take_along_axis(x, idx, axis):
        return I.gather(x, axis, idx if isinstance(idx, L.Tensor) else L.as_tensor(idx))

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

    return {
        "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "sign": E.sign, "sin": E.sin, "cos": E.cos,
        "tan": E.tan, "tanh": E.tanh, "sinh": E.sinh, "cosh": E.cosh, "arcsin": E.asin, "arccos": E.acos,
        "arctan": E.atan, "log1p": E.log1p, "expm1": E.expm1, "log2": E.log2, "log10": E.log10,
        "maximum": E.maximum, "minimum": E.minimum, "square": E.square, "where": I.where,
        "broadcast_to": broadcast_to, "transpose": transpose, "swapaxes": S.transpose, "flip": flip,
        "cumsum": cumsum, "roll": J.roll, "reshape": S.reshape, "expand_dims": expand_dims,
        "take_along_axis": take_along_axis, "matmul": L.matmul, "concatenate": concatenate, "stack": stack,
        "einsum": lambda eq, *ops, **_: L.einsum(eq, *ops),
        "zeros": _const(creation.zeros), "ones": _const(creation.ones), "zeros_like": zeros_like,
        "ones_like": ones_like, "isfinite": isfinite, "isnan": isnan, "sum": sum,
    }


def _np_dtype(d: Any):
    from .._dtype import to_np

    return to_np(d)  # a Tensor's dtype (a lamina dtype) as well as NumPy dtypes and names


class GraphNamespace:
    """``ctx.xp`` during double backward: differentiable ops under NumPy's names."""

    def __init__(self, real_xp: Any) -> None:
        self._real = real_xp
        self.__dict__.update(_table())

    def __getattr__(self, name: str) -> Any:
        if name in ("float32", "float64", "int64", "bool_", "newaxis", "pi", "inf", "nan", "e"):
            return getattr(self._real, name)
        raise NotImplementedError(
            f"double backward: this op's backward uses xp.{name}, which has no differentiable counterpart; "
            "create_graph=True is not supported through it")


_TABLE: dict[str, Any] | None = None
_CACHE: dict[int, GraphNamespace] = {}


def _table() -> dict[str, Any]:
    global _TABLE
    if _TABLE is None:
        _TABLE = _ops()
    return _TABLE


def graph_namespace(real_xp: Any) -> GraphNamespace:
    ns = _CACHE.get(id(real_xp))
    if ns is None:
        ns = _CACHE[id(real_xp)] = GraphNamespace(real_xp)
    return ns
