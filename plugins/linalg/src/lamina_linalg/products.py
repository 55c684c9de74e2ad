"""Products and matrix functions: matmul, multi_dot, vecdot, cross, diagonal, vander, matrix_power,
matrix_exp (linalg) and torch's chain_matmul and cross.

matrix_exp's gradient is the Frechet derivative at A^H in the direction dY, the top-right block of
exp([[A^H, dY], [0, A^H]]); taken with the same Function, so it is differentiable again.
"""

from __future__ import annotations

import lamina
import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.autograd import Function

from . import _ops as O
from ._common import check_cpu, check_square, no_out, warn_once


def matmul(input: Tensor, other: Tensor, *, out: None = None) -> Tensor:
    """lamina.matmul (torch.matmul's broadcasting and 1-D rules)."""
    no_out("linalg.matmul", out)
    return lamina.matmul(input, other)


def _order(dims: list[int]) -> list:
    """Optimal parenthesisation of a chain with shapes dims[i] x dims[i+1] (dynamic programming)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] < 0 or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ms: list, split, i: int, j: int):
    if i == j:
        return ms[i]
    k = split[i][j]
    return _chain(ms, split, i, k) @ _chain(ms, split, k + 1, j)


def multi_dot(tensors, *, out: None = None) -> Tensor:
    """Product of a chain of matrices in the cheapest order; the first / last may be 1-D (row / column).

    Shape: (a, b), (b, c), ..., (y, z) -> (a, z) (without a or z for 1-D ends)
    """
    no_out("linalg.multi_dot", out)
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_1d, last_1d = ts[0].ndim == 1, ts[-1].ndim == 1
    for i, t in enumerate(ts):
        ok = t.ndim == 2 or (t.ndim == 1 and i in (0, len(ts) - 1))
        if not ok:
            where = "the first and last tensors" if i in (0, len(ts) - 1) else "tensor " + str(i)
            if i in (0, len(ts) - 1):
                raise RuntimeError(f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must be 1D or 2D but "
                                   f"got {t.ndim}D")
            raise RuntimeError(f"multi_dot(): {where} must be 2D but got {t.ndim}D")
    if first_1d:
        ts[0] = ts[0].unsqueeze(0)
    if last_1d:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {tuple(ts[i].shape)} and "
                               f"{tuple(ts[i + 1].shape)} cannot be multiplied")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    y = _chain(ts, _order(dims), 0, len(ts) - 1)
    if first_1d:
        y = y.squeeze(0)
    if last_1d:
        y = y.squeeze(-1)
    return y


def chain_matmul(*matrices, out: None = None) -> Tensor:
    """torch.chain_matmul (deprecated): multi_dot of 2-D matrices; one matrix is returned as it is."""
    warn_once("chain_matmul", "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices), out=out)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: None = None) -> Tensor:
    """sum(conj(x) * y) over ``dim`` (broadcasting). Shape: x (*, n), y (*, n) -> (*)"""
    no_out("linalg.vecdot", out)
    if x.shape[dim] != y.shape[dim] if (x.ndim and y.ndim) else False:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same size in dimension {dim}, but got "
                           f"{x.shape[dim]} and {y.shape[dim]}")
    return (O.conj(x) * y).sum(dim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out: None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (broadcasting). Shape: (*, 3, *) -> (*, 3, *)"""
    no_out("linalg.cross", out)
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    a, b = lamina.broadcast_tensors(input, other)
    n = a.ndim
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    a0, a1, a2 = (a.narrow(dim, i, 1) for i in range(3))
    b0, b1, b2 = (b.narrow(dim, i, 1) for i in range(3))
    return lamina.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def top_cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: None = None) -> Tensor:
    """torch.cross: linalg.cross; without ``dim`` the first dim of size 3 (deprecated, warns)."""
    if dim is None:
        warn_once("cross",
                  "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.")
        a, _ = lamina.broadcast_tensors(input, other)
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    return cross(input, other, dim=dim, out=out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonal of the (dim1, dim2) planes, as the last dim. Shape: (*, m, n) -> (*, k)"""
    n = A.ndim
    if n < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 2, but got {n}")
    for d in (dim1, dim2):
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    d1, d2 = dim1 % n, dim2 % n
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    B = A.movedim((d1, d2), (-2, -1))
    rows, cols = B.shape[-2:]
    if offset >= 0:
        B = B.narrow(-1, min(offset, cols), cols - min(offset, cols))
    else:
        B = B.narrow(-2, min(-offset, rows), rows - min(-offset, rows))
    return O.Diagonal.apply(B)


def vander(x: Tensor, N: int | None = None) -> Tensor:
    """Vandermonde matrix [1, x, x^2, ..., x^(N-1)] per element. Shape: x (*, n) -> (*, n, N)"""
    if x.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    xs = x.unsqueeze(-1)
    cols = [lamina.ones_like(xs)]
    for _ in range(N - 1):
        cols.append(cols[-1] * xs)
    return lamina.cat(cols, -1)


def matrix_power(A: Tensor, n: int, *, out: None = None) -> Tensor:
    """A^n by repeated squaring (n < 0: the inverse's power; n = 0: the identity). Shape: (*, m, m) -> (*, m, m)"""
    no_out("linalg.matrix_power", out)
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    check_cpu("linalg.matrix_power", A)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    m = A.shape[-1]
    if n == 0:
        return O.const(np.broadcast_to(np.eye(m), tuple(A.shape)), A).clone()
    if n < 0:
        from .solve import inv
        A, n = inv(A), -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


class MatrixExp(Function):
    """Y = exp(A) (scipy's scaling and squaring Pade). A: (*, n, n) -> Y: (*, n, n)"""

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        if A.size == 0:
            return np.zeros_like(A)
        return np.asarray(sla.expm(A)).astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, dY):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        AH = O.mH(A)
        zero = O.const(np.zeros(tuple(A.shape)), A)
        block = O.cat([O.cat([AH, dY], -1), O.cat([zero, AH], -1)], -2)   # (*, 2n, 2n)
        E = MatrixExp.apply(block) if O.is_t(block) else MatrixExp.forward(_Bare(), block)
        return E[..., :n, n:]                                             # dA: (*, n, n)


class _Bare:
    def save_for_backward(self, *a):
        pass


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential. Shape: A (*, n, n) -> (*, n, n)"""
    check_square("linalg.matrix_exp", A)
    return MatrixExp.apply(A)
