"""Gradient clipping, with PyTorch's formulas: total norm over every gradient, then
``grad *= min(max_norm / (total_norm + 1e-6), 1)``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ...ops.tensor import Tensor

_Params = Tensor | Iterable[Tensor]


def _grads(parameters: _Params) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


_PIECE = 8192  # OpenBLAS runs dots this long on one thread: a fixed summation order on any thread count


def _norm(xp: Any, a: Any, norm_type: float) -> Any:
    if norm_type == math.inf:
        return xp.abs(a).max() if a.size else xp.zeros((), a.dtype)
    if norm_type == -math.inf:
        return xp.abs(a).min()
    if norm_type == 0:
        return (a != 0).sum().astype(a.dtype)
    if norm_type == 1:
        return xp.abs(a).sum()
    if norm_type == 2:  # dots over fixed pieces, without the a * a temporary
        return xp.sqrt(sum(xp.dot(a[i:i + _PIECE], a[i:i + _PIECE]) for i in range(0, a.size, _PIECE)))
    return (xp.abs(a) ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors: _Params, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of the per-tensor norms of ``tensors`` (as if all were one vector)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        from ...ops.creation import tensor

        return tensor(0.0)
    dev = tensors[0].device
    xp = dev.backend.xp
    for t in tensors:
        if t.device is not dev:
            raise RuntimeError(f"get_total_norm: expected all gradients on one device, got {dev} and {t.device}")
    norms = [_norm(xp, t.array.reshape(-1), norm_type) for t in tensors]
    dt = xp.result_type(*[t.array.dtype for t in tensors])
    total = _norm(xp, xp.stack([xp.asarray(n, dtype=dt) for n in norms]), norm_type)
    total = Tensor._make(xp.asarray(total, dtype=dt), dev)
    if error_if_nonfinite and not bool(xp.isfinite(total.array)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters: _Params, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale every gradient in place by ``min(max_norm / (total_norm + 1e-6), 1)``."""
    grads = _grads(parameters)
    if not grads:
        return
    xp = grads[0].device.backend.xp
    coef = xp.minimum(float(max_norm) / (total_norm.array + 1e-6), 1.0)
    for g in grads:
        xp.multiply(g.array, coef.astype(g.array.dtype), out=g.array)
        g._vc.v += 1


def clip_grad_norm_(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Clip the gradients' total norm to ``max_norm`` in place; returns the total norm before clipping."""
    if not isinstance(parameters, Tensor):
        parameters = list(parameters)
    grads = _grads(parameters)
    if not grads:
        from ...ops.creation import tensor

        return tensor(0.0)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_`` (as in PyTorch)."""
    import warnings

    warnings.warn("`lamina.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`lamina.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _Params, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``."""
    v = float(clip_value)
    for g in _grads(parameters):
        xp = g.device.backend.xp
        xp.clip(g.array, -v, v, out=g.array)
        g._vc.v += 1
