"""Conformance records for lamina-distributions (entry point ``records()``): each distribution's log_prob
as a function of its parameters and the value, plus cdf/icdf/entropy/kl_divergence forms, with samples
inside each domain (batched parameters broadcast against a batch of values), scipy.stats float64
references, the differentiable arguments (the parameters; a discrete value is not) and error inputs
(a parameter outside its constraint raises ValueError naming it)."""

from __future__ import annotations

import math

import numpy as np

__lamina_plugin_api__ = "1.0"

_POS, _PROB, _REAL = (0.5, 2.0), (0.1, 0.9), (-2.0, 2.0)


def _samples(param_domains, value, value_grad=True):
    """Two samples: parameters of shape (3,) with values (2, 3); and 0-d parameters with values (4,)."""
    from lamina.testing import Sample

    def make(xp, dtype, rng):
        out = []
        for pshape, vshape, name in (((3,), (2, 3), "batched"), ((), (4,), "scalar-params")):
            params = [xp.asarray(rng.uniform(lo, hi, size=pshape), dtype=dtype) for lo, hi in param_domains]
            if value == "count":
                v = rng.integers(0, 5, size=vshape).astype(dtype)
            elif value == "binary":
                v = rng.integers(0, 2, size=vshape).astype(dtype)
            else:
                v = rng.uniform(*value, size=vshape).astype(dtype)
            n = len(params)
            grads = tuple(range(n)) + ((n,) if value_grad else ())
            out.append(Sample(tuple(params) + (xp.asarray(v),), name=name, grad_args=grads))
        return out

    return make


def _log_prob(cls_name):
    def fn(*args):
        import lamina_distributions as D

        *params, value = args
        return getattr(D, cls_name)(*params).log_prob(value)

    fn.__name__ = f"{cls_name}_log_prob"
    return fn


def _stats(dist, to_scipy):
    """A reference: scipy.stats.<dist>.logpdf/logpmf of the value under to_scipy(params) -> (args, kwargs)."""
    def ref(*args):
        import scipy.stats as st

        *params, value = args
        a, kw = to_scipy(*params)
        d = getattr(st, dist)
        f = d.logpmf if hasattr(d, "logpmf") else d.logpdf
        return f(value, *a, **kw)

    return ref


def _err_param(n_params, bad_index, message, value=0.5):
    from lamina.testing import ErrorInput, Sample

    def errs(xp, dtype, rng):
        params = [xp.asarray(np.full(3, 1.0), dtype=dtype) for _ in range(n_params)]
        params[bad_index] = xp.asarray(np.array([-1.0, 1.0, 1.0]), dtype=dtype)
        return [ErrorInput(Sample(tuple(params) + (xp.asarray(np.full(3, value), dtype=dtype),)), ValueError,
                           message)]

    return errs


LOG_PROBS = [  # class, parameter domains, value domain, value differentiable, scipy name, scipy args
    ("Normal", (_REAL, _POS), _REAL, True, "norm", lambda m, s: ((), dict(loc=m, scale=s))),
    ("Cauchy", (_REAL, _POS), _REAL, True, "cauchy", lambda m, s: ((), dict(loc=m, scale=s))),
    ("Laplace", (_REAL, _POS), _REAL, True, "laplace", lambda m, s: ((), dict(loc=m, scale=s))),
    ("Gumbel", (_REAL, _POS), _REAL, True, "gumbel_r", lambda m, s: ((), dict(loc=m, scale=s))),
    ("StudentT", ((2.5, 5.0), _REAL, _POS), _REAL, True, "t", lambda d, m, s: ((d,), dict(loc=m, scale=s))),
    ("LogNormal", (_REAL, _POS), _POS, True, "lognorm", lambda m, s: ((s,), dict(scale=np.exp(m)))),
    ("Beta", (_POS, _POS), _PROB, True, "beta", lambda a, b: ((a, b), {})),
    ("Gamma", (_POS, _POS), _POS, True, "gamma", lambda c, r: ((c,), dict(scale=1 / r))),
    ("Chi2", (_POS,), _POS, True, "chi2", lambda d: ((d,), {})),
    ("Exponential", (_POS,), _POS, True, "expon", lambda r: ((), dict(scale=1 / r))),
    ("HalfNormal", (_POS,), _POS, True, "halfnorm", lambda s: ((), dict(scale=s))),
    ("HalfCauchy", (_POS,), _POS, True, "halfcauchy", lambda s: ((), dict(scale=s))),
    ("Pareto", ((0.1, 0.4), (2.0, 3.0)), (0.5, 2.0), True, "pareto", lambda s, a: ((a,), dict(scale=s))),
    ("Weibull", (_POS, _POS), _POS, True, "weibull_min", lambda s, c: ((c,), dict(scale=s))),
    ("InverseGamma", ((2.5, 4.0), _POS), _POS, True, "invgamma", lambda c, r: ((c,), dict(scale=r))),
    ("FisherSnedecor", ((4.0, 6.0), (4.0, 6.0)), _POS, True, "f", lambda a, b: ((a, b), {})),
    ("VonMises", (_REAL, _POS), (-3.0, 3.0), True, "vonmises", lambda m, k: ((k,), dict(loc=m))),
    ("Poisson", (_POS,), "count", False, "poisson", lambda r: ((r,), {})),
    ("Geometric", (_PROB,), "count", False, "geom", lambda p: ((p,), dict(loc=-1))),
    ("NegativeBinomial", ((1.0, 4.0), _PROB), "count", False, "nbinom", lambda n, p: ((n, 1 - p), {})),
    ("Bernoulli", (_PROB,), "binary", False, "bernoulli", lambda p: ((p,), {})),
]

