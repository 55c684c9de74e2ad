"""Activations: PyTorch parity (values, input and parameter gradients), gradchecks, inplace, repr, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck, gradgradcheck

# (module name, init kwargs, input shape); every activation and its options
GRID = [
    ("ReLU", {}, (4, 6)), ("ReLU6", {}, (4, 6)), ("LeakyReLU", {}, (4, 6)),
    ("LeakyReLU", {"negative_slope": 0.3}, (4, 6)),
    ("PReLU", {}, (3, 5)), ("PReLU", {"num_parameters": 4, "init": 0.1}, (2, 4, 3, 2)),
    ("RReLU", {}, (4, 6)), ("RReLU", {"lower": 0.05, "upper": 0.4}, (4, 6)),
    ("ELU", {}, (4, 6)), ("ELU", {"alpha": 0.5}, (4, 6)), ("SELU", {}, (4, 6)), ("CELU", {}, (4, 6)),
    ("CELU", {"alpha": 2.0}, (4, 6)), ("GELU", {}, (4, 6)), ("GELU", {"approximate": "tanh"}, (4, 6)),
    ("SiLU", {}, (4, 6)), ("Mish", {}, (4, 6)), ("Hardtanh", {}, (4, 6)),
    ("Hardtanh", {"min_val": -2.0, "max_val": 3.0}, (4, 6)), ("Hardswish", {}, (4, 6)), ("Hardsigmoid", {}, (4, 6)),
    ("Threshold", {"threshold": 0.2, "value": -3.0}, (4, 6)), ("Sigmoid", {}, (4, 6)), ("Tanh", {}, (4, 6)),
    ("Softplus", {}, (4, 6)), ("Softplus", {"beta": 2.0, "threshold": 5.0}, (4, 6)), ("Softsign", {}, (4, 6)),
    ("Softshrink", {}, (4, 6)), ("Softshrink", {"lambd": 1.5}, (4, 6)), ("Hardshrink", {"lambd": 1.0}, (4, 6)),
    ("Tanhshrink", {}, (4, 6)), ("LogSigmoid", {}, (4, 6)), ("GLU", {}, (4, 6)), ("GLU", {"dim": 0}, (4, 6)),
    ("Softmax", {"dim": 1}, (3, 4, 5)), ("Softmax", {"dim": -1}, (3, 4, 5)), ("LogSoftmax", {"dim": 0}, (3, 4, 5)),
    ("Softmin", {"dim": 2}, (3, 4, 5)), ("Softmax2d", {}, (2, 3, 4, 5)), ("Softmax2d", {}, (3, 4, 5)),
]
EXTREME = np.array([-1e4, -88.0, -20.0, -1.5, 0.25, 20.0, 88.0, 1e4])
TOL = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _id(case):
    return f"{case[0]}{case[1] or ''}"


def _pair(name, kwargs, dtype, torch):
    m = getattr(nn, name)(**kwargs)
    tm = getattr(torch.nn, name)(**kwargs)
    if name == "RReLU":  # random slopes in training: compare the deterministic eval form
        m.eval()
        tm.eval()
    if name == "PReLU":
        m = m.to(getattr(lamina, dtype))
        tm = tm.to(getattr(torch, dtype))
    return m, tm


def _inputs(shape, kind, rng):
    if kind == "normal":
        return rng.standard_normal(shape) * 3
    x = np.resize(EXTREME, int(np.prod(shape))).reshape(shape)
    return x


def _close(a, b, dtype, scale=1.0):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=rtol * scale, atol=atol * scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["normal", "extreme"])
@pytest.mark.parametrize("case", GRID, ids=_id)
def test_parity_with_torch(case, kind, dtype):
    torch = pytest.importorskip("torch")
    name, kwargs, shape = case
    rng = np.random.default_rng(0)
    x = _inputs(shape, kind, rng).astype(dtype)
    m, tm = _pair(name, kwargs, dtype, torch)
    lx = lamina.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    y, ty = m(lx), tm(tx)
    assert y.dtype == lx.dtype and tuple(y.shape) == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    _close(y.detach().numpy(), ty.detach().numpy(), dtype)
    _close(lx.grad.numpy(), tx.grad.numpy(), dtype)
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        _close(p.grad.numpy(), tp.grad.numpy(), dtype, scale=10.0)  # a sum over the batch
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(lx.grad.numpy()).all()


FUNCTIONAL = [
    ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("rrelu", {"training": False}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("celu", {"alpha": 0.5}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("hardswish", {}), ("hardsigmoid", {}),
    ("threshold", {"threshold": 1.0, "value": 0.5}), ("softplus", {"beta": 0.5}), ("softsign", {}),
    ("softshrink", {"lambd": 0.2}), ("hardshrink", {}), ("tanhshrink", {}), ("logsigmoid", {}), ("glu", {"dim": 1}),
]


@pytest.mark.parametrize("name,kwargs", FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_parity_and_gradcheck(name, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 4)) * 3
    lx = lamina.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    y = getattr(F, name)(lx, **kwargs)
    ty = getattr(torch.nn.functional, name)(tx, **kwargs)
    y.sum().backward()
    ty.sum().backward()
    _close(y.detach().numpy(), ty.detach().numpy(), "float64")
    _close(lx.grad.numpy(), tx.grad.numpy(), "float64")
    xg = lamina.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: getattr(F, name)(t, **kwargs), (xg,))
    assert gradgradcheck(lambda t: getattr(F, name)(t, **kwargs), (xg,))


@pytest.mark.parametrize("case", [c for c in GRID if c[0] != "RReLU"], ids=_id)
def test_gradcheck_and_double_backward(case):
    name, kwargs, shape = case
    x = np.random.default_rng(2).standard_normal(shape) * 2
    m = getattr(nn, name)(**kwargs).to(lamina.float64)
    xt = lamina.tensor(x, requires_grad=True)
    params = tuple(m.parameters())
    assert gradcheck(lambda t, *p: m(t), (xt, *params))
    assert gradgradcheck(lambda t, *p: m(t), (xt, *params))


def test_gelu_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 11)
    for approximate in ("none", "tanh"):
        lx = lamina.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        (g,) = lamina.autograd.grad(F.gelu(lx, approximate=approximate).sum(), lx, create_graph=True)
        (tg,) = torch.autograd.grad(torch.nn.functional.gelu(tx, approximate=approximate).sum(), tx,
                                    create_graph=True)
        (gg,) = lamina.autograd.grad(g.sum(), lx)
        (tgg,) = torch.autograd.grad(tg.sum(), tx)
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-7, atol=1e-7)


INPLACE = [("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.1}), ("ELU", {}), ("SELU", {}),
           ("CELU", {}), ("SiLU", {}), ("Mish", {}), ("Hardtanh", {}), ("Hardswish", {}), ("Hardsigmoid", {}),
           ("Threshold", {"threshold": 0.0, "value": 1.0}), ("RReLU", {})]


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_matches_torch_and_mutates(name, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((5, 4)) * 3
    m = getattr(nn, name)(inplace=True, **kwargs)
    tm = getattr(torch.nn, name)(inplace=True, **kwargs)
    m.eval(), tm.eval()
    assert repr(m) == repr(tm)
    lx = lamina.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    lh, th = lx * 2, tx * 2
    y, ty = m(lh), tm(th)
    assert y is lh
    np.testing.assert_allclose(lh.detach().numpy(), th.detach().numpy(), rtol=1e-12, atol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-7)  # torch: 1/6 as a float
    with lamina.no_grad():  # array path
        z = lamina.tensor(x)
        assert m(z) is z
        np.testing.assert_allclose(z.numpy(), tm(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        nn.ReLU(inplace=True)(lamina.randn(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.elu(lamina.randn(3, requires_grad=True), inplace=True)


def test_rrelu_training_slopes_in_range_and_seeded():
    x = -lamina.ones(2000)
    m = nn.RReLU(0.1, 0.3)
    lamina.manual_seed(5)
    y1 = m(x).numpy()
    lamina.manual_seed(5)
    y2 = m(x).numpy()
    np.testing.assert_array_equal(y1, y2)
    assert -0.3 <= y1.min() and y1.max() <= -0.1 and abs(y1.mean() + 0.2) < 0.01
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -0.2, rtol=1e-6)
    xp = lamina.tensor([-2.0, 3.0], requires_grad=True)
    lamina.manual_seed(0)
    nn.RReLU()(xp).sum().backward()
    slope = xp.grad.numpy()[0]
    assert 1 / 8 <= slope <= 1 / 3 and xp.grad.numpy()[1] == 1.0


@pytest.mark.parametrize("name,kwargs", [("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {}),
                                         ("PReLU", {"num_parameters": 3}),
                                         ("RReLU", {"lower": 0.1, "upper": 0.3, "inplace": True}), ("ELU", {}),
                                         ("SELU", {"inplace": True}), ("CELU", {}), ("GELU", {}),
                                         ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {"inplace": True}),
                                         ("Hardtanh", {"min_val": -2, "max_val": 2, "inplace": True}),
                                         ("Hardswish", {"inplace": True}), ("Hardsigmoid", {}),
                                         ("Threshold", {"threshold": 0.1, "value": 20}), ("Sigmoid", {}), ("Tanh", {}),
                                         ("Softplus", {}), ("Softsign", {}), ("Softshrink", {}), ("Hardshrink", {}),
                                         ("Tanhshrink", {}), ("LogSigmoid", {}), ("GLU", {}), ("Softmax", {}),
                                         ("LogSoftmax", {"dim": 1}), ("Softmin", {"dim": 0}), ("Softmax2d", {})])
def test_repr_and_state_dict_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    m, tm = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())


def test_prelu_init_and_dtype():
    m = nn.PReLU(3, init=0.1, dtype=lamina.float64)
    assert m.weight.dtype == lamina.float64 and np.allclose(m.weight.detach().numpy(), 0.1)
    y = nn.PReLU()(lamina.randn(2, 3))
    assert y.dtype == lamina.float32


def test_softmax_implicit_dim_warns_and_follows_legacy_rule():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = nn.Softmax()(lamina.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ty = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)


ERRORS = [
    (lambda: F.glu(lamina.randn(2, 5)), lamina.ShapeError, r"glu: expected an even size .* got size 5"),
    (lambda: F.glu(lamina.tensor(1.0)), lamina.ShapeError, r"glu: .*0-d"),
    (lambda: nn.GELU("fast"), ValueError, r"GELU: approximate must be one of \['none', 'tanh'\], got 'fast'"),
    (lambda: F.gelu(lamina.randn(2), approximate="fast"), ValueError, r"gelu: approximate must be one of"),
    (lambda: nn.Hardtanh(2.0, 1.0), ValueError, r"Hardtanh: expected max_val > min_val, got min_val=2.0, max_val=1.0"),
    (lambda: nn.Softshrink(-1.0), ValueError, r"Softshrink: expected lambd >= 0, got -1.0"),
    (lambda: F.softshrink(lamina.randn(2), -0.5), ValueError, r"softshrink: expected lambd >= 0"),
    (lambda: nn.PReLU(4)(lamina.randn(2, 3)), lamina.ShapeError, r"prelu: expected weight with 1 or 3 .* got 4"),
    (lambda: F.rrelu(lamina.randn(2), 0.5, 0.1), ValueError, r"rrelu: expected lower <= upper"),
    (lambda: F.celu(lamina.randn(2), 0.0), ValueError, r"celu: alpha must be non-zero"),
    (lambda: nn.Softmax2d()(lamina.randn(2, 3)), lamina.ShapeError, r"Softmax2d: expected input .* got 2-D"),
]


@pytest.mark.parametrize("call,error,match", ERRORS, ids=[e[2][:30] for e in ERRORS])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_float32_stays_float32_in_forward_and_backward():
    x = lamina.tensor(np.linspace(-5, 5, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    for name in ("gelu", "silu", "mish", "elu", "hardswish", "leaky_relu", "softplus", "logsigmoid", "softsign",
                 "tanhshrink", "hardsigmoid", "relu6", "selu", "celu", "softshrink", "hardshrink"):
        x.grad = None
        y = getattr(F, name)(x)
        assert y.array.dtype == np.float32, name
        y.sum().backward()
        assert x.grad.array.dtype == np.float32, name


def _gelu_pair(x, g):
    """lamina's exact GELU value and input gradient on float32 x, upstream gradient g."""
    lx = lamina.tensor(x, requires_grad=True)
    y = F.gelu(lx)
    y.backward(lamina.tensor(g))
    return y.detach().numpy(), lx.grad.numpy()


