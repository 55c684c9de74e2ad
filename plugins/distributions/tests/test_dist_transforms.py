"""Every transform against torch.distributions.transforms: forward, inverse, log_abs_det_jacobian,
domain/codomain, sign, bijective/event_dim, forward_shape/inverse_shape, repr, equality, and the inverse
transform's (``.inv``) values; float64 and float32."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import assert_close, host, same_repr

LT = lamina.distributions.transforms
TT = torch.distributions.transforms
LD = lamina.distributions
TD = torch.distributions


def _spd(rng, n=3, batch=(2,)):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _cases():
    rng = np.random.default_rng(11)
    r = rng.standard_normal
    return {  # name: (factory(module, tensor), input in the domain)
        "identity": (lambda M, t: M.identity_transform, r((2, 3))),
        "exp": (lambda M, t: M.ExpTransform(), r((2, 3))),
        "exp_inv": (lambda M, t: M.ExpTransform().inv, rng.uniform(0.2, 3, (2, 3))),
        "power": (lambda M, t: M.PowerTransform(t(np.array([0.5, 2.0, 3.0]))), rng.uniform(0.2, 3, (2, 3))),
        "sigmoid": (lambda M, t: M.SigmoidTransform(), r((2, 3))),
        "tanh": (lambda M, t: M.TanhTransform(), r((2, 3))),
        "softplus": (lambda M, t: M.SoftplusTransform(), r((2, 3))),
        "abs": (lambda M, t: M.AbsTransform(), r((2, 3))),
        "affine": (lambda M, t: M.AffineTransform(t(np.array([1.0, -2.0, 0.5])), t(np.array([2.0, -0.5, 3.0]))),
                   r((2, 3))),
        "affine_scalar": (lambda M, t: M.AffineTransform(1.5, -2.0), r((2, 3))),
        "affine_event1": (lambda M, t: M.AffineTransform(0.0, t(np.array([2.0, 3.0, 0.5])), event_dim=1),
                          r((2, 3))),
        "softmax": (lambda M, t: M.SoftmaxTransform(), r((2, 4))),
        "stick_breaking": (lambda M, t: M.StickBreakingTransform(), r((2, 3))),
        "lower_cholesky": (lambda M, t: M.LowerCholeskyTransform(), r((2, 3, 3))),
        "positive_definite": (lambda M, t: M.PositiveDefiniteTransform(), np.tril(r((2, 3, 3)))),
        "corr_cholesky": (lambda M, t: M.CorrCholeskyTransform(), r((2, 3))),
        "compose": (lambda M, t: M.ComposeTransform([M.AffineTransform(1.0, 2.0), M.ExpTransform()]), r((2, 3))),
        "compose_event": (lambda M, t: M.ComposeTransform([M.ExpTransform(), M.StickBreakingTransform()]),
                          r((2, 3))),
        "compose_empty": (lambda M, t: M.ComposeTransform([]), r((2, 3))),
        "independent": (lambda M, t: M.IndependentTransform(M.ExpTransform(), 1), r((2, 3))),
        "reshape": (lambda M, t: M.ReshapeTransform((6,), (2, 3)), r((4, 6))),
        "cat": (lambda M, t: M.CatTransform([M.ExpTransform(), M.AffineTransform(1.0, 2.0)], dim=1,
                                            lengths=[2, 1]), r((2, 3))),
        "stack": (lambda M, t: M.StackTransform([M.ExpTransform(), M.SigmoidTransform()], dim=1), r((4, 2))),
        "cdf": (lambda M, t: M.CumulativeDistributionTransform(
            (TD if M is TT else LD).Normal(t(np.zeros(3)), t(np.ones(3)))), r((2, 3))),
    }


CASES = _cases()


def _pair(name, dtype):
    make, x = CASES[name]

    def t_tensor(a):
        return torch.tensor(a.astype(dtype))

    def l_tensor(a):
        return lamina.tensor(a.astype(dtype))

    return make(TT, t_tensor), make(LT, l_tensor), x.astype(dtype)


def _try(fn):
    try:
        return fn(), None
    except Exception as err:
        return None, err


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_values(name, dtype):
    tt, lt, x = _pair(name, dtype)
    ty, ly = tt(torch.tensor(x)), lt(lamina.tensor(x))
    assert_close(ly, ty, dtype)
    tinv, linv = tt.inv(ty), lt.inv(ly)
    assert_close(linv, tinv, dtype)
    tj, terr = _try(lambda: tt.log_abs_det_jacobian(torch.tensor(x), ty))
    if terr is None:
        assert_close(lt.log_abs_det_jacobian(lamina.tensor(x), ly), tj, dtype)
    else:
        with pytest.raises(type(terr)):
            lt.log_abs_det_jacobian(lamina.tensor(x), ly)


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_attributes(name):
    tt, lt, x = _pair(name, "float64")
    assert same_repr(repr(tt), repr(lt)), (repr(tt), repr(lt))
    assert same_repr(repr(tt.inv), repr(lt.inv)), (repr(tt.inv), repr(lt.inv))
    assert same_repr(repr(tt.domain), repr(lt.domain)), (repr(tt.domain), repr(lt.domain))
    assert same_repr(repr(tt.codomain), repr(lt.codomain)), (repr(tt.codomain), repr(lt.codomain))
    assert lt.bijective == tt.bijective
    te, terr = _try(lambda: tt.event_dim)
    if terr is None:
        assert lt.event_dim == te
    else:
        with pytest.raises(type(terr)):
            lt.event_dim  # noqa: B018
    assert lt.inv.inv is lt or lt.inv.inv == lt
    ts, terr = _try(lambda: tt.sign)
    if terr is None:
        ls = lt.sign
        assert (host(ls) == ts.numpy()).all() if isinstance(ts, torch.Tensor) else ls == ts
    else:
        with pytest.raises(type(terr)):
            lt.sign  # noqa: B018
    shape = tuple(x.shape)
    assert tuple(lt.forward_shape(shape)) == tuple(tt.forward_shape(shape))
    out = tuple(tt.forward_shape(shape))
    assert tuple(lt.inverse_shape(out)) == tuple(tt.inverse_shape(out))
    assert bool(lt.domain.check(lamina.tensor(x)).all())


def test_transform_equality_and_cache():
    assert LT.ExpTransform() == LT.ExpTransform()
    assert LT.ExpTransform() != LT.SigmoidTransform()
    assert LT.AffineTransform(1.0, 2.0) == LT.AffineTransform(1.0, 2.0)
    assert LT.AffineTransform(1.0, 2.0) != LT.AffineTransform(1.0, 3.0)
    t = LT.ExpTransform(cache_size=1)
    x = lamina.tensor([0.5])
    y = t(x)
    assert t.inv(y) is x  # cached pair
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        LT.ExpTransform(cache_size=2)
    assert LT.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(NotImplementedError):
        LT.Transform()(lamina.tensor([1.0]))


def test_transform_gradients_match_torch():
    for name in ["exp", "sigmoid", "tanh", "softplus", "stick_breaking", "corr_cholesky", "affine"]:
        tt, lt, xx = _pair(name, "float64")
        tx, lx = torch.tensor(xx, requires_grad=True), lamina.tensor(xx, requires_grad=True)
        ty, ly = tt(tx), lt(lx)
        (ty.sum() + tt.log_abs_det_jacobian(tx, ty).sum()).backward()
        (ly.sum() + lt.log_abs_det_jacobian(lx, ly).sum()).backward()
        np.testing.assert_allclose(host(lx.grad), tx.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_reshape_transform_bad_shape():
    with pytest.raises(ValueError):
        TT.ReshapeTransform((6,), (4,))
    with pytest.raises(ValueError):
        LT.ReshapeTransform((6,), (4,))
