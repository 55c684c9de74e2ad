"""The autograd Functions of lamina-sparse. They act on a sparse tensor's VALUES (a dense lamina tensor)
with the index arrays as fixed arguments, so gradients reach the values (and, through them, the
user's tensors) with the engine's ordinary machinery.

Shapes: values (nnz, *D) where D are the dense dims; index arrays are int64 ``xp`` arrays.

Backward formulas get arrays normally and Tensors under ``create_graph=True``; the scatter and the
sparse-dense product then go through this module's own Functions (``_scatter``, ``_spmm``), so the
formula records a graph and double backward works.
"""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.autograd import Function

from ._index import scatter_add


class SparseCooTensorWithDimsAndTensors(Function):
    """The values of a new sparse tensor: an identity, so the sparse tensor has a grad_fn as in torch."""

    @staticmethod
    def forward(ctx, values):
        return values.copy()

    @staticmethod
    def backward(ctx, dy):
        return dy


class ScatterSum(Function):
    """Sum entries into slots: values (nnz, *D), index (nnz,) -> (n, *D); coalesce and to_dense use it."""

    @staticmethod
    def forward(ctx, values, index, n):
        ctx.index = index
        return scatter_add(ctx.xp, index, n, values)

    @staticmethod
    def backward(ctx, dy):                          # dvalues: (nnz, *D), each entry its slot's gradient
        return dy[ctx.index], None, None


class Coalesce(ScatterSum):
    """Values of the coalesced tensor: repeated indices summed. (nnz, *D) -> (n_unique, *D)"""


class ToDense(Function):
    """The strided tensor: values (nnz, *D) summed into their linear slots (n of them), reshaped to ``size``."""

    @staticmethod
    def forward(ctx, values, index, n, size):
        ctx.index, ctx.rows = index, (n,) + tuple(values.shape[1:])
        return scatter_add(ctx.xp, index, n, values).reshape(size)

    @staticmethod
    def backward(ctx, dy):                          # dy: size -> dvalues (nnz, *D)
        return dy.reshape(ctx.rows)[ctx.index], None, None, None


class SparseDenseMM(Function):
    """S @ M for S (N, K) given by rows, cols (nnz,) and values (nnz,); M (K, P) -> (N, P).

    ``sink`` is a zero (N, K) stand-in for a leaf sparse tensor whose gradient torch makes dense
    (``torch.mm``/``matmul``/``@``): it receives dy @ M^T, and the values receive nothing.
    """

    @staticmethod
    def forward(ctx, values, dense, sink, rows, cols, n_rows):
        xp = ctx.xp
        ctx.save_for_backward(values, dense)
        ctx.rc = (rows, cols, n_rows)
        return _spmm(xp, rows, cols, values, dense, n_rows)

    @staticmethod
    def backward(ctx, dy):                          # dy: (N, P)
        values, dense = ctx.saved_tensors
        rows, cols, n_rows = ctx.rc
        need_v, need_m, need_sink = ctx.needs_input_grad[:3]
        dv = (dy[rows] * dense[cols]).sum(-1) if need_v else None                       # (nnz,)
        dm = _spmm(ctx.xp, cols, rows, values, dy, dense.shape[0]) if need_m else None  # S^T @ dy: (K, P)
        dsink = dy @ dense.T if need_sink else None                                     # (N, K)
        return dv, dm, dsink, None, None, None


def _spmm(xp: Any, rows: Any, cols: Any, values: Any, dense: Any, n_rows: int) -> Any:
    """out[rows[k]] += values[k] * dense[cols[k]]. scipy's CSR product on NumPy, an xp scatter elsewhere;
    on Tensors (double backward) the differentiable SparseDenseMM."""
    if isinstance(values, Tensor) or isinstance(dense, Tensor):
        return SparseDenseMM.apply(values, dense, None, rows, cols, n_rows)
    if xp.__name__ == "numpy" and type(values).__module__ == "numpy" and values.dtype.kind in "fc":
        import scipy.sparse as sp

        s = sp.csr_matrix((values, (rows, cols)), shape=(n_rows, dense.shape[0]))
        return xp.asarray(s @ dense, dtype=xp.result_type(values, dense))
    return scatter_add(xp, rows, n_rows, values[:, None] * dense[cols])


def _scatter(xp: Any, index: Any, n: int, values: Any) -> Any:
    """scatter_add on arrays; on a Tensor (double backward) the differentiable ScatterSum. (nnz, *D) -> (n, *D)"""
    return ScatterSum.apply(values, index, n) if isinstance(values, Tensor) else scatter_add(xp, index, n, values)


class GroupSoftmax(Function):
    """Softmax (or log-softmax) of the values within groups: values (nnz, *D), group (nnz,) -> (nnz, *D)."""

    @staticmethod
    def forward(ctx, values, group, n, log):
        xp = ctx.xp
        top = xp.full((n,) + values.shape[1:], -xp.inf, dtype=values.dtype)
        xp.maximum.at(top, group, values)
        shifted = values - top[group]
        e = xp.exp(shifted)
        total = scatter_add(xp, group, n, e)
        y = shifted - xp.log(total)[group] if log else e / total[group]
        ctx.save_for_backward(y)
        ctx.opts = (group, n, log)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        group, n, log = ctx.opts
        xp = ctx.xp
        if log:                                     # dx = dy - softmax * sum_group(dy)
            return dy - xp.exp(y) * _scatter(xp, group, n, dy)[group], None, None, None
        g = y * dy                                  # dx = y * (dy - sum_group(y * dy))
        return g - y * _scatter(xp, group, n, g)[group], None, None, None