def test_gelu_float32_kernel_accuracy():
    """The float32 GELU kernel (rational CDF) against the exact function in float64 and against torch."""
    from scipy.special import ndtr
    x = np.concatenate([np.linspace(-12, 12, 480001), [-5.9, 5.9, -5.8999, 5.9001, -7.0, 7.0]]).astype(np.float32)
    g = np.ones_like(x)
    y, dx = _gelu_pair(x, g)
    x64 = x.astype(np.float64)
    cdf, pdf = ndtr(x64), np.exp(-0.5 * x64 * x64) / np.sqrt(2 * np.pi)
    assert np.abs(y - x64 * cdf).max() <= 2.5e-7 * 6 + 1e-12              # |x| <= 6 matters; beyond, CDF is exact
    ratio = np.where(x == 0, 0.5, y / np.where(x == 0, 1, x))
    assert np.abs(ratio - cdf).max() < 2.5e-7                                # the CDF itself
    assert np.abs(dx - (cdf + x64 * pdf)).max() < 1e-6
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=2e-6)


def test_gelu_float32_kernel_tails_and_specials():
    x = np.array([-1e30, -100.0, -20.0, -6.0, 0.0, -0.0, 6.0, 20.0, 1e30, np.inf, np.nan], dtype=np.float32)
    y, dx = _gelu_pair(x, np.ones_like(x))
    assert np.all(y[:3] == 0) and np.all(dx[:3] == 0)              # far negative tail: exactly 0, as PyTorch
    np.testing.assert_array_equal(y[4:6], [0.0, 0.0])
    np.testing.assert_array_equal(dx[4:6], [0.5, 0.5])
    np.testing.assert_array_equal(y[7:10], x[7:10])                # far positive tail: exactly x
    np.testing.assert_array_equal(dx[7:9], [1.0, 1.0])
    assert np.isnan(y[10]) and np.isnan(dx[10])
    assert -1e-8 < y[3] <= 0 and 0.999999 < y[6] / 6 <= 1


