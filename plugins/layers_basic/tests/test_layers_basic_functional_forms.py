"""F's in-place activations (elu_, celu_, selu_, hardtanh_, leaky_relu_, rrelu_, threshold_), gumbel_softmax,
the deprecated upsample_nearest/upsample_bilinear, F.conv_tbc, and feature_alpha_dropout / FeatureAlphaDropout,
against PyTorch."""

from __future__ import annotations

import warnings

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck

INPLACE = [("elu_", ()), ("elu_", (0.5,)), ("celu_", (2.0,)), ("selu_", ()), ("hardtanh_", (-0.5, 0.7)),
           ("leaky_relu_", (0.2,)), ("rrelu_", ()), ("threshold_", (0.1, -3.0))]


@pytest.mark.parametrize("name, args", INPLACE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inplace_matches_torch(name, args, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    lx, tx = lamina.tensor(x.copy()), torch.tensor(x.copy())
    ly, ty = getattr(F, name)(lx, *args), getattr(torch.nn.functional, name)(tx, *args)
    assert ly is lx
    assert ly.dtype == getattr(lamina, str(ty.dtype).split(".")[-1])
    np.testing.assert_allclose(lx.numpy(), tx.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, args", INPLACE)
def test_inplace_gradient_matches_torch(name, args):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 5))
    la, ta = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ly, ty = getattr(F, name)(la * 2.0, *args), getattr(torch.nn.functional, name)(ta * 2.0, *args)
    ly.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.elu_(torch.zeros(2, requires_grad=True))
    with pytest.raises(RuntimeError):
        F.elu_(lamina.zeros(2, requires_grad=True))


def test_gumbel_softmax_soft_is_a_distribution_and_seeded():
    x = lamina.tensor(np.random.default_rng(2).standard_normal((4, 6)))
    lamina.manual_seed(3)
    a = F.gumbel_softmax(x, tau=0.5)
    lamina.manual_seed(3)
    b = F.gumbel_softmax(x, tau=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(a.sum(-1).numpy(), np.ones(4), rtol=1e-12)
    assert (a.numpy() > 0).all()
    c = F.gumbel_softmax(x, dim=0)
    np.testing.assert_allclose(c.sum(0).numpy(), np.ones(6), rtol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_straight_through_gradient():
    x = lamina.tensor(np.random.default_rng(4).standard_normal((3, 5)), requires_grad=True)
    lamina.manual_seed(5)
    y = F.gumbel_softmax(x, tau=0.7, hard=True)
    assert set(np.unique(y.detach().numpy()).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(y.detach().numpy().sum(-1), np.ones(3))
    w = lamina.tensor(np.random.default_rng(6).standard_normal((3, 5)))
    (y * w).sum().backward()
    # the gradient is the soft sample's: replay the same noise
    lamina.manual_seed(5)
    x2 = lamina.tensor(x.detach().numpy(), requires_grad=True)
    soft = F.gumbel_softmax(x2, tau=0.7)
    (soft * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12)
    assert np.argmax(y.detach().numpy(), -1).tolist() == np.argmax(soft.detach().numpy(), -1).tolist()


def test_gumbel_softmax_matches_torch_given_the_same_noise(monkeypatch):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).standard_normal((2, 4))
    e = np.random.default_rng(8).exponential(size=(2, 4))
    for hard in (False, True):
        monkeypatch.setattr(lamina.Tensor, "exponential_", lambda self, *a, **k: self.copy_(lamina.tensor(e)))
        ly = F.gumbel_softmax(lamina.tensor(x), tau=0.3, hard=hard)
        with monkeypatch.context() as m:
            m.setattr(torch.Tensor, "exponential_", lambda self, *a, **k: self.copy_(torch.tensor(e)))
            ty = torch.nn.functional.gumbel_softmax(torch.tensor(x), tau=0.3, hard=hard)
        np.testing.assert_allclose(ly.numpy(), ty.numpy(), rtol=1e-12, atol=1e-15)


def test_gumbel_softmax_eps_warns_as_torch():
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        F.gumbel_softmax(lamina.zeros(2, 3), eps=1e-5)


@pytest.mark.parametrize("name, kw", [("upsample_nearest", {"scale_factor": 2}), ("upsample_nearest", {"size": 5}),
                                      ("upsample_bilinear", {"scale_factor": 2}),
                                      ("upsample_bilinear", {"size": (3, 7)})])
def test_upsample_aliases_warn_and_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(9).standard_normal((1, 2, 3, 4))
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        ty = getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                                         "instead.") as lw:
        ly = getattr(F, name)(lamina.tensor(x), **kw)
    assert str(lw[0].message) == str(tw[0].message)
    np.testing.assert_allclose(ly.numpy(), ty.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_tbc_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((7, 2, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    ty = torch.nn.functional.conv_tbc(torch.tensor(x), torch.tensor(w), torch.tensor(b), 1)
    np.testing.assert_allclose(F.conv_tbc(lamina.tensor(x), lamina.tensor(w), lamina.tensor(b), 1).numpy(),
                               ty.numpy(), rtol=1e-12, atol=1e-12)


def test_feature_alpha_dropout_drops_whole_channels():
    x = lamina.tensor(np.random.default_rng(11).standard_normal((4, 6, 5, 3)))
    assert F.feature_alpha_dropout(x, 0.5) is x  # training=False by default, as torch
    lamina.manual_seed(0)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy()
    xs = x.numpy()
    a = 1.0 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    dropped_value = a * -1.7580993408473766 + 1.7580993408473766 * a * 0.5
    kept = np.isclose(y, xs * a + 1.7580993408473766 * a * 0.5).all(axis=(2, 3))
    dropped = np.isclose(y, dropped_value).all(axis=(2, 3))
    assert (kept | dropped).all() and kept.any() and dropped.any()


def test_feature_alpha_dropout_module_matches_torch_statistics_and_repr():
    torch = pytest.importorskip("torch")
    lmod, tmod = nn.FeatureAlphaDropout(0.3), torch.nn.FeatureAlphaDropout(0.3)
    assert repr(lmod) == repr(tmod) == "FeatureAlphaDropout(p=0.3, inplace=False)"
    x = np.random.default_rng(12).standard_normal((400, 50, 2))
    y = lmod(lamina.tensor(x)).numpy()
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05
    lmod.eval()
    assert lmod(lamina.tensor(x)).numpy() is not None
    np.testing.assert_array_equal(lmod(lamina.tensor(x)).numpy(), x)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.FeatureAlphaDropout(1.5)
    with pytest.raises(ValueError):
        torch.nn.functional.feature_alpha_dropout(torch.zeros(2, 2), 1.5)
    with pytest.raises(ValueError, match="dropout probability"):
        F.feature_alpha_dropout(lamina.zeros(2, 2), 1.5)


def test_feature_alpha_dropout_gradient_is_the_mask():
    x = lamina.tensor(np.random.default_rng(13).standard_normal((2, 3, 4)), requires_grad=True)
    lamina.manual_seed(1)
    assert gradcheck(lambda v: (lamina.manual_seed(1), F.feature_alpha_dropout(v, 0.4, True))[1], (x,))
