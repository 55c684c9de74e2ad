"""The top-level ``lamina.<loss>`` forms, with torch's ``torch.<loss>`` signatures: ``reduction`` is
the ATen enum, an int (0 'none', 1 'mean', 2 'sum'), not ``F``'s string, and there are no legacy
``size_average``/``reduce`` arguments. As in torch 2.13's bindings, a call without ``reduction`` gets 0
(no reduction), unlike ``F``'s 'mean'. Served through the entry-point group ``lamina.functions``."""

from __future__ import annotations

from collections.abc import Sequence

from lamina import Tensor

from . import (
    __lamina_plugin_api__,  # noqa: F401
    binary,
    ctc,
    divergence,
    margin,
    regression,
    triplet,
)

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(name: str, reduction: int) -> str:
    if isinstance(reduction, bool) or not isinstance(reduction, int) or not 0 <= reduction <= 2:
        raise ValueError(f"{name}: reduction must be the int 0 (none), 1 (mean) or 2 (sum), got {reduction!r}")
    return _REDUCTIONS[reduction]


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: int = 0) -> Tensor:
    r = _reduction("binary_cross_entropy_with_logits", reduction)
    return binary.binary_cross_entropy_with_logits(input, target, weight, reduction=r, pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    r = _reduction("cosine_embedding_loss", reduction)
    return _margin.cosine_embedding_loss(input1, input2, target, margin, reduction=r)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: int = 0,
             zero_infinity: bool = False) -> Tensor:
    r = _reduction("ctc_loss", reduction)
    return ctc.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, r, zero_infinity)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0) -> Tensor:
    r = _reduction("hinge_embedding_loss", reduction)
    return _margin.hinge_embedding_loss(input, target, margin, reduction=r)


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    """ATen's kl_div: 'mean' is the plain elementwise mean (F.kl_div's warning about it does not apply)."""
    r = _reduction("kl_div", reduction)
    loss = divergence.kl_div(input, target, reduction="none", log_target=log_target)
    return loss if r == "none" else (loss.mean() if r == "mean" else loss.sum())


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    r = _reduction("margin_ranking_loss", reduction)
    return _margin.margin_ranking_loss(input1, input2, target, margin, reduction=r)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    r = _reduction("poisson_nll_loss", reduction)
    return regression.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=r)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Tensor:
    r = _reduction("triplet_margin_loss", reduction)
    return triplet.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=r)


_margin = margin
