"""Dropout: element-wise, channel-wise (1d/2d/3d), alpha and feature-alpha dropout.

Masks are drawn with ``lamina.rand`` from the core's default generator of the input's device, so
``lamina.manual_seed`` makes them reproducible. In training an element (or a whole channel) is
kept with probability 1 - p and scaled by 1 / (1 - p); outside training, or with p = 0, the input
itself is returned. The mask multiplies the input as one ``Function`` (y = x * m, dx = dy * m).
"""

from __future__ import annotations

import math
import warnings

import lamina
from lamina import Tensor
from lamina.autograd import Function
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401

_SELU_ALPHA_PRIME = 1.7580993408473766  # -scale * alpha of SELU: the value a dropped unit takes


class MaskAffineFn(Function):
    """y = x * m + b with a constant mask ``m`` and offset ``b`` (None for plain dropout). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, m, b):
        ctx.save_for_backward(m)
        y = x * m
        return y if b is None else y + b

    @staticmethod
    def backward(ctx, dy):
        (m,) = ctx.saved_tensors
        return dy * m, None, None


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, p: float, shape: tuple) -> object:
    """A 0/1 array of ``shape`` in the input's dtype, 1 with probability 1 - p."""
    u = lamina.rand(tuple(shape), dtype=input.dtype, device=input.device).array
    return (u >= p).astype(input.array.dtype)


def _apply(input: Tensor, m, b, inplace: bool) -> Tensor:
    if not inplace:
        return MaskAffineFn.apply(input, m, b)
    if lamina.is_grad_enabled() and input.requires_grad:
        return input.copy_(MaskAffineFn.apply(input, m, b))
    with lamina.no_grad():
        return input.copy_(MaskAffineFn.apply(input, m, b))


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, noise_shape: tuple, alpha: bool) -> Tensor:
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if not input.is_floating_point():
        raise lamina.DTypeError(f"dropout: expected a floating point input, got {input.dtype}")
    keep = _keep_mask(input, p, noise_shape)
    if alpha:
        if p == 1:
            return _apply(input, keep * 0, None, inplace)
        # kept units: a * x + c; dropped: a * (-alpha') + c, with a, c restoring zero mean, unit variance
        a = 1.0 / math.sqrt((_SELU_ALPHA_PRIME**2 * p + 1) * (1 - p))
        b = (keep - 1) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p
        return _apply(input, keep * a, b, inplace)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return _apply(input, keep * scale, None, inplace)


def _feature_shape(input: Tensor, name: str) -> tuple:
    if input.ndim < 2:
        raise lamina.ShapeError(f"{name}: feature dropout expected an input with at least 2 dimensions (N, C, *), "
                                f"got {input.ndim}-D input of shape {list(input.shape)}")
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p, scale the rest by 1 / (1 - p). Shape: (*) -> (*)"""
    return _dropout(input, p, training, inplace, tuple(input.shape), False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance. Shape: (*) -> (*)"""
    return _dropout(input, p, training, inplace, tuple(input.shape), True)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels. Shape: (N, C, L) or (C, L) -> same"""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise lamina.ShapeError(f"dropout1d: expected 2D (C, L) or 3D (N, C, L) input, got {input.ndim}D input "
                                f"of shape {list(input.shape)}")
    if input.ndim == 3:
        return _dropout(input, p, training, inplace, _feature_shape(input, "dropout1d"), False)
    shape = (1,) + tuple(input.shape[:1]) + (1,)
    if not training or p == 0 or input.numel() == 0:
        return input
    return _apply_unbatched(input, p, inplace, shape)


def _apply_unbatched(input: Tensor, p: float, inplace: bool, noise_shape: tuple) -> Tensor:
    keep = _keep_mask(input, p, noise_shape[1:])
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return _apply(input, keep * scale, None, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels. Shape: (N, C, H, W) -> same; 3-D input is taken as (N, C, L), as PyTorch does."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, _feature_shape(input, "dropout2d"), False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels. Shape: (N, C, D, H, W) or (C, D, H, W) -> same"""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", UserWarning, stacklevel=2)
    if input.ndim == 5:
        return _dropout(input, p, training, inplace, _feature_shape(input, "dropout3d"), False)
    if input.ndim < 1:
        raise lamina.ShapeError(f"dropout3d: expected (N, C, D, H, W) or (C, D, H, W) input, got a {input.ndim}-D "
                                "input")
    if not training or p == 0 or input.numel() == 0:
        return input
    # unbatched: the first dim is the channel
    return _apply_unbatched(input, p, inplace, (1, input.shape[0]) + (1,) * (input.ndim - 1))


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dims 0 and 1 index a channel). Shape: (N, C, *) -> same"""
    _check_p(p)
    return _dropout(input, p, training, inplace, _feature_shape(input, "feature_alpha_dropout"), True)


# --- modules ------------------------------------------------------------------------------------


class _DropoutNd(Module):
    _fn = staticmethod(dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p in training and scale the rest by 1 / (1 - p); identity in eval.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    """Zero whole channels (dim 1 of (N, C, L), dim 0 of (C, L)) with probability p in training.

    Shape: input (N, C, L) or (C, L) -> output of the same shape.
    """

    _fn = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability p in training.

    Shape: input (N, C, H, W) or (N, C, L) (taken as batched, as PyTorch does) -> same shape.
    """

    _fn = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p in training.

    Shape: input (N, C, D, H, W) or (C, D, H, W) -> output of the same shape.
    """

    _fn = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and an affine map
    keeps zero mean and unit variance.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels in training (a dropped channel takes SELU's saturation value, then an
    affine map keeps zero mean and unit variance); identity in eval.

    Shape: input (N, C, D, H, W) or (C, D, H, W) -> output of the same shape.
    """

    _fn = staticmethod(feature_alpha_dropout)
