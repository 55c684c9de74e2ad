"""Matrix structure: triangles (tril/triu and their indices), diagonals (diag, diag_embed, diagflat,
fill_diagonal_), the view scatters (select/slice/diagonal_scatter), trace, block_diag, kron, vander.

Composed of differentiable ops (``where``, ``index_put``, ``cat``, products), so gradients come from
those. The scatters write ``src`` at the places a view of ``input`` would read: the view is taken of
an index tensor ``arange(numel).reshape(shape)`` and the indices it picks go to ``index_put``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function
from ._util import normalize_dim
from .inplace import make_inplace


class Tri(Function):
    """y = the lower (``lower``) or upper triangle of x's last two dims from the ``k``-th diagonal, 0 elsewhere.
    Backward: the same triangle of dy. x: (*, n, m) -> (*, n, m)"""

    @staticmethod
    def forward(ctx, x, k, lower):
        ctx.k, ctx.lower = k, lower
        return ctx.xp.where(_tri_mask(ctx.xp, x.shape[-2], x.shape[-1], k, lower), x, x.dtype.type(0))

    @staticmethod
    def backward(ctx, dy):
        if isinstance(dy, Tensor):  # create_graph: the op itself, differentiable
            return Tri.apply(dy, ctx.k, ctx.lower), None, None
        xp = ctx.xp
        return xp.where(_tri_mask(xp, dy.shape[-2], dy.shape[-1], ctx.k, ctx.lower), dy, dy.dtype.type(0)), None, None


_MASKS: dict[tuple, Any] = {}


def _tri_mask(xp: Any, n: int, m: int, k: int, lower: bool) -> Any:
    """The (n, m) boolean mask of a triangle, cached (xp.tril builds one per call)."""
    key = (id(xp), n, m, k, lower)
    mask = _MASKS.get(key)
    if mask is None:
        if len(_MASKS) > 256:
            _MASKS.clear()
        mask = _MASKS[key] = xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)
    return mask


def _tri(input: Tensor, diagonal: int, lower: bool, out: Tensor | None, name: str) -> Tensor:
    from .creation import write_out

    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return write_out(out, Tri.apply(input, int(diagonal), lower), name)


def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims; the rest 0."""
    return _tri(input, diagonal, True, out, "tril")


