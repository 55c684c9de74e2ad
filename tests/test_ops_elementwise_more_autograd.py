"""The elementwise functions of issue #20 under autograd, against torch 2.13: in-place forms (results, version
counters, the dtype and shape rules, the leaf error, history), gradients against torch's (float32, float64,
complex128) and float64 gradcheck / gradgradcheck. Values, dtypes and errors are in test_ops_elementwise_more.py."""

from __future__ import annotations

import lamina
import pytest
import torch
from lamina.testing import gradcheck, gradgradcheck
from test_ops_elementwise_more import _seeded, assert_same, sample, to_lamina  # noqa: F401  (_seeded: autouse)

pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|divide by zero|overflow) encountered:RuntimeWarning")

# --- in-place -------------------------------------------------------------------------------------------

INPLACE1 = ["acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_", "deg2rad_", "rad2deg_",
            "absolute_", "nan_to_num_", "bitwise_not_"]
INPLACE2 = ["arctan2_", "hypot_", "copysign_", "nextafter_", "ldexp_", "float_power_", "gcd_", "lcm_",
            "heaviside_", "bitwise_left_shift_", "bitwise_right_shift_", "greater_equal_", "less_equal_",
            "not_equal_", "greater_", "less_"]
TOPLEVEL_INPLACE = ["acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_", "deg2rad_", "rad2deg_",
                    "nan_to_num_", "ldexp_", "gcd_", "lcm_"]


def _inplace_operands(name, dtype):
    a = sample(dtype, (3, 4))
    if dtype.is_floating_point:
        a = a.abs() + 1.1 if name != "atanh_" and name != "arctanh_" else a.clamp(-0.9, 0.9)
    b = sample(dtype, (4,)) if name in INPLACE2 else None
    if "shift" in name and b is not None and dtype is not torch.bool:
        b = b.abs()
    return a, b


@pytest.mark.parametrize("name", INPLACE1 + INPLACE2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool], ids=str)
def test_inplace_matches_torch(name, dtype):
    a, b = _inplace_operands(name, dtype)
    args = () if b is None else (b,)
    ta = a.clone()
    try:
        expected = getattr(ta, name)(*args)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)):
            getattr(to_lamina(a), name)(*[to_lamina(v) for v in args])
        return
    la = to_lamina(a)
    version = la._version
    res = getattr(la, name)(*[to_lamina(v) for v in args])
    assert res is la and la._version == version + 1
    assert_same(la, expected)


@pytest.mark.parametrize("name", TOPLEVEL_INPLACE)
def test_toplevel_inplace(name):
    dtype = torch.int64 if name in ("gcd_", "lcm_") else torch.float32
    a, _ = _inplace_operands(name, dtype)
    args = (sample(dtype, (4,)),) if name in ("ldexp_", "gcd_", "lcm_") else ()
    if name == "ldexp_":
        args = (sample(torch.int64, (4,)),)
    ta = a.clone()
    getattr(torch, name)(ta, *args)
    la = to_lamina(a)
    assert getattr(lamina, name)(la, *[to_lamina(v) for v in args]) is la
    assert_same(la, ta)


@pytest.mark.parametrize("name", ["acosh_", "deg2rad_", "ldexp_", "copysign_", "hypot_", "float_power_"])
def test_inplace_result_that_does_not_fit_self(name):
    x = lamina.tensor([1, 2])
    other = lamina.tensor([1.0, 2.0])
    args = {"acosh_": (), "deg2rad_": (), "ldexp_": (other,), "copysign_": (-1,), "hypot_": (other,),
            "float_power_": (2,)}[name]
    with pytest.raises(RuntimeError, match="cast|dtype"):
        getattr(x, name)(*args)
    with pytest.raises(RuntimeError, match="cast to the desired output type Long"):
        lamina.tensor([1, 2]).deg2rad_()
    with pytest.raises(RuntimeError, match="float_power_ has dtype Float but the operation's result requires "
                                           "dtype Double"):
        lamina.tensor([1.0, 2.0]).float_power_(2)
    with pytest.raises(RuntimeError, match="broadcast shape"):
        lamina.tensor([1.0, 2.0]).hypot_(lamina.tensor([[1.0], [2.0]]))
    with pytest.raises(RuntimeError, match="cast to the desired output type Bool"):
        lamina.tensor([True]).bitwise_left_shift_(lamina.tensor([1]))


