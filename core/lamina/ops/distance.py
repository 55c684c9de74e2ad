"""Distances and norm clipping: cdist (pairwise p-norm distances), dist, renorm.

cdist is one Function (its backward is the p-norm's, 0 where a distance is 0, as torch's);
dist and renorm are composed of norm ops.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function

_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


class Cdist(Function):
    """d[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p. x1: (*, P, M), x2: (*, R, M) -> (*, P, R)"""

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        xp = ctx.xp
        ctx.p = p
        if use_mm:  # |a|^2 + |b|^2 - 2 a.b as one product of augmented matrices, as torch's matrix-product path
            a2, b2 = (x1 * x1).sum(-1)[..., None], (x2 * x2).sum(-1)[..., None]
            left = xp.concatenate([-2 * x1, a2, xp.ones_like(a2)], axis=-1)
            right = xp.concatenate([x2, xp.ones_like(b2), b2], axis=-1)
            d = left @ right.swapaxes(-1, -2)
            xp.maximum(d, 0, out=d)
            xp.sqrt(d, out=d)
        else:
            diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
            if p == 0:
                d = (diff != 0).sum(-1).astype(x1.dtype)
            elif p == float("inf"):
                d = diff.max(-1) if diff.shape[-1] else xp.zeros(diff.shape[:-1], x1.dtype)
            elif p == 1:
                d = diff.sum(-1)
            elif p == 2:
                d = xp.sqrt((diff * diff).sum(-1))
            else:
                d = (diff ** p).sum(-1) ** (1.0 / p)
        ctx.save_for_backward(x1, x2, d)  # d is the output: double backward sees its dependence on x1, x2
        return d

    @staticmethod
    def backward(ctx, dy):                                          # dy: (*, P, R)
        xp = ctx.xp
        x1, x2, d = ctx.saved_tensors
        p, d = ctx.p, d[..., None]
        diff = x1[..., :, None, :] - x2[..., None, :, :]            # (*, P, R, M)
        if p == 0:
            g = xp.zeros(diff.shape, dy.dtype)
        elif p == 1:
            g = xp.sign(diff)
        elif p == float("inf"):
            g = xp.sign(diff) * (xp.abs(diff) == d)
        else:
            safe = xp.where(d == 0, 1, d)
            g = xp.where(d == 0, 0, xp.sign(diff) * xp.abs(diff) ** (p - 1) / safe ** (p - 1))
        g = g * dy[..., None]
        return g.sum(-2), -g.sum(-3), None, None


@autocast_op("fp32")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = _MODES[0]) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 and x2 (batch dims broadcast)."""
    from .shape import broadcast_shapes

    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if not x1.is_floating_point() or not x2.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    batch = tuple(broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
    a = x1 if tuple(x1.shape[:-2]) == batch else x1.expand(batch + tuple(x1.shape[-2:]))
    b = x2 if tuple(x2.shape[:-2]) == batch else x2.expand(batch + tuple(x2.shape[-2:]))
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == _MODES[1] or compute_mode == _MODES[0] and (P > 25 or R > 25))
    return Cdist.apply(a, b, float(p), use_mm)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast), 0-d."""
    from .reduction import norm

    return norm(input - other, p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    from ._util import normalize_dim
    from .indexing import where
    from .reduction import norm

    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = normalize_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i != d)
    n = norm(input, p, others, True) if others else input.abs()
    one = Tensor._make(input.device.backend.xp.ones((), input._data.dtype), input.device)
    return input * where(n > maxnorm, maxnorm / (n + 1e-7), one)
