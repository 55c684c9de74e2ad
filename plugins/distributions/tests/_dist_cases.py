"""Shared parameter table for lamina-distributions' parity tests: each distribution with batched parameters
(batch shape (3,)) inside its domain and values inside its support, built from one seeded NumPy generator so
that torch (the oracle) and lamina see the same arrays."""

from __future__ import annotations

import lamina
import numpy as np

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-10)}


def _cases(rng: np.random.Generator) -> dict:
    def pos(*s):
        return rng.uniform(0.5, 2.0, size=s)

    def real(*s):
        return rng.standard_normal(s)

    def prob(*s):
        return rng.uniform(0.1, 0.9, size=s)

    def simplex(*s, k=4):
        return rng.dirichlet(np.ones(k), size=s)

    def ints(hi, *s):
        return rng.integers(0, hi, s).astype(np.float64)

    tril = np.array([[1.0, 0.0], [0.3, 0.8]])
    return {
        "Normal": (dict(loc=real(3), scale=pos(3)), real(2, 3)),
        "Cauchy": (dict(loc=real(3), scale=pos(3)), real(2, 3)),
        "Laplace": (dict(loc=real(3), scale=pos(3)), real(2, 3)),
        "StudentT": (dict(df=pos(3) + 2, loc=real(3), scale=pos(3)), real(2, 3)),
        "Uniform": (dict(low=np.zeros(3), high=np.full(3, 2.0)), rng.uniform(0.1, 1.9, (2, 3))),
        "Beta": (dict(concentration1=pos(3), concentration0=pos(3)), prob(2, 3)),
        "Chi2": (dict(df=pos(3)), pos(2, 3)),
        "Exponential": (dict(rate=pos(3)), pos(2, 3)),
        "Gamma": (dict(concentration=pos(3), rate=pos(3)), pos(2, 3)),
        "ContinuousBernoulli": (dict(probs=prob(3)), prob(2, 3)),
        "FisherSnedecor": (dict(df1=pos(3) + 4, df2=pos(3) + 4), pos(2, 3)),
        "GeneralizedPareto": (dict(loc=np.zeros(3), scale=pos(3), concentration=prob(3)), pos(2, 3)),
        "Kumaraswamy": (dict(concentration1=pos(3), concentration0=pos(3)), prob(2, 3)),
        "VonMises": (dict(loc=real(3), concentration=pos(3)), real(2, 3)),
        "Bernoulli": (dict(probs=prob(3)), ints(2, 2, 3)),
        "Binomial": (dict(total_count=np.full(3, 5.0), probs=prob(3)), ints(6, 2, 3)),
        "Categorical": (dict(probs=simplex(3)), rng.integers(0, 4, (2, 3))),
        "Geometric": (dict(probs=prob(3)), ints(5, 2, 3)),
        "NegativeBinomial": (dict(total_count=pos(3) * 3, probs=prob(3)), ints(5, 2, 3)),
        "Poisson": (dict(rate=pos(3)), ints(5, 2, 3)),
        "Multinomial": (dict(total_count=5, probs=simplex(3)),
                        rng.multinomial(5, [0.25] * 4, size=(2, 3)).astype(np.float64)),
        "OneHotCategorical": (dict(probs=simplex(3)), np.eye(4)[rng.integers(0, 4, (2, 3))]),
        "OneHotCategoricalStraightThrough": (dict(probs=simplex(3)), np.eye(4)[rng.integers(0, 4, (2, 3))]),
        "Dirichlet": (dict(concentration=pos(3, 4)), simplex(2, 3)),
        "MultivariateNormal": (dict(loc=real(3, 2), scale_tril=tril), real(2, 3, 2)),
        "LowRankMultivariateNormal": (dict(loc=real(3, 2), cov_factor=real(3, 2, 1), cov_diag=pos(3, 2)),
                                      real(2, 3, 2)),
        "Gumbel": (dict(loc=real(3), scale=pos(3)), real(2, 3)),
        "HalfCauchy": (dict(scale=pos(3)), pos(2, 3)),
        "HalfNormal": (dict(scale=pos(3)), pos(2, 3)),
        "InverseGamma": (dict(concentration=pos(3) + 2, rate=pos(3)), pos(2, 3)),
        "LogNormal": (dict(loc=real(3), scale=pos(3)), pos(2, 3)),
        "Pareto": (dict(scale=pos(3) * 0.3, alpha=pos(3) + 2), pos(2, 3) + 1),
        "Weibull": (dict(scale=pos(3), concentration=pos(3)), pos(2, 3)),
        "LogisticNormal": (dict(loc=real(3, 2), scale=pos(3, 2)), simplex(2, 3, k=3)),
        "RelaxedBernoulli": (dict(temperature=np.array(0.7), probs=prob(3)), prob(2, 3)),
        "RelaxedOneHotCategorical": (dict(temperature=np.array(0.7), probs=simplex(3)), simplex(2, 3)),
        "Wishart": (dict(df=np.array([4.0, 5.0, 6.0]), covariance_matrix=np.array([[1.0, 0.2], [0.2, 1.5]])), None),
        "LKJCholesky": (dict(dim=3, concentration=pos(2)), None),
    }


NAMES = sorted(_cases(np.random.default_rng(0)))


def case(name: str, dtype: str = "float64", seed: int = 0):
    """(kwargs as NumPy arrays in ``dtype``, a value array or None) for distribution ``name``."""
    kw, x = _cases(np.random.default_rng(seed))[name]
    kw = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    if x is not None and x.dtype.kind == "f":
        x = x.astype(dtype)
    return kw, x


def build(module, name: str, kw: dict, requires_grad: bool = False, **extra):
    """The distribution ``name`` of ``module`` (torch.distributions or lamina.distributions) on the arrays."""
    return build_leaves(module, name, kw, requires_grad, **extra)[0]


def build_leaves(module, name: str, kw: dict, requires_grad: bool = False, **extra):
    """(the distribution, {parameter name: the leaf tensor made for it, where it requires grad})."""
    tensor = module.__name__.startswith("torch") and __import__("torch").tensor or lamina.tensor
    args, leaves = {}, {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            grad = requires_grad and v.ndim > 0 and k != "total_count"
            args[k] = tensor(v, requires_grad=grad)
            if grad:
                leaves[k] = args[k]
        else:
            args[k] = v
    return getattr(module, name)(**args, **extra), leaves


def host(t) -> np.ndarray:
    return np.array(t.detach().numpy())


def dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def same_repr(torch_text: str, lamina_text: str) -> bool:
    return torch_text.replace("torch.", "lamina.") == lamina_text


def assert_close(lv, tv, dtype: str = "float64") -> None:
    assert tuple(lv.shape) == tuple(tv.shape), (tuple(lv.shape), tuple(tv.shape))
    assert dtype_name(lv) == dtype_name(tv), (lv.dtype, tv.dtype)
    np.testing.assert_allclose(host(lv), host(tv), equal_nan=True, **TOL[dtype])