@pytest.mark.parametrize("name, args", [("acosh_", ()), ("hypot_", (1,)), ("nan_to_num_", ()),
                                        ("ldexp_", (1,)), ("copysign_", (-1.0,)), ("float_power_", (2,))])
def test_inplace_on_a_leaf_that_requires_grad(name, args):
    x = lamina.tensor([1.5, 2.5], dtype=lamina.float64, requires_grad=True)
    args = tuple(lamina.tensor([1.0, 2.0], dtype=lamina.float64) if a == 1 else a for a in args)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(x, name)(*args)


@pytest.mark.parametrize("name", ["acosh_", "asinh_", "atanh_", "deg2rad_", "hypot_", "copysign_", "ldexp_",
                                  "float_power_", "nan_to_num_", "rad2deg_", "arctan2_", "absolute_"])
def test_inplace_gradient_flows_through_history(name):
    base = torch.tensor([0.3, 0.6, -0.2], dtype=torch.float64) + (1.0 if name == "acosh_" else 0.0)
    other = torch.tensor([0.7, -1.2, 2.0], dtype=torch.float64)
    args = (other,) if name in ("hypot_", "copysign_", "ldexp_", "float_power_", "arctan2_") else ()

    def run(m, b, o, method):
        leaf = b.clone().requires_grad_()
        y = leaf * 2
        r = getattr(y, method)(*([o] if args else []))
        r.sum().backward()
        return r, leaf.grad

    # torch has no derivative for in-place acosh_/asinh_/atanh_: the out-of-place one is the reference there
    ty, tg = run(torch, base, other, name[:-1] if name in ("acosh_", "asinh_", "atanh_") else name)
    ly, lg = run(lamina, to_lamina(base), to_lamina(other), name)
    assert_same(ly, ty)
    assert_same(lg, tg)


# --- gradients ------------------------------------------------------------------------------------------

DIFF_UNARY = {
    "acosh": (lambda m, x: m.acosh(x), 1.5), "asinh": (lambda m, x: m.asinh(x), 0.0),
    "atanh": (lambda m, x: m.atanh(x / (x.abs() + 1)), 0.0), "deg2rad": (lambda m, x: m.deg2rad(x), 0.0),
    "rad2deg": (lambda m, x: m.rad2deg(x), 0.0), "absolute": (lambda m, x: m.absolute(x), 0.5),
    "positive": (lambda m, x: m.positive(x) * 1, 0.0), "nan_to_num": (lambda m, x: m.nan_to_num(x), 0.0),
    "frexp": (lambda m, x: m.frexp(x).mantissa, 0.0),
}
DIFF_BINARY = {
    "arctan2": lambda m, a, b: m.arctan2(a, b), "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: m.fmin(a, b), "hypot": lambda m, a, b: m.hypot(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b), "ldexp": lambda m, a, b: m.ldexp(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "logaddexp2": lambda m, a, b: m.logaddexp2(a, b),
    "float_power": lambda m, a, b: m.float_power(a.abs() + 0.5, b), "divide": lambda m, a, b: m.divide(a, b),
    "multiply": lambda m, a, b: m.multiply(a, b), "subtract": lambda m, a, b: m.subtract(a, b, alpha=1.5),
    "rsub": lambda m, a, b: m.rsub(a, b, alpha=2),
}


def _positive_away(x):  # |x| >= 0.3: away from the kinks at 0 of abs/copysign and ties of fmax
    return torch.where(x.abs() < 0.3, x.sign() * 0.3 + 0.3, x)


@pytest.mark.parametrize("name", list(DIFF_UNARY))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_unary_gradient_matches_torch(name, dtype):
    fn, shift = DIFF_UNARY[name]
    x = _positive_away(sample(torch.float64, (3, 4))).abs().add(shift).to(dtype) if name == "acosh" else \
        _positive_away(sample(torch.float64, (3, 4))).to(dtype)
    x.view(-1)[:3] = torch.tensor([float("inf"), float("nan"), -float("inf")], dtype=dtype) \
        if name == "nan_to_num" else x.view(-1)[:3]
    tx = x.clone().requires_grad_()
    (tg,) = torch.autograd.grad(fn(torch, tx).sum(), tx)
    lx = to_lamina(x, requires_grad=True)
    (lg,) = lamina.autograd.grad(fn(lamina, lx).sum(), lx)
    assert_same(lg, tg)


