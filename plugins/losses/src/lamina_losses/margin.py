"""Margin losses: margin ranking, hinge embedding, cosine embedding, multi-class and multi-label margin."""

from __future__ import annotations

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import DTypeError, ShapeError

from ._reduction import (
    _Loss,
    _WeightedLoss,
    apply_reduction,
    check_float,
    check_same_shape,
    constant,
    resolve,
    same_dtype,
)

__lamina_plugin_api__ = "1.0"

_COS_EPS = 1e-12  # PyTorch's guard on the squared magnitudes


@autocast_op("fp32")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin). Shape: input1 (*), input2 (*), target (*) -> () or (*)."""
    name = "MarginRankingLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input1", input1)
    if not tuple(input1.shape) == tuple(input2.shape) == tuple(target.shape):
        raise ShapeError(f"{name}: expected input1, input2 and target of one shape, got input1 "
                         f"{tuple(input1.shape)}, input2 {tuple(input2.shape)}, target {tuple(target.shape)}")
    loss = (-same_dtype(target, input1) * (input1 - same_dtype(input2, input1)) + margin).clamp(min=0.0)
    return apply_reduction(loss, reduction)


@autocast_op("fp32")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1. Shape: input (*), target (*) -> () or (*)."""
    name = "HingeEmbeddingLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    # as PyTorch: a target other than +-1 takes both terms
    loss = lamina.where(target != 1, (margin - input).clamp(min=0.0), 0.0) + lamina.where(target != -1, input, 0.0)
    return apply_reduction(loss, reduction)


@autocast_op("fp32")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.

    Shape: input1 (N, D) or (D,), input2 like input1, target (N,) or () -> () or (N,).
    """
    name = "CosineEmbeddingLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input1", input1)
    if tuple(input1.shape) != tuple(input2.shape):
        raise ShapeError(f"{name}: expected input1 and input2 of one shape, got {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)}")
    if input1.ndim not in (1, 2) or tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ShapeError(f"{name}: expected inputs (N, D) with target (N,), or inputs (D,) with a 0-d target, got "
                         f"inputs {tuple(input1.shape)} and target {tuple(target.shape)}")
    input2 = same_dtype(input2, input1)
    prod = (input1 * input2).sum(dim=-1)
    mag = ((input1 * input1).sum(dim=-1) + _COS_EPS) * ((input2 * input2).sum(dim=-1) + _COS_EPS)
    cos = prod / mag.sqrt()
    loss = lamina.where(target == 1, 1.0 - cos, 0.0) + lamina.where(target == -1, (cos - margin).clamp(min=0.0), 0.0)
    return apply_reduction(loss, reduction)


def _class_targets(name: str, input: Tensor, target: Tensor, want: tuple) -> None:
    if target.array.dtype.kind not in "iu":
        raise DTypeError(f"{name}: expected target of an integer dtype (class indices), got {target.dtype}")
    if tuple(target.shape) != want:
        raise ShapeError(f"{name}: expected target of shape {want} for input of shape {tuple(input.shape)}, got "
                         f"{tuple(target.shape)}")


@autocast_op("fp32")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: bool | None = None, reduce: bool | None = None,
                      reduction: str = "mean") -> Tensor:
    """sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C.

    Shape: input (N, C) or (C,), target (N,) or () class indices -> () or (N,) / ().
    """
    name = "MultiMarginLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    if p not in (1, 2):
        raise ValueError(f"{name}: only p == 1 and p == 2 are supported, got p={p}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{name}: expected input of shape (N, C) or (C,), got {tuple(input.shape)}")
    unbatched = input.ndim == 1
    _class_targets(name, input, target, () if unbatched else (input.shape[0],))
    x = input.unsqueeze(0) if unbatched else input
    t = (target.reshape(1) if unbatched else target).long()
    C = x.shape[1]
    tv = t.array
    if tv.size and bool(((tv < 0) | (tv >= C)).any()):
        bad = int(tv[(tv < 0) | (tv >= C)][0])
        raise IndexError(f"{name}: target {bad} is out of bounds for {C} classes (expected 0 <= target < {C})")
    if weight is not None and tuple(weight.shape) != (C,):
        raise ShapeError(f"{name}: expected weight of shape ({C},) (one per class), got {tuple(weight.shape)}")
    x_y = x[lamina.arange(x.shape[0], device=x.device), t].unsqueeze(1)     # (N, 1); indexing differentiates twice
    h = (margin - x_y + x).clamp(min=0.0)                                   # (N, C)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * same_dtype(weight.detach(), x).index_select(0, t).unsqueeze(1)
    own = lamina.arange(C, device=x.device).unsqueeze(0) == t.unsqueeze(1)  # the j == y term is left out
    loss = lamina.where(own, 0.0, h).sum(dim=1) / C
    return apply_reduction(loss[0] if unbatched else loss, reduction)


class MultiLabelMargin(Function):
    """sum_{k valid} sum_{i not a target} max(0, 1 - (x[t_k] - x_i)) / C.

    x: (N, C), target: (N, C) int (class indices, ended by the first -1) -> (N,)
    """

    @staticmethod
    def forward(ctx, x, target):
        xp = ctx.xp
        N, C = x.shape
        valid = xp.cumsum(target < 0, axis=1) == 0                          # (N, S) entries before the first -1
        tc = xp.where(valid, target, 0)
        is_target = xp.zeros((N, C), dtype=bool)
        rows = xp.broadcast_to(xp.arange(N)[:, None], tc.shape)
        is_target[rows[valid], tc[valid]] = True
        x_t = xp.take_along_axis(x, tc, axis=1)                             # (N, S)
        z = 1 - x_t[:, :, None] + x[:, None, :]                             # (N, S, C)
        active = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
        ctx.cfg = (active, tc, C)
        return xp.where(active, z, 0).sum(axis=(1, 2)) / C

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        active, tc, C = ctx.cfg
        if isinstance(dy, Tensor):  # create_graph: dx is linear in dy through constant masks
            return _multilabel_backward_graph(ctx, dy), None
        a = active.astype(dy.dtype) * (dy / C)[:, None, None]
        dx = a.sum(axis=1)                                                  # + d/dx_i
        dtk = -a.sum(axis=2)                                                # - d/dx[t_k], scattered to the classes
        rows = xp.broadcast_to(xp.arange(tc.shape[0])[:, None], tc.shape)
        if hasattr(xp.add, "at"):
            xp.add.at(dx, (rows, tc), dtk)
        else:
            _scatter_add(dx, rows, tc, dtk)
        return dx, None


def _multilabel_backward_graph(ctx, dy: Tensor) -> Tensor:
    """The array path's dx in lamina ops: + the active hinge count per class, - per target, times dy / C."""
    active, tc, C = ctx.cfg
    xp = ctx.device.backend.xp
    a = constant(active, dy).to(dy.dtype) * (dy / C)[:, None, None]                # (N, S, C)
    to_class = constant(tc[:, :, None] == xp.arange(C), dy).to(dy.dtype)          # (N, S, C): t_k's class
    return a.sum(dim=1) - (a.sum(dim=2).unsqueeze(2) * to_class).sum(dim=1)


