"""Helpers shared by the distributions: argument broadcasting, probs/logits conversion, lazy properties,
triangular-matrix packing and dtype limits (``torch.distributions.utils``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import update_wrapper
from numbers import Number
from typing import Any

import lamina
import numpy as np
from lamina import Tensor

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "euler_constant",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant


def finfo(dtype: Any) -> np.finfo:
    """NumPy's float limits for a lamina floating dtype (eps, tiny, max)."""
    return np.finfo(dtype.np)


def as_size(shape: Any) -> lamina.Size:
    """``lamina.Size`` from a Size, tuple, list or int."""
    if isinstance(shape, int):
        return lamina.Size([shape])
    return lamina.Size(tuple(shape))


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast tensors and numbers to one shape; numbers take the first tensor's dtype and device,
    or the default dtype when every value is a number."""
    for v in values:
        if not isinstance(v, (Tensor, Number)):
            raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects "
                             "implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        opts: dict[str, Any] = {"dtype": lamina.get_default_dtype()}
        if like is not None:
            opts = {"dtype": like.dtype, "device": like.device}
        values = tuple(v if isinstance(v, Tensor) else lamina.tensor(v, **opts) for v in values)
    return tuple(lamina.broadcast_tensors(*values))


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dimensions. value: (*, d_1..d_dim) -> (*)"""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Sigmoid of binary logits, softmax of categorical logits over the last dim."""
    if is_binary:
        return lamina.sigmoid(logits)
    return lamina.softmax(logits, -1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamp probabilities into [eps, 1 - eps] of their dtype."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log(p) (categorical) or log(p) - log1p(-p) (binary), with p clamped away from 0 and 1."""
    ps = clamp_probs(probs)
    if is_binary:
        return lamina.log(ps) - lamina.log1p(-ps)
    return lamina.log(ps)


class lazy_property:
    """A property computed on first access and then stored on the instance (skipped by arg validation)."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with lamina.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """The class-level view of a lazy_property: a property too, so Sphinx and ``inspect`` see it."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        property.__init__(self, wrapped)


def tril_mask(n: int, diag: int, like: Tensor) -> Tensor:
    """Boolean (n, n) mask of the entries on or below diagonal ``diag``."""
    idx = lamina.arange(n, device=like.device)
    return (idx.unsqueeze(-1) - idx.unsqueeze(0)) >= -diag


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two dims (differentiable). x: (*, n, m) -> (*, n, m)"""
    n, m = x.shape[-2], x.shape[-1]
    r = lamina.arange(n, device=x.device).unsqueeze(-1)
    c = lamina.arange(m, device=x.device).unsqueeze(0)
    return lamina.where(c - r <= diagonal, x, lamina.zeros((), dtype=x.dtype, device=x.device))


def diag_embed(v: Tensor) -> Tensor:
    """Diagonal matrices from vectors. v: (*, n) -> (*, n, n)"""
    n = v.shape[-1]
    return v.unsqueeze(-1) * lamina.eye(n, dtype=v.dtype, device=v.device)


def diagonal(x: Tensor) -> Tensor:
    """Diagonal of the last two dims. x: (*, n, n) -> (*, n)

    An expanded x (a zero stride: batched parameters broadcast from one matrix) is made contiguous first:
    the core's strided-view backward over a zero-stride input counts each element once per alias, so
    Wishart's variance gradient came out the batch size times too large on the diagonal."""
    if 0 in x.stride():
        x = x.contiguous()
    return lamina.diagonal(x, 0, -2, -1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """Row-major entries of the lower triangle (offset ``diag``). mat: (*, n, n) -> (*, k)"""
    n = mat.shape[-1]
    if not -n <= diag < n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, diag)
    flat = lamina.tensor((rows * n + cols).tolist(), dtype=lamina.int64, device=mat.device)
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,)).index_select(-1, flat)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of :func:`tril_matrix_to_vec`. vec: (*, k) -> (*, n, n)"""
    k = vec.shape[-1]
    n = int(round((-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1))) / 2))
    eps = np.finfo(np.float32).eps
    if not math.isclose(n, round(n), rel_tol=eps):
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as the lower "
                         "triangular part of a square D x D matrix.")
    rows, cols = np.tril_indices(n, diag)
    # scatter by a one-hot matmul keeps the op differentiable: vec (*, k) @ P (k, n*n)
    place = np.zeros((k, n * n))
    place[np.arange(k), rows * n + cols] = 1.0
    p = lamina.tensor(place, dtype=vec.dtype, device=vec.device)
    return (vec @ p).reshape(tuple(vec.shape[:-1]) + (n, n))