@pytest.mark.parametrize("name", list(DIFF_BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3))], ids=str)
def test_binary_gradient_matches_torch(name, shapes):
    a = _positive_away(sample(torch.float64, shapes[0]))
    b = _positive_away(sample(torch.float64, shapes[1]))
    if name in ("fmax", "fmin") and a.dim() == b.dim() == 2 and a.shape == b.shape:
        a[0, 0], b[0, 0], b[1, 1] = 1.0, 1.0, float("nan")  # a tie and a NaN: torch gives both to input
    ta, tb = a.clone().requires_grad_(), b.clone().requires_grad_()
    tga, tgb = torch.autograd.grad(DIFF_BINARY[name](torch, ta, tb).sum(), (ta, tb))
    la, lb = to_lamina(a, True), to_lamina(b, True)
    lga, lgb = lamina.autograd.grad(DIFF_BINARY[name](lamina, la, lb).sum(), (la, lb))
    assert_same(lga, tga)
    assert_same(lgb, tgb)


def test_nextafter_gradient_matches_torch():
    a = torch.tensor([0.5, -1.5, 2.0, 0.0, 3.0], dtype=torch.float64)
    b = torch.tensor([0.5, 2.5, -1.0, 0.0, 1.0], dtype=torch.float64)
    ta, tb = a.clone().requires_grad_(), b.clone().requires_grad_()
    tga, tgb = torch.autograd.grad(torch.nextafter(ta, tb).sum(), (ta, tb))
    la, lb = to_lamina(a, True), to_lamina(b, True)
    lga, lgb = lamina.autograd.grad(lamina.nextafter(la, lb).sum(), (la, lb))
    assert_same(lga, tga)
    assert_same(lgb, tgb)


def test_heaviside_has_no_derivative():
    x = lamina.tensor([1.0, -1.0], requires_grad=True)
    y = lamina.heaviside(x, lamina.tensor([0.5]))
    assert y.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        y.sum().backward()


def _lamina_inputs(*shapes, transform=lambda t: t):
    return [to_lamina(transform(_positive_away(sample(torch.float64, s))), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("name", list(DIFF_UNARY))
def test_unary_gradcheck_and_gradgradcheck(name):
    fn, shift = DIFF_UNARY[name]
    (x,) = _lamina_inputs((2, 3), transform=lambda t: t.abs() + shift if name == "acosh" else t)
    assert gradcheck(lambda v: fn(lamina, v), [x])
    assert gradgradcheck(lambda v: fn(lamina, v), [x])


@pytest.mark.parametrize("name", list(DIFF_BINARY))
def test_binary_gradcheck_and_gradgradcheck(name):
    a, b = _lamina_inputs((2, 3), (3,))
    assert gradcheck(lambda x, y: DIFF_BINARY[name](lamina, x, y), [a, b])
    assert gradgradcheck(lambda x, y: DIFF_BINARY[name](lamina, x, y), [a, b])


@pytest.mark.parametrize("name", ["acosh", "asinh", "atanh", "logaddexp", "positive"])
def test_complex_gradient_matches_torch(name):
    a = torch.tensor([1.5 + 0.5j, -0.3 + 2j, 0.2 - 0.7j], dtype=torch.complex128)
    b = torch.tensor([0.4 - 1j, 1 + 1j, -2 + 0.1j], dtype=torch.complex128)
    two = name == "logaddexp"

    def grads(m, x, y):
        out = getattr(m, name)(x, y) if two else getattr(m, name)(x) * 1
        return (m.autograd.grad(out.abs().sum(), (x, y) if two else (x,)))

    tg = grads(torch, a.clone().requires_grad_(), b.clone().requires_grad_())
    lg = grads(lamina, to_lamina(a, True), to_lamina(b, True))
    for g, e in zip(lg, tg):
        assert_same(g, e)


def test_nan_to_num_refuses_complex_autograd():
    x = lamina.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="does not support automatic differentiation"):
        lamina.nan_to_num(x)
    with lamina.no_grad():
        assert lamina.nan_to_num(x).tolist() == [1 + 1j]


@pytest.mark.parametrize("name", ["greater_", "greater_equal_", "less_", "less_equal_", "not_equal_"])
def test_inplace_comparison_keeps_a_tensor_in_the_graph(name):
    def run(m):
        leaf = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        y = leaf * 2
        getattr(y, name)(4.0)
        assert y.requires_grad
        (y * leaf).sum().backward()  # y's own path contributes zero
        return y, leaf.grad

    (ty, tg), (ly, lg) = run(torch), run(lamina)
    assert_same(ly, ty)
    assert_same(lg, tg)
