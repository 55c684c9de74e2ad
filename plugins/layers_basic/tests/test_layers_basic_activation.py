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