def test_gelu_float32_kernel_bitwise_any_thread_count():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((9, 300, 257)) * 3).astype(np.float32)   # several pieces and thread tasks, ragged end
    g = rng.standard_normal(x.shape).astype(np.float32)
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(1)
        y1, d1 = _gelu_pair(x, g)
        lamina.set_num_threads(2)
        y2, d2 = _gelu_pair(x, g)
    finally:
        lamina.set_num_threads(before)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(d1, d2)
    # a non-contiguous input takes the general (scipy erf) path and agrees within float32 round-off
    yt, dt = _gelu_pair(np.ascontiguousarray(x.T).T, g)
    np.testing.assert_allclose(yt, y1, rtol=1e-6, atol=3e-7 * 10)
    np.testing.assert_allclose(dt, d1, rtol=1e-6, atol=3e-6)


def test_gelu_float32_kernel_retained_graph_second_backward():
    """The forward's saved CDF is freed by the first backward; a retained graph's second one recomputes it."""
    x = (np.random.default_rng(5).standard_normal((64, 33)) * 3).astype(np.float32)
    lx = lamina.tensor(x, requires_grad=True)
    y = F.gelu(lx)
    y.sum().backward(retain_graph=True)
    first = lx.grad.numpy().copy()
    lx.grad = None
    y.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), first, rtol=1e-6, atol=3e-7)
