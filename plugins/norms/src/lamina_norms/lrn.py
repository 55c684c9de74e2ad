"""Local response normalisation (``LocalResponseNorm``, ``F.local_response_norm``) and ``F.normalize``.

Each is one Function with an analytic backward written against ``ctx.xp`` with operators,
slicing and differentiable namespace functions, so double backward works through both.
"""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.autograd import Function

from ._compat import Module

__lamina_plugin_api__ = "1.0"


def _window_sum(a: Any, before: int, after: int, xp: Any) -> Any:
    """out[:, c] = sum of a[:, c - before .. c + after] along axis 1, zero outside. a: (N, C, L)."""
    N, C, L = a.shape
    parts = []
    if before:
        parts.append(xp.zeros((N, before, L), dtype=a.dtype))
    parts.append(a)
    if after:
        parts.append(xp.zeros((N, after, L), dtype=a.dtype))
    padded = xp.concatenate(parts, axis=1) if len(parts) > 1 else a
    out = padded[:, 0:C]
    for off in range(1, before + after + 1):  # loop over window offsets (a few), not over elements
        out = out + padded[:, off:off + C]
    return out


class LocalResponse(Function):
    """y = x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta.

    Shape: x (N, C, L) -> y (N, C, L)
    """

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xp = ctx.xp
        d = _window_sum(x * x, size // 2, (size - 1) // 2, xp) * (alpha / size) + k
        ctx.save_for_backward(x, d)
        ctx.args = (size, alpha, beta, k)
        return x * d ** (-beta)

    @staticmethod
    def backward(ctx, dy):
        x, d = ctx.saved_tensors
        size, alpha, beta, k = ctx.args
        xp = ctx.xp
        if isinstance(dy, Tensor):  # double backward: d as a differentiable function of x
            d = _window_sum(x * x, size // 2, (size - 1) // 2, xp) * (alpha / size) + k
        t = dy * x * d ** (-beta - 1.0)
        dx = dy * d ** (-beta) - x * _window_sum(t, (size - 1) // 2, size // 2, xp) * (2.0 * alpha * beta / size)
        return dx, None, None, None, None


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise each element by the energy of ``size`` neighbouring channels (dim 1).

    Shape: input (N, C, *) -> same shape
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if int(size) < 1:
        raise ValueError(f"local_response_norm: expected size >= 1, got {size}")
    if input.numel() == 0:
        return input.clone()
    shape = tuple(input.shape)
    x = input.reshape(shape[0], shape[1], -1)
    return LocalResponse.apply(x, int(size), float(alpha), float(beta), float(k)).reshape(shape)


class LocalResponseNorm(Module):
    """Local response normalisation across channels (dim 1); see :func:`local_response_norm`.

    Shape: input (N, C, *) -> same shape
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Normalize(Function):
    """y = x / max(||x||_p, eps) along ``axis``. x: (*) -> y: (*)"""

    #: the name kernels find it by: ``Normalize`` is the batch/layer/instance/group/RMS norm op (``_kernel``)
    op_name = "LpNormalize"

    @staticmethod
    def forward(ctx, x, p, axis, eps):
        xp = ctx.xp
        n = _pnorm(x, p, axis, xp)
        ctx.save_for_backward(x, n)
        ctx.args = (p, axis, eps)
        return x / xp.maximum(n, eps)

    @staticmethod
    def backward(ctx, dy):
        x, n = ctx.saved_tensors
        p, axis, eps = ctx.args
        xp = ctx.xp
        if isinstance(dy, Tensor):
            n = _pnorm(x, p, axis, xp)
        d = xp.maximum(n, eps)
        dx = dy / d
        if p == 0:
            return dx, None, None, None
        # d(denominator)/dx where the clamp lets it through (n >= eps), zero elsewhere
        s = xp.sum(dy * x, axis=axis, keepdims=True) / (d * d)
        s = xp.where(n >= eps, s, 0.0)
        safe = xp.where(n > 0, n, 1.0)
        if p == 2:
            dn = x / safe
        elif p == 1:
            dn = xp.sign(x)
        elif p in (float("inf"), float("-inf")):
            hit = (xp.abs(x) == n).astype(x.dtype)  # no double backward through max/min
            dn = xp.sign(x) * hit / xp.sum(hit, axis=axis, keepdims=True)
        else:
            a = xp.abs(x)
            dn = xp.sign(x) * xp.where(a > 0, a, 1.0) ** (p - 1.0) / safe ** (p - 1.0)  # 0 where x == 0
        return dx - s * dn, None, None, None


def _pnorm(x: Any, p: float, axis: int, xp: Any) -> Any:
    if p == 2:
        return xp.sqrt(xp.sum(x * x, axis=axis, keepdims=True))
    a = xp.abs(x)
    if p == float("inf"):
        return a.max(axis=axis, keepdims=True)
    if p == float("-inf"):
        return a.min(axis=axis, keepdims=True)
    if p == 0:
        return xp.sum((a != 0).astype(x.dtype), axis=axis, keepdims=True)
    if p == 1:
        return xp.sum(a, axis=axis, keepdims=True)
    return xp.sum(a ** p, axis=axis, keepdims=True) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """Divide by the ``p``-norm along ``dim`` (clamped below by ``eps``).

    Shape: input (*) -> same shape
    """
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"normalize: dim out of range (expected to be in range of [{-nd}, {nd - 1}], got {dim})")
    x = input if input.ndim else input.reshape(1)
    y = Normalize.apply(x, float(p), dim % nd, float(eps))
    y = y if input.ndim else y.reshape(())
    if out is not None:
        out.copy_(y)
        return out
    return y
