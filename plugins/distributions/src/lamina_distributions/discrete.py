"""Scalar discrete distributions: Bernoulli, Categorical, Binomial, Poisson, Geometric, NegativeBinomial."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import lamina
import lamina.nn.functional as F
from lamina import Tensor

from . import constraints
from .distribution import Distribution, expand_params
from .exp_family import ExponentialFamily
from .samplers import draw_flat
from .utils import broadcast_all, finfo, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "Binomial", "Categorical", "Geometric", "NegativeBinomial", "Poisson"]

_BOTH = "Either `probs` or `logits` must be specified, but not both."


def _bce(logits: Tensor, target: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def _binary_param(dist: Any, probs: Any, logits: Any) -> tuple[Tensor, bool]:
    """Store ``probs`` or ``logits`` (exactly one) on ``dist``; returns (param, given as a number)."""
    if (probs is None) == (logits is None):
        raise ValueError(_BOTH)
    if probs is not None:
        (dist.probs,) = broadcast_all(probs)
        return dist.probs, isinstance(probs, Number)
    (dist.logits,) = broadcast_all(logits)
    return dist.logits, isinstance(logits, Number)


def _enumerate(n: int, dist: Distribution, like: Tensor, expand: bool) -> Tensor:
    values = lamina.arange(n, dtype=like.dtype, device=like.device)
    values = values.view((-1,) + (1,) * len(dist._batch_shape))
    return values.expand((-1,) + tuple(dist._batch_shape)) if expand else values


class Bernoulli(ExponentialFamily):
    """Bernoulli(probs) on {0, 1}, parameterised by ``probs`` or ``logits``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._param, is_scalar = _binary_param(self, probs, logits)
        super().__init__(lamina.Size() if is_scalar else self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Bernoulli:
        new = expand_params(self, Bernoulli, batch_shape, ("probs", "logits"), _instance)
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> lamina.Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return lamina.where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        with lamina.no_grad():
            return lamina.bernoulli(self.probs.expand(tuple(self._extended_shape(sample_shape))))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce(logits, value)

    def entropy(self) -> Tensor:
        return _bce(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        return _enumerate(2, self, self._param, expand)

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (lamina.logit(self.probs),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return lamina.log1p(lamina.exp(x))


class Categorical(Distribution):
    """Categorical over {0, ..., K-1}. probs or logits: (*batch_shape, K)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch = self._param.size()[:-1] if self._param.dim() > 1 else lamina.Size()
        super().__init__(batch, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Categorical:
        new = expand_params(self, Categorical, batch_shape, ("probs", "logits"), _instance,
                            event_shape=(self._num_events,))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> lamina.Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return lamina.full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return lamina.full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        shape = lamina.Size(tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,))
        with lamina.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            samples_2d = lamina.multinomial(probs_2d, shape.numel(), True).T
            return samples_2d.reshape(tuple(self._extended_shape(shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = lamina.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = lamina.arange(self._num_events, dtype=lamina.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


def _clamp_by_zero(x: Tensor) -> Tensor:
    # max(x, 0) with gradient 0.5 at x = 0, as torch
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """Binomial(total_count, probs): successes in ``total_count`` Bernoulli trials."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Binomial:
        new = expand_params(self, Binomial, batch_shape, ("total_count", "probs", "logits"), _instance)
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> lamina.Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with lamina.no_grad():
            return draw_flat(lamina.binomial, self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_n = lamina.lgamma(n + 1)
        log_k = lamina.lgamma(value + 1)
        log_nmk = lamina.lgamma(n - value + 1)
        # log(1 + exp(logits)) * n, written so it never overflows
        norm = n * _clamp_by_zero(self.logits) + n * lamina.log1p(lamina.exp(-self.logits.abs())) - log_n
        return value * self.logits - log_k - log_nmk - norm

    def _homogeneous_count(self, what: str) -> int:
        n = int(self.total_count.max())
        if not bool((self.total_count == n).all()):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return n

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(lamina.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._homogeneous_count("enumerate_support")
        return _enumerate(1 + n, self, self._param, expand)


class Poisson(ExponentialFamily):
    """Poisson(rate) on {0, 1, 2, ...}."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(lamina.Size() if isinstance(rate, Number) else self.rate.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Poisson:
        return expand_params(self, Poisson, batch_shape, ("rate",), _instance)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        with lamina.no_grad():
            return draw_flat(lamina.poisson, self.rate.expand(tuple(self._extended_shape(sample_shape))))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return lamina.xlogy(value, rate) - rate - lamina.lgamma(value + 1)

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (lamina.log(self.rate),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return lamina.exp(x)


class Geometric(Distribution):
    """Number of failures before the first success, P(k) = (1 - p)^k p."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        param, is_scalar = _binary_param(self, probs, logits)
        super().__init__(lamina.Size() if is_scalar else param.size(), validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} to be positive but found invalid values:\n{value.data[~valid]}"
                )

    def expand(self, batch_shape: Any, _instance: Any = None) -> Geometric:
        return expand_params(self, Geometric, batch_shape, ("probs", "logits"), _instance)

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return lamina.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        tiny = float(finfo(self.probs.dtype).tiny)
        with lamina.no_grad():
            u = lamina.rand(shape, dtype=self.probs.dtype, device=self.probs.device).clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = lamina.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return _bce(self.logits, self.probs) / self.probs


class NegativeBinomial(Distribution):
    """Failures before ``total_count`` successes, success probability 1 - probs per trial."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        new = expand_params(self, NegativeBinomial, batch_shape, ("total_count", "probs", "logits"), _instance)
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    @property
    def mean(self) -> Tensor:
        return self.total_count * lamina.exp(self.logits)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / lamina.sigmoid(-self.logits)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> lamina.Size:
        return self._param.size()

    @lazy_property
    def _gamma(self) -> Distribution:
        from .continuous_positive import Gamma

        return Gamma(concentration=self.total_count, rate=lamina.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape: Any = lamina.Size()) -> Tensor:
        with lamina.no_grad():
            return draw_flat(lamina.poisson, self._gamma.sample(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_unnorm = self.total_count * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        log_norm = (-lamina.lgamma(self.total_count + value) + lamina.lgamma(1.0 + value)
                    + lamina.lgamma(self.total_count))
        log_norm = lamina.where(self.total_count + value == 0.0, 0.0, log_norm)
        return log_unnorm - log_norm