def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims; the rest 0."""
    return _tri(input, diagonal, False, out, "triu")


def _tri_indices(row: int, col: int, offset: int, lower: bool, dtype: Any, device: Any) -> Tensor:
    from .creation import _dev

    dev = _dev(device)
    xp = dev.backend.xp
    mask = xp.tri(row, col, offset, dtype=bool) if lower else ~xp.tri(row, col, offset - 1, dtype=bool)
    r, c = xp.nonzero(mask)
    return Tensor._make(xp.stack([r, c]).astype(_dtype.to_np(dtype or _dtype.int64)).reshape(2, -1), dev)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """(2, N) row and column indices of the lower triangle of a (row, col) matrix, row-major."""
    return _tri_indices(row, col, offset, True, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """(2, N) row and column indices of the upper triangle of a (row, col) matrix, row-major."""
    return _tri_indices(row, col, offset, False, dtype, device)


def _scatter_view(input: Tensor, src: Tensor, view: Callable[[Tensor], Tensor], name: str) -> Tensor:
    """A copy of ``input`` with ``src`` written where ``view(input)`` would read."""
    from .indexing import IndexPut

    xp = input.device.backend.xp
    places = view(Tensor._make(xp.arange(input._data.size, dtype="int64").reshape(input._data.shape), input.device))
    if tuple(places.shape) != tuple(src.shape):
        raise RuntimeError(f"{name}: expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(places.shape)}")
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' must be Tensor, not {type(src).__name__}")
    flat = IndexPut.apply(input.reshape(-1), (places._data,), src.to(input.dtype))
    return flat.reshape(tuple(input.shape))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    return _scatter_view(input, src, lambda t: t.select(dim, index), "select_scatter")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` with the slice ``start:end:step`` of ``dim`` replaced by ``src``."""
    def view(t):
        d = normalize_dim(dim, t.ndim, "slice_scatter")
        return t[(builtins.slice(None),) * d + (builtins.slice(start, end, step),)]

    return _scatter_view(input, src, view, "slice_scatter")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``."""
    return _scatter_view(input, src, lambda t: t.diagonal(offset, dim1, dim2), "diagonal_scatter")


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims dim1, dim2) with the last dim of ``input`` on their ``offset``-th diagonal.

    Shape: (*, n) -> (*, n + |offset|, n + |offset|) with the two new dims at dim1 and dim2.
    """
    from .creation import zeros

    n = (input.shape[-1] if input.ndim else 1) + builtins.abs(offset)
    src = input.reshape(1) if input.ndim == 0 else input
    nd = src.ndim + 1
    a, b = normalize_dim(dim1, nd, "diag_embed"), normalize_dim(dim2, nd, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = list(src.shape[:-1])
    for d in sorted((a, b)):
        shape.insert(d, n)
    return diagonal_scatter(zeros(*shape, dtype=input.dtype, device=input.device), src, offset, a, b)


def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """1-D: a square matrix with ``input`` on its ``diagonal``-th diagonal; 2-D: that diagonal (a copy)."""
    from .creation import write_out

    if input.ndim == 1:
        return write_out(out, diag_embed(input, diagonal, 0, 1), "diag")
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return write_out(out, DiagOf.apply(input, int(diagonal)), "diag")


class DiagOf(Function):
    """y = a copy of the ``k``-th diagonal of a matrix. Backward: dy on that diagonal of zeros. x: (n, m) -> (L,)"""

    @staticmethod
    def forward(ctx, x, k):
        ctx.shape, ctx.k = x.shape, k
        return ctx.xp.diagonal(x, k).copy()

    @staticmethod
    def backward(ctx, dy):
        if isinstance(dy, Tensor):  # create_graph: a differentiable scatter
            from .creation import zeros

            return diagonal_scatter(zeros(*ctx.shape, dtype=dy.dtype, device=dy.device), dy, ctx.k), None
        xp = ctx.xp
        g = xp.zeros(ctx.shape, dtype=dy.dtype)
        n = dy.shape[0]
        r = xp.arange(n) + builtins.max(-ctx.k, 0)
        g[r, r + ctx.k] = dy
        return g, None


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset``-th diagonal."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


@autocast_op("fp32")
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D matrix (integers sum to int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return input.diagonal().sum()


def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of 0-, 1- or 2-D blocks (a 1-D block is one row)."""
    from .combine import _check_same, cat
    from .creation import zeros

    if not tensors:
        return zeros(1, 0)
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in _check_same(tensors, "block_diag")]
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [zeros(r, left, dtype=b.dtype, device=b.device), b,
                 zeros(r, width - left - c, dtype=b.dtype, device=b.device)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product. a: (a0, a1, ...), b: (b0, b1, ...) -> (a0 * b0, a1 * b1, ...)"""
    n = builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    a_sh = [s for d in a.shape for s in (d, 1)]
    b_sh = [s for d in b.shape for s in (1, d)]
    return (a.reshape(a_sh) * b.reshape(b_sh)).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803 - torch's name
    """Vandermonde matrix: columns x**(N-1), ..., x**0 (or increasing). x: (n,) -> (n, N)"""
    from .combine import cat, flip
    from .cumulative import cumprod

    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind == "b" or x._data.dtype.kind in "iu" and x._data.dtype.itemsize < 8:
        x = x.to(_dtype.int64)
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    ones = x.new_ones((x.shape[0], 1))
    out = cumprod(cat([ones, x.unsqueeze(1).expand(x.shape[0], n - 1)], 1), 1)
    return out if increasing else flip(out, (1,))


def _fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all dims equal, or 2-D; ``wrap`` restarts it every
    ``cols + 1`` rows of a tall matrix)."""
    xp = self.device.backend.xp
    shape = self._data.shape
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if self.ndim == 2:
        n, m = shape
        stop = n * m if wrap and n > m else builtins.min(n, m) * (m + 1)
        flat = xp.arange(0, builtins.min(stop, n * m), m + 1)
    else:
        flat = xp.arange(shape[0]) * builtins.sum(int(xp.prod(xp.asarray(shape[k + 1:]))) for k in range(len(shape)))
    key = tuple(Tensor._make(i, self.device) for i in xp.unravel_index(flat, shape))
    self[key] = fill_value
    return self


class MatrixMethods:
    """Triangles, diagonals, scatters into views and structured products as ``Tensor`` methods."""

    __slots__ = ()
    tril = tril
    triu = triu
    tril_ = make_inplace("tril", tril)
    triu_ = make_inplace("triu", triu)
    diag = diag
    diag_embed = diag_embed
    diagflat = diagflat
    diagonal_scatter = diagonal_scatter
    select_scatter = select_scatter
    slice_scatter = slice_scatter
    trace = trace
    kron = kron
    fill_diagonal_ = _fill_diagonal_