ERRORS = {"Normal": (1, "Expected parameter scale"), "Gamma": (0, "Expected parameter concentration"),
          "Exponential": (0, "Expected parameter rate"), "Beta": (0, "Expected parameter concentration"),
          "Laplace": (1, "Expected parameter scale"), "Poisson": (0, "Expected parameter rate")}


def _kumaraswamy_ref(a, b, x):
    return np.log(a) + np.log(b) + (a - 1) * np.log(x) + (b - 1) * np.log1p(-(x ** a))


def _binomial_fn(probs, value):
    import lamina_distributions as D

    return D.Binomial(5, probs).log_prob(value)


def _binomial_ref(probs, value):
    import scipy.stats as st

    return st.binom.logpmf(value, 5, probs)


def _categorical_samples(xp, dtype, rng):
    from lamina.testing import Sample

    probs = xp.asarray(rng.dirichlet(np.ones(4), size=3), dtype=dtype)
    value = xp.asarray(rng.integers(0, 4, size=(2, 3)))
    return [Sample((probs, value), name="batched", grad_args=(0,))]


def _categorical_fn(probs, value):
    import lamina_distributions as D

    return D.Categorical(probs).log_prob(value)


def _categorical_ref(probs, value):
    logp = np.log(probs / probs.sum(-1, keepdims=True))
    return np.take_along_axis(np.broadcast_to(logp, value.shape + (4,)), value[..., None], -1)[..., 0]


def _simplex_samples(xp, dtype, rng):
    from lamina.testing import Sample

    conc = xp.asarray(rng.uniform(0.5, 2.0, size=(3, 4)), dtype=dtype)
    value = xp.asarray(rng.dirichlet(np.ones(4), size=(2, 3)), dtype=dtype)
    return [Sample((conc, value), name="batched", grad_args=(0,))]


def _dirichlet_fn(conc, value):
    import lamina_distributions as D

    return D.Dirichlet(conc).log_prob(value)


def _dirichlet_ref(conc, value):
    import scipy.special as sc

    return ((conc - 1) * np.log(value)).sum(-1) + sc.gammaln(conc.sum(-1)) - sc.gammaln(conc).sum(-1)


def _mvn_samples(xp, dtype, rng):
    from lamina.testing import Sample

    loc = xp.asarray(rng.standard_normal((3, 2)), dtype=dtype)
    tril = xp.asarray(np.array([[1.0, 0.0], [0.3, 0.8]]), dtype=dtype)
    value = xp.asarray(rng.standard_normal((2, 3, 2)), dtype=dtype)
    return [Sample((loc, tril, value), name="batched", grad_args=(0, 1, 2))]


def _mvn_fn(loc, tril, value):
    import lamina_distributions as D

    return D.MultivariateNormal(loc, scale_tril=tril, validate_args=False).log_prob(value)


def _mvn_ref(loc, tril, value):
    cov = tril @ tril.T
    d = value - loc
    m = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    return -0.5 * (m + 2 * math.log(2 * math.pi) + np.log(np.linalg.det(cov)))


def _method(cls_name, method):
    def fn(*args):
        import lamina_distributions as D

        *params, value = args
        return getattr(getattr(D, cls_name)(*params), method)(value)

    return fn


def _entropy(cls_name):
    def fn(*params):
        import lamina_distributions as D

        return getattr(D, cls_name)(*params).entropy()

    return fn


def _param_samples(domains, shape=(3,)):
    from lamina.testing import Sample

    def make(xp, dtype, rng):
        return [Sample(tuple(xp.asarray(rng.uniform(lo, hi, size=shape), dtype=dtype) for lo, hi in domains),
                       name=f"shape{shape}")]

    return make


def _kl(p_name, q_name):
    def fn(a1, b1, a2, b2):
        import lamina_distributions as D

        return D.kl_divergence(getattr(D, p_name)(a1, b1), getattr(D, q_name)(a2, b2))

    return fn


