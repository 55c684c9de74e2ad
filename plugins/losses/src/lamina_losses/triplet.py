"""Triplet losses: with a p-norm distance, or with any distance function."""

from __future__ import annotations

from collections.abc import Callable

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.errors import ShapeError

from ._reduction import _Loss, apply_reduction, check_float, resolve, same_dtype

__lamina_plugin_api__ = "1.0"


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (PyTorch adds eps to the difference)."""
    return (x1 - x2 + eps).norm(p, dim=-1)


def _check_dims(name: str, anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"{name}: expected anchor, positive and negative with the same number of dimensions, got "
                         f"anchor {anchor.ndim}D, positive {positive.ndim}D and negative {negative.ndim}D inputs")


def _triplet(d_pos: Tensor, d_neg: Tensor, d_swap: Tensor | None, margin: float, reduction: str) -> Tensor:
    if d_swap is not None:
        d_neg = lamina.minimum(d_neg, d_swap)
    return apply_reduction((margin + d_pos - d_neg).clamp(min=0.0), reduction)


@autocast_op("fp32")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with the p-norm distance; ``swap`` uses min(d(a, n), d(p, n)).

    Shape: anchor, positive, negative (N, D) or (D,) -> () or (N,) / ().
    """
    name = "TripletMarginLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    check_float(name, "anchor", anchor)
    _check_dims(name, anchor, positive, negative)
    if anchor.ndim not in (1, 2):
        raise ShapeError(f"{name}: expected inputs of shape (N, D) or (D,), got anchor {tuple(anchor.shape)}")
    positive, negative = same_dtype(positive, anchor), same_dtype(negative, anchor)
    d_swap = _pairwise_distance(positive, negative, p, eps) if swap else None
    return _triplet(_pairwise_distance(anchor, positive, p, eps), _pairwise_distance(anchor, negative, p, eps),
                    d_swap, margin, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) for any distance ``d`` (default: the Euclidean pairwise distance).

    Shape: anchor, positive, negative (N, *) or (*) -> () or (N,) with the default distance.
    """
    name = "TripletMarginWithDistanceLoss"
    reduction = resolve(name, reduction)
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    _check_dims(name, anchor, positive, negative)
    d = distance_function if distance_function is not None else _pairwise_distance
    d_swap = d(positive, negative) if swap else None
    return _triplet(d(anchor, positive), d(anchor, negative), d_swap, margin, reduction)


class TripletMarginLoss(_Loss):
    """Triplet loss with the p-norm distance. Shape: anchor, positive, negative (N, D) or (D,) -> () or (N,)."""

    __constants__ = ["margin", "p", "eps", "swap", "reduction"]

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                   swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with a distance function. Shape: anchor, positive, negative (N, *) or (*) -> () or (N,)."""

    __constants__ = ["margin", "swap", "reduction"]

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        self.distance_function = distance_function if distance_function is not None else _pairwise_distance
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                 margin=self.margin, swap=self.swap, reduction=self.reduction)
