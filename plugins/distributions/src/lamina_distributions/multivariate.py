"""Vector-valued continuous distributions: Dirichlet and MultivariateNormal."""

from __future__ import annotations

import math
from typing import Any

import lamina
import lamina.nn.functional as F
import numpy as np
from lamina import Tensor

from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .samplers import standard_dirichlet, standard_normal
from .utils import as_size, diagonal, lazy_property

__all__ = ["Dirichlet", "MultivariateNormal"]


def broadcast_shapes(*shapes: Any) -> lamina.Size:
    """The broadcast of several shapes (NumPy's rule, as torch.broadcast_shapes)."""
    return lamina.Size(np.broadcast_shapes(*(tuple(s) for s in shapes)))


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration) on the simplex. concentration: (*batch_shape, K) -> event_shape (K,)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        return standard_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return lamina.xlogy(c - 1.0, value).sum(-1) + lamina.lgamma(c.sum(-1)) - lamina.lgamma(c).sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        cm1 = (self.concentration - 1).clamp(min=0.0)
        total = cm1.sum(-1, keepdim=True)
        mode = cm1 / lamina.where(total > 0, total, 1.0)
        all_small = (self.concentration < 1).all(-1, keepdim=True)
        corner = F.one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return lamina.where(all_small, corner, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (lamina.lgamma(c).sum(-1) - lamina.lgamma(a0) - (k - a0) * lamina.digamma(a0)
                - ((c - 1.0) * lamina.digamma(c)).sum(-1))

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return lamina.lgamma(x).sum(-1) - lamina.lgamma(x.sum(-1))


def batch_mv(bmat: Tensor, bvec: Tensor) -> Tensor:
    """Broadcast matrix-vector product. bmat: (*, n, n), bvec: (*', n) -> (broadcast, n)"""
    return lamina.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def batch_mahalanobis(bL: Tensor, bx: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x for lower-triangular L. bL: (*, n, n), bx: (*', n) -> broadcast batch"""
    batch = broadcast_shapes(bL.shape[:-2], bx.shape[:-1])
    n = bx.shape[-1]
    L = bL.expand(tuple(batch) + (n, n))
    x = bx.expand(tuple(batch) + (n,)).unsqueeze(-1)
    return lamina.linalg.solve_triangular(L, x, upper=False).squeeze(-1).pow(2).sum(-1)


def precision_to_scale_tril(P: Tensor) -> Tensor:
    """The lower Cholesky factor of P^-1, computed without inverting P. P: (*, n, n) -> (*, n, n)"""
    Lf = lamina.linalg.cholesky(lamina.flip(P, (-2, -1)))
    L_inv = lamina.flip(Lf, (-2, -1)).transpose(-2, -1)
    eye = lamina.eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return lamina.linalg.solve_triangular(L_inv, eye.expand(tuple(L_inv.shape)), upper=False)


class MultivariateNormal(Distribution):
    """N(loc, Sigma), Sigma given as covariance_matrix, precision_matrix or scale_tril.

    Shape: loc (*, n), matrix (*, n, n) -> batch_shape broadcast(*), event_shape (n,)
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix}
        name, mat = next((k, v) for k, v in given.items() if v is not None)
        if mat.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading batch dimensions")
        batch = broadcast_shapes(mat.shape[:-2], loc.shape[:-1])
        setattr(self, name, mat.expand(tuple(batch) + (-1, -1)))
        self.loc = loc.expand(tuple(batch) + (-1,))
        super().__init__(batch, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = mat
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = lamina.linalg.cholesky(mat)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(mat)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = as_size(batch_shape)
        ev = tuple(self.event_shape)
        new.loc = self.loc.expand(tuple(batch_shape) + ev)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(tuple(batch_shape) + ev + ev))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return lamina.matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        return lamina.cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        half_log_det = diagonal(self._unbroadcasted_scale_tril).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = diagonal(self._unbroadcasted_scale_tril).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return H if len(self._batch_shape) == 0 else H.expand(tuple(self._batch_shape))