def _kl_normal_ref(m1, s1, m2, s2):
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


def _kl_gamma_ref(c1, r1, c2, r2):
    import scipy.special as sc

    return ((c1 - c2) * sc.digamma(c1) - sc.gammaln(c1) + sc.gammaln(c2) + c2 * (np.log(r1) - np.log(r2))
            + c1 * (r2 - r1) / r1)


def records() -> list:
    """log_prob of 27 distributions, Normal's cdf/icdf, entropies, and two kl_divergence pairs."""
    from lamina.testing import FunctionInfo

    import lamina_distributions as D

    dbl = frozenset({"double_backward"})  # every record here is twice differentiable
    recs = []
    for name, domains, value, vgrad, dist, to_scipy in LOG_PROBS:
        errs = _err_param(len(domains), *ERRORS[name]) if name in ERRORS else ()
        recs.append(FunctionInfo(fn=_log_prob(name), name=f"distributions.{name}.log_prob",
                                 reference=_stats(dist, to_scipy), sample_inputs=_samples(domains, value, vgrad),
                                 error_inputs=errs, covers=(getattr(D, name),), tags=dbl))
    recs += [
        FunctionInfo(tags=dbl, fn=_log_prob("Kumaraswamy"), name="distributions.Kumaraswamy.log_prob",
                     reference=_kumaraswamy_ref, sample_inputs=_samples((_POS, _POS), _PROB),
                     covers=(D.Kumaraswamy,)),
        FunctionInfo(tags=dbl, fn=_binomial_fn, name="distributions.Binomial.log_prob", reference=_binomial_ref,
                     sample_inputs=_samples((_PROB,), "count", False), covers=(D.Binomial,)),
        FunctionInfo(fn=_categorical_fn, name="distributions.Categorical.log_prob", reference=_categorical_ref,
                     sample_inputs=_categorical_samples, covers=(D.Categorical,), tags=dbl),
        FunctionInfo(tags=dbl, fn=_dirichlet_fn, name="distributions.Dirichlet.log_prob", reference=_dirichlet_ref,
                     sample_inputs=_simplex_samples, covers=(D.Dirichlet,)),
        FunctionInfo(tags=dbl, fn=_mvn_fn, name="distributions.MultivariateNormal.log_prob", reference=_mvn_ref,
                     sample_inputs=_mvn_samples, covers=(D.MultivariateNormal,)),
        FunctionInfo(tags=dbl, fn=_method("Normal", "cdf"), name="distributions.Normal.cdf",
                     reference=lambda m, s, x: __import__("scipy.stats").stats.norm.cdf(x, m, s),
                     sample_inputs=_samples((_REAL, _POS), _REAL)),
        FunctionInfo(tags=dbl, fn=_method("Normal", "icdf"), name="distributions.Normal.icdf",
                     reference=lambda m, s, q: __import__("scipy.stats").stats.norm.ppf(q, m, s),
                     sample_inputs=_samples((_REAL, _POS), _PROB)),
        FunctionInfo(tags=dbl, fn=_method("Exponential", "cdf"), name="distributions.Exponential.cdf",
                     reference=lambda r, x: -np.expm1(-r * x), sample_inputs=_samples((_POS,), _POS)),
        FunctionInfo(tags=dbl, fn=_entropy("Normal"), name="distributions.Normal.entropy",
                     reference=lambda m, s: 0.5 + 0.5 * math.log(2 * math.pi) + np.log(s),
                     sample_inputs=_param_samples((_REAL, _POS))),
        FunctionInfo(tags=dbl, fn=_entropy("Gamma"), name="distributions.Gamma.entropy",
                     reference=lambda c, r: __import__("scipy.stats").stats.gamma.entropy(c, scale=1 / r),
                     sample_inputs=_param_samples((_POS, _POS))),
        FunctionInfo(tags=dbl, fn=_entropy("Beta"), name="distributions.Beta.entropy",
                     reference=lambda a, b: __import__("scipy.stats").stats.beta.entropy(a, b),
                     sample_inputs=_param_samples((_POS, _POS))),
        FunctionInfo(tags=dbl, fn=_kl("Normal", "Normal"), name="distributions.kl_divergence[Normal,Normal]",
                     reference=_kl_normal_ref, sample_inputs=_param_samples((_REAL, _POS, _REAL, _POS)),
                     covers=(D.kl_divergence,)),
        FunctionInfo(tags=dbl, fn=_kl("Gamma", "Gamma"), name="distributions.kl_divergence[Gamma,Gamma]",
                     reference=_kl_gamma_ref, sample_inputs=_param_samples((_POS, _POS, _POS, _POS))),
    ]
    return recs
