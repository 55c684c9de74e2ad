"""Further continuous families: VonMises, FisherSnedecor, GeneralizedPareto, Kumaraswamy, ContinuousBernoulli."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number
from typing import Any

import lamina
import lamina.nn.functional as F
import numpy as np
from lamina import Tensor

from . import constraints
from .composite import TransformedDistribution
from .continuous_location import Uniform
from .continuous_positive import Gamma
from .distribution import Distribution, expand_params
from .exp_family import ExponentialFamily
from .transforms import AffineTransform, PowerTransform
from .utils import broadcast_all, clamp_probs, euler_constant, finfo, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli", "FisherSnedecor", "GeneralizedPareto", "Kumaraswamy", "VonMises"]

# Abramowitz & Stegun 9.8.1-9.8.4: polynomial approximations of I0 and I1 (small: in (x/3.75)^2,
# large: of sqrt(x) exp(-x) I(x) in 3.75/x); torch evaluates log I with the same published tables.
_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813)
_I0_LARGE = (0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537,
             -0.01647633, 0.00392377)
_I1_SMALL = (0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411)
_I1_LARGE = (0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967, -0.02895312,
             0.01787654, -0.00420059)


def _horner(y: Tensor, coef: Sequence[float]) -> Tensor:
    result: Any = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel(x: Tensor, order: int = 0) -> Tensor:
    """log I_order(x) for x > 0, order 0 or 1 (A&S polynomial approximations)."""
    small_c, large_c = (_I0_SMALL, _I0_LARGE) if order == 0 else (_I1_SMALL, _I1_LARGE)
    # each branch sees only its own range, so the unused one raises no NumPy warning
    xs = x.clamp(max=3.75)
    xl = x.clamp(min=3.75)
    small = _horner((xs / 3.75) ** 2, small_c)
    if order == 1:
        small = xs.abs() * small
    small = small.log()
    large = xl - 0.5 * xl.log() + _horner(3.75 / xl, large_c).log()
    return lamina.where(x < 3.75, small, large)


class VonMises(Distribution):
    """Circular von Mises distribution: density exp(k cos(x - loc)) / (2 pi I0(k))."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, lamina.Size(), validate_args)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * lamina.cos(value - self.loc) - math.log(2 * math.pi) - log_modified_bessel(k, order=0)

    @lazy_property
    def _loc(self) -> Tensor:
        return self.loc.double()

    @lazy_property
    def _concentration(self) -> Tensor:
        return self.concentration.double()

    @lazy_property
    def _proposal_r(self) -> Tensor:
        k = self._concentration
        tau = 1 + (1 + 4 * k**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * k)
        return lamina.where(k < 1e-5, 1 / k + k, (1 + rho**2) / (2 * rho))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Best-Fisher rejection sampling in float64."""
        shape = tuple(self._extended_shape(sample_shape))
        with lamina.no_grad():
            loc, k, r = self._loc, self._concentration, self._proposal_r
            x = lamina.zeros(shape, dtype=lamina.float64, device=self.loc.device)
            done = lamina.zeros(shape, dtype=lamina.bool, device=self.loc.device)
            while not bool(done.all()):
                u1, u2, u3 = lamina.rand((3,) + shape, dtype=lamina.float64, device=self.loc.device).unbind(0)
                z = lamina.cos(math.pi * u1)
                f = (1 + r * z) / (r + z)
                c = k * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                accept = accept & ~done
                x = lamina.where(accept, (u3 - 0.5).sign() * f.clamp(min=-1, max=1).acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        return expand_params(self, VonMises, batch_shape, ("loc", "concentration"), _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:  # type: ignore[override]
        k = self.concentration
        return 1 - (log_modified_bessel(k, order=1) - log_modified_bessel(k, order=0)).exp()


class FisherSnedecor(Distribution):
    """F(df1, df2): (X1 / df1) / (X2 / df2) for independent chi-squared X1, X2."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        scalar = isinstance(df1, Number) and isinstance(df2, Number)
        super().__init__(lamina.Size() if scalar else self.df1.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> FisherSnedecor:
        new = expand_params(self, FisherSnedecor, batch_shape, ("df1", "df2"), _instance)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        df2 = lamina.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return lamina.where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        df2 = lamina.where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        x1 = self._gamma1.rsample(sample_shape).view(shape)
        x2 = self._gamma2.rsample(sample_shape).view(shape)
        tiny = float(finfo(x2.dtype).tiny)
        x2 = x2 + (x2.clamp(min=tiny) - x2).detach()
        y = x1 / x2
        return y + (y.clamp(min=tiny) - y).detach()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * lamina.log(value)
        t3 = (ct1 + ct2) * lamina.log1p(ct3 * value)
        return t1 + t2 - t3


class GeneralizedPareto(Distribution):
    """Generalized Pareto(loc, scale, concentration); concentration 0 is the shifted exponential."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(lamina.Size() if scalar else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> GeneralizedPareto:
        return expand_params(self, GeneralizedPareto, batch_shape, ("loc", "scale", "concentration"), _instance)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = lamina.rand(tuple(self._extended_shape(sample_shape)), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe(self) -> tuple[Tensor, Tensor]:
        c = self.concentration
        eq_zero = lamina.isclose(c, lamina.zeros_like(c))
        return eq_zero, lamina.where(eq_zero, lamina.ones_like(c), c)

    def _z(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe()
        y = 1 / safe + lamina.ones_like(z)
        nonzero = lamina.where(y == 0, y, y * lamina.log1p(safe * z))
        return -self.scale.log() - lamina.where(eq_zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe()
        return lamina.where(eq_zero, -z, -lamina.log1p(safe * z) / safe)

    def log_cdf(self, value: Tensor) -> Tensor:
        return lamina.log1p(-lamina.exp(self.log_survival_function(value)))

    def cdf(self, value: Tensor) -> Tensor:
        return lamina.exp(self.log_cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        eq_zero, safe = self._safe()
        logu = lamina.log1p(-value)
        nonzero = self.loc + self.scale / safe * lamina.expm1(-safe * logu)
        return lamina.where(eq_zero, self.loc - self.scale * logu, nonzero)

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        safe = lamina.where(valid, self.concentration, 0.5)
        return lamina.where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        safe = lamina.where(valid, self.concentration, 0.25)
        return lamina.where(valid, self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe)), math.nan)

    def entropy(self) -> Tensor:
        return lamina.broadcast_to(lamina.log(self.scale) + self.concentration + 1, tuple(self._batch_shape))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        neg = self.concentration < 0
        safe = lamina.where(neg, self.concentration, -1.0)
        upper = lamina.where(neg, self.loc - self.scale / safe, math.inf)
        return constraints.interval(self.loc, upper)


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X^n] = b B(1 + n / a, b)."""
    arg1 = 1 + n / a
    return b * lamina.exp(lamina.lgamma(arg1) + lamina.lgamma(b) - lamina.lgamma(arg1 + b))


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(a, b) on [0, 1]: (1 - U^(1/b))^(1/a)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(lamina.full_like(self.concentration0, 0), lamina.full_like(self.concentration0, 1),
                       validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()), AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Kumaraswamy:
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return TransformedDistribution.expand(self, batch_shape, _instance=new)

    @property
    def mean(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        # torch 2.13 evaluates log1p(-concentration0) here, which is NaN for every concentration0 >= 1, and
        # masks concentration0 < 1 or concentration1 < 1 with NaN: its mode is NaN everywhere; the same
        # expression is kept for parity of the values and of the gradients (0 where masked, else NaN)
        a, b = self.concentration1, self.concentration0
        with np.errstate(invalid="ignore", divide="ignore"):
            log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
            return lamina.where((b < 1) | (a < 1), math.nan, log_mode).exp()

    @property
    def variance(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self) -> Tensor:
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = lamina.digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * h0 - lamina.log(self.concentration1) - lamina.log(self.concentration0)


class ContinuousBernoulli(ExponentialFamily):
    """Continuous Bernoulli on [0, 1]: density C(p) p^x (1 - p)^(1 - x); a Taylor expansion is used for p
    inside ``lims`` (around 1/2) where the closed form is unstable."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None, lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            # validated before the clamp, which would hide invalid values
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        self._lims = lims
        super().__init__(lamina.Size() if is_scalar else self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ContinuousBernoulli:
        new = expand_params(self, ContinuousBernoulli, batch_shape, ("probs", "logits"), _instance)
        new._lims = self._lims
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return lamina.where(self._outside_unstable_region(), self.probs, self._lims[0] * lamina.ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        cut = self._cut_probs()
        below = lamina.where(cut <= 0.5, cut, lamina.zeros_like(cut))
        above = lamina.where(cut >= 0.5, cut, lamina.ones_like(cut))
        log_norm = lamina.log(lamina.abs(lamina.log1p(-cut) - lamina.log(cut))) - lamina.where(
            cut <= 0.5, lamina.log1p(-2.0 * below), lamina.log(2.0 * above - 1.0))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return lamina.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (lamina.log1p(-cut) - lamina.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x**2) * x
        return lamina.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        return lamina.sqrt(self.variance)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        vs = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / (lamina.log1p(-cut) - lamina.log(cut)) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return lamina.where(self._outside_unstable_region(), vs, taylor)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> lamina.Size:
        return self._param.size()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        u = lamina.rand(tuple(self._extended_shape(sample_shape)), dtype=self.probs.dtype, device=self.probs.device)
        with lamina.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = lamina.rand(tuple(self._extended_shape(sample_shape)), dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut**value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = lamina.where(self._outside_unstable_region(), cdfs, value)
        return lamina.where(value <= 0.0, lamina.zeros_like(value),
                            lamina.where(value >= 1.0, lamina.ones_like(value), unbounded))

    def icdf(self, value: Tensor) -> Tensor:
        cut = self._cut_probs()
        closed = (lamina.log1p(-cut + value * (2.0 * cut - 1.0)) - lamina.log1p(-cut)) / (
            lamina.log(cut) - lamina.log1p(-cut))
        return lamina.where(self._outside_unstable_region(), closed, value)

    def entropy(self) -> Tensor:
        log0, log1 = lamina.log1p(-self.probs), lamina.log(self.probs)
        return self.mean * (log0 - log1) - self._cont_bern_log_norm() - log0

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = lamina.where(outside, x, (self._lims[0] - 0.5) * lamina.ones_like(x))
        log_norm = lamina.log(lamina.abs(lamina.expm1(cut))) - lamina.log(lamina.abs(cut))
        taylor = 0.5 * x + x**2 / 24.0 - x**4 / 2880.0
        return lamina.where(outside, log_norm, taylor)
