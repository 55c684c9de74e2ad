"""The top-level ``lamina.<op>`` forms of the normalisations, with torch's ``torch.<op>`` signatures
(``torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
cudnn_enabled)``: weight and bias come first, unlike ``F.batch_norm``). ``cudnn_enabled`` selects a
CUDA library in torch and changes no result; it is accepted and has no effect here either. Served
through the entry-point group ``lamina.functions``."""

from __future__ import annotations

from collections.abc import Sequence

from lamina import Tensor

from . import __lamina_plugin_api__  # noqa: F401
from . import functional as F


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool) -> Tensor:
    """Shape: (N, C, *) -> (N, C, *)"""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool) -> Tensor:
    """Shape: (N, C, *) -> (N, C, *)"""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    """Shape: (*, *normalized_shape) -> same"""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    """Shape: (N, C, *) -> (N, C, *)"""
    return F.group_norm(input, num_groups, weight, bias, eps)


rms_norm = F.rms_norm


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (over all of them for dim=-1), keeping dims:
    weight normalisation's norm. Shape: v (d0, ..., dn) -> (1, .., d_dim, .., 1), or () for dim=-1"""
    if dim == -1:
        return _norm(v, pow, None)
    dims = tuple(d for d in range(v.ndim) if d != dim % max(v.ndim, 1))
    return _norm(v, pow, dims)


def _norm(v: Tensor, p: float, dims: tuple | None) -> Tensor:
    a = v.abs()
    if p == 2:
        return (a * a).sum(dims, keepdim=dims is not None).sqrt()
    return (a ** p).sum(dims, keepdim=dims is not None) ** (1.0 / p)
