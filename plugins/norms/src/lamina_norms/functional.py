"""``F.batch_norm``, ``F.instance_norm``, ``F.layer_norm``, ``F.group_norm``, ``F.rms_norm``.

Each builds a :class:`~lamina_norms._kernel.Spec` (how to view x, which axes to reduce, how the
parameters broadcast) and calls the one fused ``Normalize`` Function. Running statistics are
updated in place (no autograd history, version bumped) with the UNBIASED batch variance.
"""

from __future__ import annotations

from collections.abc import Sequence

import lamina
import numpy as np
from lamina import Tensor

from ._kernel import Spec, normalize

__lamina_plugin_api__ = "1.0"


def _prod(xs: Sequence[int]) -> int:
    n = 1
    for s in xs:
        n *= int(s)
    return n


def _check_param(name: str, what: str, t: Tensor | None, size: int) -> None:
    if t is not None and t.numel() != size:
        raise RuntimeError(f"{name}: expected {what} with {size} elements (one per channel), got {t.numel()}")


def _update_running(running: Tensor, batch: Tensor, momentum: float) -> None:
    with lamina.no_grad():
        running.mul_(1.0 - momentum)
        running.add_(batch.to(running.dtype) * momentum)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Batch normalisation over every dim but the channel dim 1.

    Shape: input (N, C, *) -> (N, C, *); running_mean, running_var, weight, bias (C,)
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input with at least 2 dims (N, C, *), got {input.ndim}D input")
    shape = tuple(input.shape)
    N, C, L = shape[0], shape[1], _prod(shape[2:])
    for what, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param("batch_norm", what, t, C)
    spec = Spec((N, C, L), (0, 2), (1, C, 1), float(eps))
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
        return normalize(input, weight, bias, spec, running_mean, running_var)
    if N * L == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input size "
                         f"{list(shape)}")
    y, mean, var = normalize(input, weight, bias, spec)
    if input.numel() and (running_mean is not None or running_var is not None):
        n = N * L
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(C), momentum)
        if running_var is not None:
            _update_running(running_var, var.reshape(C) * (n / max(n - 1, 1)), momentum)
    return y


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims.

    Shape: input (N, C, *) -> (N, C, *); running stats (the batch average of the per-instance
    statistics, unbiased variance), weight, bias (C,)
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input with at least 3 dims (N, C, *), got {input.ndim}D input")
    shape = tuple(input.shape)
    N, C, L = shape[0], shape[1], _prod(shape[2:])
    for what, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param("instance_norm", what, t, C)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running_mean and running_var must be given when "
                               "use_input_stats=False")
        return normalize(input, weight, bias, Spec((N, C, L), (0, 2), (1, C, 1), float(eps)),
                         running_mean, running_var)
    if L == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")
    y, mean, var = normalize(input, weight, bias, Spec((N, C, L), (2,), (1, C, 1), float(eps)))
    if N and running_mean is not None:
        _update_running(running_mean, mean.reshape(N, C).mean(0), momentum)
    if N and running_var is not None:
        _update_running(running_var, (var.reshape(N, C) * (L / max(L - 1, 1))).mean(0), momentum)
    return y


def _trailing(name: str, input: Tensor, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"{name}: expected input with shape [*, {', '.join(map(str, ns))}] "
                           f"(normalized_shape={list(ns)}), got {list(input.shape)}")
    return ns


def _affine_shape(name: str, what: str, t: Tensor | None, ns: tuple[int, ...]) -> None:
    if t is not None and tuple(t.shape) != ns:
        raise RuntimeError(f"{name}: expected {what} of shape {list(ns)} (normalized_shape), got {list(t.shape)}")


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims.

    Shape: input (*, normalized_shape) -> same; weight, bias (normalized_shape)
    """
    ns = _trailing("layer_norm", input, normalized_shape)
    _affine_shape("layer_norm", "weight", weight, ns)
    _affine_shape("layer_norm", "bias", bias, ns)
    D = _prod(ns)
    rows = input.numel() // D if D else _prod(input.shape[:input.ndim - len(ns)])
    y, _, _ = normalize(input, weight, bias, Spec((rows, D), (1,), (1, D), float(eps)))
    return y


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing dims; eps None: the dtype's machine epsilon.

    Shape: input (*, normalized_shape) -> same; weight (normalized_shape)
    """
    ns = _trailing("rms_norm", input, normalized_shape)
    _affine_shape("rms_norm", "weight", weight, ns)
    if eps is None:
        eps = float(np.finfo(input.array.dtype).eps)
    D = _prod(ns)
    rows = input.numel() // D if D else _prod(input.shape[:input.ndim - len(ns)])
    y, _, _ = normalize(input, weight, None, Spec((rows, D), (1,), (1, D), float(eps), center=False))
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-05) -> Tensor:
    """Normalise each sample over groups of ``C // num_groups`` channels (and all spatial dims).

    Shape: input (N, C, *) -> (N, C, *); weight, bias (C,)
    """
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected input with at least 2 dims (N, C, *), got {input.ndim}D input")
    shape = tuple(input.shape)
    N, C, L = shape[0], shape[1], _prod(shape[2:])
    G = int(num_groups)
    if G <= 0 or C % G:
        raise RuntimeError(f"group_norm: expected the number of channels ({C}) to be divisible by num_groups, "
                           f"got num_groups={G} and input of shape {list(shape)}")
    _check_param("group_norm", "weight", weight, C)
    _check_param("group_norm", "bias", bias, C)
    y, _, _ = normalize(input, weight, bias, Spec((N, G, C // G, L), (2, 3), (1, G, C // G, 1), float(eps)))
    return y


__all__ = ["batch_norm", "instance_norm", "layer_norm", "rms_norm", "group_norm"]
