"""``ExponentialFamily``: distributions p(x; t) = h(x) exp(<t, T(x)> - F(t)), with entropy from F by autograd."""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base for exponential families: subclasses give ``_natural_params``, ``_log_normalizer`` and
    ``_mean_carrier_measure``; ``entropy`` is then the Bregman divergence of the log normalizer."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = F(t) - <t, grad F(t)> - E[log h(x)]. -> (batch_shape)"""
        result: Any = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with lamina.enable_grad():
            log_norm = self._log_normalizer(*params)
            grads = lamina.autograd.grad(log_norm.sum(), params, create_graph=True)
        result = result + log_norm
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