def _scatter_add(dx, rows, cols, v):  # pragma: no cover - CuPy without ufunc.at
    import cupyx

    cupyx.scatter_add(dx, (rows, cols), v)


@autocast_op("fp32")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss. Shape: input (N, C) or (C,), target alike (int) -> () or (N,) / ()."""
    name = "MultiLabelMarginLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    if input.ndim not in (1, 2):
        raise ShapeError(f"{name}: expected input of shape (N, C) or (C,), got {tuple(input.shape)}")
    _class_targets(name, input, target, tuple(input.shape))
    unbatched = input.ndim == 1
    x, t = (input.unsqueeze(0), target.unsqueeze(0)) if unbatched else (input, target)
    C = x.shape[1]
    tv = t.array
    valid = (tv < 0).cumsum(axis=1) == 0
    if tv.size and bool((valid & (tv >= C)).any()):
        bad = int(tv[valid & (tv >= C)][0])
        raise IndexError(f"{name}: target {bad} is out of bounds for {C} classes (expected 0 <= target < {C}, "
                         "ended by -1)")
    loss = MultiLabelMargin.apply(x, t.detach())
    return apply_reduction(loss[0] if unbatched else loss, reduction)


class MarginRankingLoss(_Loss):
    """Ranking hinge. Shape: input1 (*), input2 (*), target (*) -> () or (*)."""

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge embedding loss. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 1.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Cosine embedding loss. Shape: input1 (N, D) or (D,), input2 alike, target (N,) or () -> () or (N,)."""

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss. Shape: input (N, C) or (C,), target (N,) or () -> () or (N,)."""

    __constants__ = ["p", "margin", "reduction"]

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        if weight is not None and weight.ndim != 1:
            raise ShapeError(f"MultiMarginLoss: expected a 1-d weight, got shape {tuple(weight.shape)}")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss. Shape: input (N, C) or (C,), target alike (int, -1 ended) -> () or (N,)."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_margin_loss(input, target, reduction=self.reduction)
