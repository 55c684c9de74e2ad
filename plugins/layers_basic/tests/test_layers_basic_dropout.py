"""Dropout family: statistics, scaling, eval identity, channel-wise masks, seeding, inplace, errors."""

from __future__ import annotations

import warnings

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest

ELEMENTWISE = [(nn.Dropout, (200, 300)), (nn.AlphaDropout, (200, 300))]
CHANNELWISE = [(nn.Dropout1d, (64, 50, 7), (2,)), (nn.Dropout1d, (400, 7), (1,)),
               (nn.Dropout2d, (16, 50, 3, 4), (2, 3)), (nn.Dropout3d, (8, 50, 2, 3, 2), (2, 3, 4)),
               (nn.Dropout3d, (400, 2, 3, 2), (1, 2, 3))]


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_dropout_fraction_and_scaling(p, dtype):
    lamina.manual_seed(0)
    x = lamina.ones(300, 400, dtype=dtype)
    y = F.dropout(x, p).numpy()
    assert y.dtype == x.numpy().dtype
    zero = y == 0
    assert abs(zero.mean() - p) < 4 * np.sqrt(p * (1 - p) / y.size)
    np.testing.assert_allclose(y[~zero], 1 / (1 - p), rtol=1e-6)


@pytest.mark.parametrize("cls,shape,spatial", CHANNELWISE, ids=lambda v: getattr(v, "__name__", str(v)))
def test_channelwise_masks(cls, shape, spatial):
    lamina.manual_seed(1)
    m = cls(0.4)
    y = m(lamina.ones(*shape)).numpy()
    dropped = (y == 0).all(axis=spatial)
    kept = (y != 0).all(axis=spatial)
    assert (dropped | kept).all()  # whole channels only
    assert abs(dropped.mean() - 0.4) < 0.06
    np.testing.assert_allclose(y[y != 0], 1 / 0.6, rtol=1e-6)
    m.eval()
    x = lamina.randn(*shape)
    assert m(x) is x


def test_dropout2d_3d_input_warns_and_drops_per_channel_of_dim1():
    lamina.manual_seed(2)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        y = nn.Dropout2d(0.5)(lamina.ones(20, 30, 6)).numpy()
    assert (((y == 0).all(axis=2)) | ((y != 0).all(axis=2))).all()
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input"):
        nn.Dropout3d(0.5)(lamina.ones(20, 30, 6))


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout])
def test_eval_identity_p0_identity_and_repr(cls):
    torch = pytest.importorskip("torch")
    shapes = {nn.Dropout3d: (4, 3, 2, 2, 2), nn.Dropout2d: (4, 3, 2, 2)}
    x = lamina.randn(*shapes.get(cls, (4, 3, 5)))
    m = cls(0.3)
    assert repr(m) == repr(getattr(torch.nn, cls.__name__)(0.3))
    assert repr(cls(0.2, inplace=True)) == repr(getattr(torch.nn, cls.__name__)(0.2, inplace=True))
    assert m.eval()(x) is x
    assert cls(0.0)(x) is x
    assert m.state_dict() == {} or list(m.state_dict()) == []


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout2d, nn.AlphaDropout])
def test_seeded_reproducibility(cls):
    x = lamina.randn(8, 6, 3, 3)
    lamina.manual_seed(7)
    a = cls(0.5)(x).numpy()
    lamina.manual_seed(7)
    b = cls(0.5)(x).numpy()
    c = cls(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, F.alpha_dropout])
def test_gradient_is_the_mask(fn):
    x = lamina.randn(6, 5, 4, 4, requires_grad=True)
    lamina.manual_seed(3)
    fn(x, 0.5, training=True).sum().backward()
    g = x.grad.numpy()
    if fn is F.alpha_dropout:  # kept units are scaled by a, dropped ones get no gradient
        a = 1 / np.sqrt((1.7580993408473766**2 * 0.5 + 1) * 0.5)
        np.testing.assert_allclose(np.unique(g), [0.0, a], rtol=1e-6)
        return
    lamina.manual_seed(3)
    np.testing.assert_allclose(g, fn(lamina.ones(6, 5, 4, 4), 0.5, training=True).numpy(), rtol=1e-6)


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    lamina.manual_seed(4)
    y = F.alpha_dropout(lamina.randn(1000, 1000, dtype=lamina.float64), 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    assert F.alpha_dropout(lamina.ones(3), 0.3) .numpy().tolist() == [1.0, 1.0, 1.0]  # training=False default


def test_p_one_gives_zeros_and_zero_grad():
    x = lamina.randn(5, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert (y.detach().numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all() and np.isfinite(x.grad.numpy()).all()
    assert (F.alpha_dropout(x.detach(), 1.0, training=True).numpy() == 0).all()


def test_inplace_dropout():
    lamina.manual_seed(5)
    x = lamina.ones(50, 50)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    leaf = lamina.randn(4, 4, requires_grad=True)
    h = leaf * 1
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), (h.detach().numpy() != 0) * 2.0)


ERRORS = [
    (lambda: nn.Dropout(1.5), ValueError, r"dropout probability has to be between 0 and 1, but got 1\.5"),
    (lambda: nn.Dropout2d(-0.1), ValueError, r"dropout probability has to be between 0 and 1, but got -0\.1"),
    (lambda: F.dropout(lamina.randn(3), 1.5), ValueError, r"dropout probability has to be between 0 and 1"),
    (lambda: F.alpha_dropout(lamina.randn(3), 2.0, True), ValueError, r"dropout probability has to be between 0"),
    (lambda: nn.Dropout1d()(lamina.randn(2, 3, 4, 5)), lamina.ShapeError, r"dropout1d: expected 2D .* got 4D"),
    (lambda: F.dropout(lamina.tensor([1, 2]), 0.5), lamina.DTypeError, r"dropout: expected a floating point input"),
]


@pytest.mark.parametrize("call,error,match", ERRORS, ids=[e[2][:25] for e in ERRORS])
def test_errors(call, error, match):
    with warnings.catch_warnings():
        with pytest.raises(error, match=match):
            call()


def test_train_eval_toggle_on_module_tree():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9)) if hasattr(nn, "Linear") else nn.Sequential(nn.Dropout(0.9))
    x = lamina.ones(64, 4)
    model.eval()
    a, b = model(x).detach().numpy(), model(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    model.train()
    lamina.manual_seed(0)
    assert (model(x).detach().numpy() == 0).mean() > 0.5
