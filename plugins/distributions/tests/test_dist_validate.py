"""validate_args: a parameter outside its constraint and a value outside the support raise ValueError with
torch's message; validate_args=False skips the checks; Distribution.set_default_validate_args switches the
default (and rejects a non-bool as torch does)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import NAMES, build, case

LD = lamina.distributions
TD = torch.distributions

# a parameter per distribution and a value that breaks its constraint
BAD_PARAM = {
    "Normal": ("scale", -1.0), "Cauchy": ("scale", 0.0), "Laplace": ("scale", -2.0), "StudentT": ("df", -1.0),
    "Beta": ("concentration1", -1.0), "Chi2": ("df", 0.0), "Exponential": ("rate", -1.0),
    "Gamma": ("concentration", 0.0), "ContinuousBernoulli": ("probs", 1.5), "FisherSnedecor": ("df1", -1.0),
    "GeneralizedPareto": ("scale", -1.0), "Kumaraswamy": ("concentration0", -1.0),
    "VonMises": ("concentration", -1.0), "Bernoulli": ("probs", 1.5), "Binomial": ("probs", -0.5),
    "Geometric": ("probs", 0.0), "NegativeBinomial": ("total_count", -1.0), "Poisson": ("rate", -1.0),
    "Gumbel": ("scale", -1.0), "HalfCauchy": ("scale", -1.0), "HalfNormal": ("scale", 0.0),
    "InverseGamma": ("rate", -1.0), "LogNormal": ("scale", -1.0), "Pareto": ("alpha", -1.0),
    "Weibull": ("concentration", -1.0), "LogisticNormal": ("scale", -1.0), "RelaxedBernoulli": ("probs", 2.0),
    "Dirichlet": ("concentration", -1.0), "Categorical": ("probs", -0.5), "OneHotCategorical": ("probs", -0.5),
    "Multinomial": ("probs", -0.5), "LowRankMultivariateNormal": ("cov_diag", -1.0),
    "RelaxedOneHotCategorical": ("probs", -0.5), "OneHotCategoricalStraightThrough": ("probs", -0.5),
}


# torch checks these parameters even under validate_args=False (an inner distribution made with the default
# validation, or ContinuousBernoulli's own probs check); lamina does the same
CHILD_CHECKS = {"ContinuousBernoulli", "FisherSnedecor", "Multinomial", "OneHotCategorical", "StudentT",
                "OneHotCategoricalStraightThrough", "RelaxedBernoulli", "RelaxedOneHotCategorical"}


def _message(fn):
    try:
        fn()
    except ValueError as err:
        return str(err)
    raise AssertionError("no ValueError")


def _norm(text: str) -> str:
    return text.replace("torch.", "lamina.")


@pytest.mark.parametrize("name", sorted(BAD_PARAM))
def test_invalid_parameter_message(name):
    kw, _ = case(name)
    key, bad = BAD_PARAM[name]
    kw = dict(kw)
    arr = np.array(kw[key], dtype=np.float64, copy=True)
    arr.reshape(-1)[0] = bad
    kw[key] = arr
    want = _message(lambda: build(TD, name, kw, validate_args=True))
    got = _message(lambda: build(LD, name, kw, validate_args=True))
    assert got == _norm(want)
    if name not in CHILD_CHECKS:  # validate_args=False: no check (torch still checks through a child)
        build(LD, name, kw, validate_args=False)
    else:
        with pytest.raises(ValueError):
            build(TD, name, kw, validate_args=False)
        with pytest.raises(ValueError):
            build(LD, name, kw, validate_args=False)


# a value outside each support
BAD_VALUE = {"Normal": np.nan, "Beta": 1.5, "Exponential": -1.0, "Gamma": -1.0, "Bernoulli": 0.5,
             "Binomial": 7.0, "Poisson": 1.5, "Geometric": -1.0, "Uniform": 3.0, "Pareto": 0.0,
             "Kumaraswamy": 2.0, "HalfNormal": -1.0, "LogNormal": -1.0, "Categorical": 9,
             "ContinuousBernoulli": 2.0, "Chi2": -1.0, "Weibull": -1.0, "Dirichlet": 0.0}


@pytest.mark.parametrize("name", sorted(BAD_VALUE))
def test_invalid_value_message(name):
    kw, x = case(name)
    x = np.array(x, copy=True)
    x.reshape(-1)[0] = BAD_VALUE[name]
    td, ld = build(TD, name, kw, validate_args=True), build(LD, name, kw, validate_args=True)
    want = _message(lambda: td.log_prob(torch.tensor(x)))
    got = _message(lambda: ld.log_prob(lamina.tensor(x)))
    assert got == _norm(want)


def test_value_shape_mismatch_is_value_error():
    d = LD.Normal(lamina.zeros(3), lamina.ones(3), validate_args=True)
    t = TD.Normal(torch.zeros(3), torch.ones(3), validate_args=True)
    want = _message(lambda: t.log_prob(torch.zeros(4)))
    assert _message(lambda: d.log_prob(lamina.zeros(4))) == _norm(want)
    with pytest.raises(ValueError):
        t.log_prob(1.0)
    with pytest.raises(ValueError):
        d.log_prob(1.0)


def test_set_default_validate_args():
    old = LD.Distribution._validate_args
    try:
        LD.Distribution.set_default_validate_args(False)
        d = LD.Normal(lamina.tensor([0.0]), lamina.tensor([-1.0]))  # no check by default now
        assert not d._validate_args
        LD.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError, match="Expected parameter scale"):
            LD.Normal(lamina.tensor([0.0]), lamina.tensor([-1.0]))
        with pytest.raises(ValueError):
            LD.Distribution.set_default_validate_args("yes")
    finally:
        LD.Distribution.set_default_validate_args(old)


def test_default_validate_args_matches_torch():
    assert LD.Distribution._validate_args == TD.Distribution._validate_args


@pytest.mark.parametrize("name", NAMES)
def test_constructs_with_validation(name):
    kw, _ = case(name)
    build(LD, name, kw, validate_args=True)


def test_event_shape_messages_match_torch():
    t = TD.MultivariateNormal(torch.zeros(3, 2), scale_tril=torch.eye(2), validate_args=True)
    ll = LD.MultivariateNormal(lamina.zeros(3, 2), scale_tril=lamina.eye(2), validate_args=True)
    for shape in [(3,), (4, 2)]:
        want = _message(lambda s=shape: t.log_prob(torch.zeros(s)))
        assert _message(lambda s=shape: ll.log_prob(lamina.zeros(s))) == _norm(want)
    assert tuple(ll.log_prob(lamina.zeros(2, 1, 2)).shape) == tuple(t.log_prob(torch.zeros(2, 1, 2)).shape)


def test_user_subclass_without_arg_constraints_warns():
    class Mine(LD.Distribution):
        pass

    with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
        Mine(validate_args=True)
    for attr in ["mean", "variance", "support"]:
        with pytest.raises(NotImplementedError):
            getattr(Mine(validate_args=False), attr)
    with pytest.raises(NotImplementedError):
        Mine(validate_args=False).sample()
    with pytest.raises(NotImplementedError):
        Mine(validate_args=False).log_prob(lamina.zeros(1))
