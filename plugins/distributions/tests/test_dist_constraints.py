"""Every constraint against torch.distributions.constraints: check() on values inside and outside, repr,
is_discrete/event_dim; and the constraint registry: biject_to/transform_to give the same transforms (repr
and values) as torch's, register a user constraint, and raise NotImplementedError for an unregistered one."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import NAMES, build, case, host, same_repr

LC = lamina.distributions.constraints
TC = torch.distributions.constraints
LD = lamina.distributions
TD = torch.distributions


def _constraints(C, t):
    return {
        "boolean": C.boolean, "real": C.real, "real_vector": C.real_vector, "positive": C.positive,
        "nonnegative": C.nonnegative, "unit_interval": C.unit_interval, "simplex": C.simplex,
        "nonnegative_integer": C.nonnegative_integer, "positive_integer": C.positive_integer,
        "integer_interval": C.integer_interval(0, 3), "interval": C.interval(-1.0, 2.0),
        "interval_tensor": C.interval(t(np.array([0.0, -1.0, 1.0])), t(np.array([1.0, 1.0, 3.0]))),
        "half_open_interval": C.half_open_interval(0.0, 1.0), "greater_than": C.greater_than(0.5),
        "greater_than_eq": C.greater_than_eq(0.5), "less_than": C.less_than(1.0),
        "lower_cholesky": C.lower_cholesky, "lower_triangular": C.lower_triangular,
        "positive_definite": C.positive_definite, "positive_semidefinite": C.positive_semidefinite,
        "corr_cholesky": C.corr_cholesky, "square": C.square, "symmetric": C.symmetric,
        "one_hot": C.one_hot, "multinomial": C.multinomial(3), "independent": C.independent(C.positive, 1),
        "cat": C.cat([C.positive, C.real], dim=-1, lengths=[1, 2]),
        "stack": C.stack([C.positive, C.real, C.unit_interval], dim=-1),
        "dependent": C.dependent, "dependent_property": C.dependent_property,
    }


VALUES = {  # values, some inside and some outside
    "vector": np.array([[0.0, 0.5, 1.0], [-1.0, 2.0, np.nan], [np.inf, 3.0, 0.2], [1.0, 0.0, 0.0]]),
    "matrix": np.array([[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.3], [0.3, 1.0]], [[1.0, 0.0], [0.0, -1.0]],
                        [[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.6, 0.8]]]),
}


# the values each constraint is checked on (shape-specific constraints get the shapes they accept)
VECTOR_ONLY = {"cat", "stack", "interval_tensor", "multinomial", "one_hot", "simplex", "real_vector"}
MATRIX_ONLY = {"lower_cholesky", "lower_triangular", "positive_definite", "positive_semidefinite",
               "corr_cholesky", "square", "symmetric"}


def _attr(c, name):
    try:
        return getattr(c, name), None
    except Exception as err:
        return None, type(err)


@pytest.mark.parametrize("name", sorted(_constraints(TC, torch.tensor)))
def test_constraint_check_and_repr(name):
    tc, lc = _constraints(TC, torch.tensor)[name], _constraints(LC, lamina.tensor)[name]
    if isinstance(tc, type):  # dependent_property is the class itself
        assert lc.__name__ == tc.__name__
        return
    assert same_repr(repr(tc), repr(lc)), (repr(tc), repr(lc))
    assert _attr(lc, "is_discrete") == _attr(tc, "is_discrete")
    assert _attr(lc, "event_dim") == _attr(tc, "event_dim")
    keys = ["vector"] if name in VECTOR_ONLY else ["matrix"] if name in MATRIX_ONLY else ["vector", "matrix"]
    for arr in (VALUES[k] for k in keys):
        try:
            want = tc.check(torch.tensor(arr))
        except Exception as err:
            with pytest.raises(type(err)):
                lc.check(lamina.tensor(arr))
            continue
        got = lc.check(lamina.tensor(arr))
        assert tuple(got.shape) == tuple(want.shape), (name, tuple(got.shape), tuple(want.shape))
        np.testing.assert_array_equal(host(got), want.numpy(), err_msg=name)


def test_is_dependent():
    assert LC.is_dependent(LC.dependent) and not LC.is_dependent(LC.real)
    d = LC.dependent_property(lambda self: 1, is_discrete=True, event_dim=0)
    assert LC.is_dependent(d)
    assert repr(LC.dependent(is_discrete=True, event_dim=1)) == repr(TC.dependent(is_discrete=True, event_dim=1))


def test_independent_and_subclassing():
    c = LC.independent(LC.real, 2)
    t = TC.independent(TC.real, 2)
    x = np.array([[[0.0, np.nan], [1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]]])
    np.testing.assert_array_equal(host(c.check(lamina.tensor(x))), t.check(torch.tensor(x)).numpy())

    class Even(LC.Constraint):
        is_discrete = True

        def check(self, value):
            return value % 2 == 0

    assert repr(Even()) == "ven()"  # torch drops the first letter of the class name (its "_" prefix)
    np.testing.assert_array_equal(host(Even().check(lamina.tensor([1, 2, 4]))), [False, True, True])


REGISTRY = ["real", "positive", "nonnegative", "unit_interval", "simplex", "interval", "interval_tensor",
            "half_open_interval", "greater_than", "greater_than_eq", "less_than", "lower_cholesky",
            "positive_definite", "positive_semidefinite", "corr_cholesky", "independent", "cat", "stack",
            "real_vector"]


@pytest.mark.parametrize("which", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", REGISTRY)
def test_registry_matches_torch(name, which):
    tc, lc = _constraints(TC, torch.tensor)[name], _constraints(LC, lamina.tensor)[name]
    tf, lf = getattr(TD, which), getattr(LD, which)
    try:
        tt = tf(tc)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            lf(lc)
        return
    lt = lf(lc)
    assert same_repr(repr(tt), repr(lt)), (repr(tt), repr(lt))
    rng = np.random.default_rng(3)
    shape = {"lower_cholesky": (2, 3, 3), "positive_definite": (2, 3, 3), "positive_semidefinite": (2, 3, 3),
             "corr_cholesky": (2, 3)}.get(name, (2, 3))
    x = rng.standard_normal(shape)
    ty, ly = tt(torch.tensor(x)), lt(lamina.tensor(x))
    np.testing.assert_allclose(host(ly), ty.numpy(), rtol=1e-9, atol=1e-10)
    assert bool(lc.check(ly).all())


def test_registry_user_constraint_and_missing():
    class Positive2(LC.Constraint):
        def check(self, value):
            return value > 2

    with pytest.raises(NotImplementedError):
        LD.biject_to(Positive2())

    @LD.biject_to.register(Positive2)
    def _to_positive2(constraint):
        return LD.transforms.ComposeTransform([LD.transforms.ExpTransform(), LD.transforms.AffineTransform(2.0, 1.0)])

    t = LD.biject_to(Positive2())
    y = t(lamina.tensor([-3.0, 0.0, 4.0]))
    assert bool((y > 2).all())
    with pytest.raises(NotImplementedError):
        LD.transform_to(Positive2())


SUPPORTS = NAMES


@pytest.mark.parametrize("which", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", SUPPORTS)
def test_registry_on_each_distribution_support(name, which):
    """biject_to/transform_to of each distribution's support: the same transform (repr), values and
    log_abs_det_jacobian as torch's on the same unconstrained input."""
    kw, _ = case(name)
    td, ld = build(TD, name, kw), build(LD, name, kw)
    try:
        tt = getattr(TD, which)(td.support)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(LD, which)(ld.support)
        return
    lt = getattr(LD, which)(ld.support)
    assert same_repr(repr(tt), repr(lt)), (repr(tt), repr(lt))
    shape = tuple(tt.inverse_shape(tuple(td.batch_shape) + tuple(td.event_shape)))
    u = np.random.default_rng(0).standard_normal(shape)
    ty, ly = tt(torch.tensor(u)), lt(lamina.tensor(u))
    np.testing.assert_allclose(host(ly), ty.numpy(), rtol=1e-9, atol=1e-12)
    try:
        tj = tt.log_abs_det_jacobian(torch.tensor(u), ty)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            lt.log_abs_det_jacobian(lamina.tensor(u), ly)
        return
    lj = lt.log_abs_det_jacobian(lamina.tensor(u), ly)
    assert tuple(lj.shape) == tuple(tj.shape)
    np.testing.assert_allclose(host(lj), tj.numpy(), rtol=1e-9, atol=1e-12)
