"""Distances between two batches of vectors: ``CosineSimilarity`` and ``PairwiseDistance``.

Cosine similarity follows PyTorch's current definition: each input is divided by its own norm
clamped below at ``eps`` (the clamp does not enter the gradient), then the products are summed.
Pairwise distance is the p-norm of ``x1 - x2 + eps`` over the last dim; its norm is one Function
whose backward is zero (not NaN) where the norm is zero.
"""

from __future__ import annotations

import lamina
from lamina import Tensor
from lamina.autograd import Function
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401
from ._low_precision import Float32Function

_INF = float("inf")


class CosineSimilarityFn(Function):
    """y = sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along ``axis``. x1, x2: broadcastable -> y: reduced"""

    @staticmethod
    def forward(ctx, x1, x2, axis, eps):
        xp = ctx.xp
        x1b, x2b = xp.broadcast_arrays(x1, x2)
        n1 = xp.sqrt((x1b * x1b).sum(axis=axis, keepdims=True))
        n2 = xp.sqrt((x2b * x2b).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(x1, x2)
        ctx.opts = (axis, eps, x1b.shape)
        return ((x1b / xp.maximum(n1, eps)) * (x2b / xp.maximum(n2, eps))).sum(axis=axis)

    @staticmethod
    def backward(ctx, dy):
        x1, x2 = ctx.saved_tensors
        xp = ctx.xp
        axis, eps, shape = ctx.opts
        x1b, x2b = xp.broadcast_to(x1, shape), xp.broadcast_to(x2, shape)
        n1 = xp.sqrt((x1b * x1b).sum(axis=axis, keepdims=True))
        n2 = xp.sqrt((x2b * x2b).sum(axis=axis, keepdims=True))
        n1c, n2c = xp.maximum(n1, eps), xp.maximum(n2, eps)
        u, v = x1b / n1c, x2b / n2c
        y = (u * v).sum(axis=axis, keepdims=True)
        g = xp.expand_dims(dy, axis)
        # d|x|/dx = x / |x| (0 at x = 0): the clamp changes the value, not the norm's derivative
        r1 = x1b / xp.where(n1 > 0, n1, 1)
        r2 = x2b / xp.where(n2 > 0, n2, 1)
        dx1 = g / n1c * (v - y * r1) if ctx.needs_input_grad[0] else None
        dx2 = g / n2c * (u - y * r2) if ctx.needs_input_grad[1] else None
        return dx1, dx2, None, None


class PNormFn(Float32Function):
    """y = ||d||_p along ``axis`` (p = 0, 1, 2, inf, -inf or any other number). d: (*, D) -> y: (*) or (*, 1)"""

    @staticmethod
    def forward(ctx, d, p, axis, keepdim):
        xp = ctx.xp
        ctx.save_for_backward(d)
        ctx.opts = (p, axis, keepdim)
        a = xp.abs(d)
        if p == 2:
            y = xp.sqrt((d * d).sum(axis=axis, keepdims=True))
        elif p == 1:
            y = a.sum(axis=axis, keepdims=True)
        elif p == _INF:
            y = a.max(axis=axis, keepdims=True)
        elif p == -_INF:
            y = a.min(axis=axis, keepdims=True)
        elif p == 0:
            y = (d != 0).sum(axis=axis, keepdims=True).astype(d.dtype)
        else:
            y = ((a**p).sum(axis=axis, keepdims=True)) ** (1.0 / p)
        return y if keepdim else y.squeeze(axis)

    @staticmethod
    def backward(ctx, dy):
        (d,) = ctx.saved_tensors
        xp = ctx.xp
        p, axis, keepdim = ctx.opts
        g = dy if keepdim else xp.expand_dims(dy, axis)
        a = xp.abs(d)
        if p == 0:
            return d * 0, None, None, None
        if p == 1:
            return g * xp.sign(d), None, None, None
        # the norm, recomputed from d so double backward sees its dependence on d
        if p == 2:
            n = xp.sqrt((d * d).sum(axis=axis, keepdims=True))
            return g * d / xp.where(n > 0, n, 1), None, None, None
        if p == _INF or p == -_INF:
            n = a.max(axis=axis, keepdims=True) if p == _INF else a.min(axis=axis, keepdims=True)
            hit = xp.zeros_like(d) + (a == n)  # ties share the gradient evenly
            return g * xp.sign(d) * hit / hit.sum(axis=axis, keepdims=True), None, None, None
        n = ((a**p).sum(axis=axis, keepdims=True)) ** (1.0 / p)
        safe_a = xp.where(a > 0, a, 1)
        safe_n = xp.where(n > 0, n, 1)
        return g * xp.sign(d) * safe_a ** (p - 1) / safe_n ** (p - 1), None, None, None


def _float_pair(name: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    if not x1.is_floating_point():
        x1 = x1.to(lamina.get_default_dtype())
    if not x2.is_floating_point():
        x2 = x2.to(lamina.get_default_dtype())
    if x1.dtype != x2.dtype:
        wide = x1.dtype if x1.element_size() >= x2.element_size() else x2.dtype
        x1, x2 = x1.to(wide), x2.to(wide)
    return x1, x2


def _bshape(name: str, x1: Tensor, x2: Tensor) -> int:
    a, b = tuple(x1.shape), tuple(x2.shape)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i, (s, t) in enumerate(zip(a, b)):
        if s != t and s != 1 and t != 1:
            raise lamina.ShapeError(f"{name}: expected x1 and x2 broadcastable, got shapes {list(x1.shape)} and "
                                    f"{list(x2.shape)} (dim {i}: {s} vs {t})")
    return n


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps)) along ``dim`` (broadcasting).

    Shape: x1 (*1, D, *2), x2 broadcastable to it -> (*1, *2).
    """
    x1, x2 = _float_pair("cosine_similarity", x1, x2)
    n = _bshape("cosine_similarity", x1, x2)
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(f"cosine_similarity: dim out of range (expected to be in range of [{-max(n, 1)}, "
                         f"{max(n, 1) - 1}], but got {dim})")
    if n == 0:
        x1, x2 = x1.reshape(1), x2.reshape(1)
    return CosineSimilarityFn.apply(x1, x2, dim % max(n, 1), float(eps))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim. Shape: x1 (N, D) or (D,), x2 broadcastable -> (N,) or ()"""
    x1, x2 = _float_pair("pairwise_distance", x1, x2)
    n = _bshape("pairwise_distance", x1, x2)
    if n == 0:
        raise lamina.ShapeError("pairwise_distance: expected inputs with at least one dimension, got 0-d tensors")
    return PNormFn.apply(x1 - x2 + eps, float(p), n - 1, bool(keepdim))


class CosineSimilarity(Module):
    """Cosine similarity between x1 and x2 along ``dim``.

    Shape: x1 (*1, D, *2), x2 (*1, D, *2) or broadcastable -> output (*1, *2).
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance ||x1 - x2 + eps||_p over the last dim.

    Shape: x1 (N, D) or (D,), x2 of the same or a broadcastable shape -> output (N,) or ()
    ((N, 1) or (1,) with keepdim=True).
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
