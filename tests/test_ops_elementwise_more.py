"""The elementwise functions of issue #20 (acosh ... isin, aliases, shifts) against torch 2.13: values, dtypes
and errors per dtype, broadcasting, 0-d, empty, NaN/inf, non-contiguous, scalar operands, out=, and the backend
namespace. In-place forms and gradients: test_ops_elementwise_more_autograd.py."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch

# NumPy warns on NaN/inf results (arccosh(0.5), x / 0) where torch is silent; the core passes those warnings on
pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|divide by zero|overflow) encountered:RuntimeWarning")

# --- helpers ------------------------------------------------------------------------------------------


def to_lamina(v, requires_grad=False):
    if isinstance(v, torch.Tensor):
        t = lamina.tensor(v.detach().numpy())
        return t.requires_grad_() if requires_grad else t
    return v


def same_dtype(lt, tt) -> bool:
    return str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]


def assert_same(lt, tt, rtol=None, atol=None):
    assert isinstance(lt, lamina.Tensor), type(lt)
    assert same_dtype(lt, tt), (lt.dtype, tt.dtype)
    assert tuple(lt.shape) == tuple(tt.shape), (lt.shape, tt.shape)
    a, b = lt.detach().numpy(), tt.detach().numpy()
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b)
        return
    if tt.dtype == torch.float16 and rtol is None:
        # one half ulp: torch's CPU half kernels round alpha * b to half in the scalar tail of a loop (n % 32
        # elements) but not in its vectorised body, so its own results depend on the position
        rtol, atol = 1e-3, 1e-3
    lo = tt.dtype in (torch.float32, torch.complex64, torch.float16)
    np.testing.assert_allclose(a, b, rtol=rtol or (2e-5 if lo else 1e-12), atol=atol or (2e-6 if lo else 1e-12),
                               equal_nan=True)


def run_both(fn, *args, **kwargs):
    """``fn(torch, *args)`` and ``fn(lamina, *lamina args)``: equal results, or the same exception type."""
    try:
        expected = fn(torch, *args, **kwargs)
    except Exception as e:  # noqa: BLE001  (torch's exception type is the oracle)
        with pytest.raises(type(e)):
            fn(lamina, *[to_lamina(a) for a in args], **kwargs)
        return None
    got = fn(lamina, *[to_lamina(a) for a in args], **kwargs)
    if isinstance(expected, tuple):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
    elif isinstance(expected, torch.Tensor):
        assert_same(got, expected)
    else:
        assert got == expected
    return got


GEN = torch.Generator()


@pytest.fixture(autouse=True)
def _seeded():
    GEN.manual_seed(0)  # each test draws the same samples however the tests are selected or ordered


def sample(dtype, shape=(3, 4), scale=3.0):
    if dtype is torch.bool:
        return torch.rand(shape, generator=GEN) > 0.5
    if dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        lo = 0 if dtype is torch.uint8 else -9
        return torch.randint(lo, 10, shape, generator=GEN).to(dtype)
    return (torch.randn(shape, generator=GEN, dtype=torch.float64) * scale).to(dtype)


SPECIAL = torch.tensor([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, float("nan"), float("inf"), -float("inf"), 1e-40, 1e30])
DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.bool]
SHAPES = [(3, 4), (), (0, 3)]

# --- unary ----------------------------------------------------------------------------------------------

UNARY = {
    "acosh": lambda m, x: m.acosh(x), "arccosh": lambda m, x: m.arccosh(x),
    "asinh": lambda m, x: m.asinh(x), "arcsinh": lambda m, x: m.arcsinh(x),
    "atanh": lambda m, x: m.atanh(x), "arctanh": lambda m, x: m.arctanh(x),
    "deg2rad": lambda m, x: m.deg2rad(x), "rad2deg": lambda m, x: m.rad2deg(x),
    "absolute": lambda m, x: m.absolute(x), "positive": lambda m, x: m.positive(x),
    "nan_to_num": lambda m, x: m.nan_to_num(x), "bitwise_not": lambda m, x: m.bitwise_not(x),
    "frexp": lambda m, x: tuple(m.frexp(x)),
    "acosh_method": lambda m, x: x.acosh(), "arcsinh_method": lambda m, x: x.arcsinh(),
    "atanh_method": lambda m, x: x.atanh(), "deg2rad_method": lambda m, x: x.deg2rad(),
    "nan_to_num_method": lambda m, x: x.nan_to_num(nan=1.5, posinf=2.0), "positive_method": lambda m, x: x.positive(),
    "frexp_method": lambda m, x: tuple(x.frexp()), "bitwise_not_method": lambda m, x: x.bitwise_not(),
    "rad2deg_method": lambda m, x: x.rad2deg(), "absolute_method": lambda m, x: x.absolute(),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", DTYPES + [torch.float16, torch.complex64], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_matches_torch(name, dtype, shape):
    if name == "absolute_method" and dtype is torch.bool:
        pytest.skip("Tensor.absolute is the existing Tensor.abs, which takes bool tensors (torch refuses them)")
    x = sample(dtype, shape)
    if dtype.is_floating_point and x.numel():
        x.view(-1)[0] = 1.25  # inside every domain
    run_both(UNARY[name], x)


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_unary_special_values(name, dtype):
    run_both(UNARY[name], SPECIAL.to(dtype))


@pytest.mark.parametrize("name", ["acosh", "asinh", "atanh", "deg2rad", "nan_to_num", "frexp", "absolute"])
def test_unary_non_contiguous(name):
    x = sample(torch.float32, (4, 5)).abs().add(1.1).t()
    if name == "atanh":
        x = x / 10
    assert not x.is_contiguous()
    lx = to_lamina(x.t()).t()
    expected = UNARY[name](torch, x)
    got = UNARY[name](lamina, lx)
    pairs = zip(got, expected) if isinstance(got, tuple) else [(got, expected)]
    for g, e in pairs:
        assert_same(g, e)


def test_positive_returns_the_tensor_itself():
    x = lamina.tensor([1.0, -2.0])
    assert lamina.positive(x) is x
    with pytest.raises(RuntimeError, match="bool tensor"):
        lamina.positive(lamina.tensor([True]))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("kw", [{}, {"nan": 2.0}, {"posinf": 3.0}, {"neginf": -4.0}, {"nan": -1, "posinf": 7,
                                                                                      "neginf": 9.5}])
def test_nan_to_num_defaults_and_arguments(dtype, kw):
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5, -0.0], dtype=dtype)
    run_both(lambda m, t: m.nan_to_num(t, **kw), x)


def test_nan_to_num_complex_and_positional():
    x = torch.tensor([complex(float("nan"), float("inf")), complex(1, -float("inf"))])
    run_both(lambda m, t: m.nan_to_num(t), x)
    run_both(lambda m, t: m.nan_to_num(t, 1.0, 2.0, 3.0), torch.tensor([float("nan"), float("inf"), -float("inf")]))


def test_frexp_return_type_and_dtypes():
    r = lamina.frexp(lamina.tensor([0.0, 1.0, -3.5, 1e-40], dtype=lamina.float64))
    assert type(r).__name__ == "frexp" and r._fields == ("mantissa", "exponent")
    assert r.mantissa.dtype == lamina.float64 and r.exponent.dtype == lamina.int32
    assert repr(r).startswith("lamina.return_types.frexp(\nmantissa=")
    with pytest.raises(RuntimeError, match="floating-point"):
        lamina.frexp(lamina.tensor([1, 2]))


# --- binary ---------------------------------------------------------------------------------------------

BINARY = {
    "arctan2": lambda m, a, b: m.arctan2(a, b), "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: m.fmin(a, b), "hypot": lambda m, a, b: m.hypot(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b), "nextafter": lambda m, a, b: m.nextafter(a, b),
    "ldexp": lambda m, a, b: m.ldexp(a, b), "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "logaddexp2": lambda m, a, b: m.logaddexp2(a, b), "float_power": lambda m, a, b: m.float_power(a, b),
    "heaviside": lambda m, a, b: m.heaviside(a, b), "gcd": lambda m, a, b: m.gcd(a, b),
    "lcm": lambda m, a, b: m.lcm(a, b), "bitwise_left_shift": lambda m, a, b: m.bitwise_left_shift(a, b),
    "bitwise_right_shift": lambda m, a, b: m.bitwise_right_shift(a, b),
    "divide": lambda m, a, b: m.divide(a, b), "divide_floor": lambda m, a, b: m.divide(a, b, rounding_mode="floor"),
    "divide_trunc": lambda m, a, b: m.divide(a, b, rounding_mode="trunc"),
    "multiply": lambda m, a, b: m.multiply(a, b), "subtract": lambda m, a, b: m.subtract(a, b),
    "subtract_alpha": lambda m, a, b: m.subtract(a, b, alpha=2), "rsub": lambda m, a, b: m.rsub(a, b),
    "rsub_alpha": lambda m, a, b: m.rsub(a, b, alpha=3),
    "greater_equal": lambda m, a, b: m.greater_equal(a, b), "less_equal": lambda m, a, b: m.less_equal(a, b),
    "not_equal": lambda m, a, b: m.not_equal(a, b), "greater": lambda m, a, b: m.greater(a, b),
    "less": lambda m, a, b: m.less(a, b), "isin": lambda m, a, b: m.isin(a, b),
    "isin_invert": lambda m, a, b: m.isin(a, b, invert=True),
    "hypot_method": lambda m, a, b: a.hypot(b), "fmax_method": lambda m, a, b: a.fmax(b),
    "copysign_method": lambda m, a, b: a.copysign(b), "float_power_method": lambda m, a, b: a.float_power(b),
    "gcd_method": lambda m, a, b: a.gcd(b), "left_shift_method": lambda m, a, b: a.bitwise_left_shift(b),
    "logaddexp_method": lambda m, a, b: a.logaddexp(b), "not_equal_method": lambda m, a, b: a.not_equal(b),
    "greater_equal_method": lambda m, a, b: a.greater_equal(b), "ldexp_method": lambda m, a, b: a.ldexp(b),
    "arctan2_method": lambda m, a, b: a.arctan2(b), "heaviside_method": lambda m, a, b: a.heaviside(b),
    "nextafter_method": lambda m, a, b: a.nextafter(b), "lcm_method": lambda m, a, b: a.lcm(b),
    "right_shift_method": lambda m, a, b: a.bitwise_right_shift(b), "fmin_method": lambda m, a, b: a.fmin(b),
    "logaddexp2_method": lambda m, a, b: a.logaddexp2(b), "less_equal_method": lambda m, a, b: a.less_equal(b),
}

PAIRS = [(torch.float32, torch.float32), (torch.float64, torch.float64), (torch.float32, torch.float64),
         (torch.int64, torch.int64), (torch.int64, torch.float32), (torch.int32, torch.int64),
         (torch.int8, torch.uint8), (torch.bool, torch.bool), (torch.int64, torch.bool),
         (torch.float16, torch.float16), (torch.complex64, torch.complex64)]
BROADCAST = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((3, 4), ()), ((), ()), ((0, 4), (1, 4))]


def _operand(dtype, shape, name):
    x = sample(dtype, shape)
    if "shift" in name and dtype not in (torch.bool,) and not dtype.is_floating_point:
        x = x.abs() % 9 if dtype in (torch.int8, torch.uint8) else x.abs() * 8  # within and past the width
    return x


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("dtypes", PAIRS, ids=lambda p: f"{p[0]}-{p[1]}".replace("torch.", ""))
def test_binary_dtypes_match_torch(name, dtypes):
    a, b = _operand(dtypes[0], (3, 4), name), _operand(dtypes[1], (3, 4), name)
    if name.startswith("divide_") and not dtypes[1].is_floating_point:
        b = torch.where(b == 0, torch.ones_like(b), b)  # integer division by zero: torch raises, NumPy gives 0
    run_both(BINARY[name], a, b)


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
def test_binary_broadcasting_matches_torch(name, shapes):
    dtype = torch.int64 if name in ("gcd", "lcm", "gcd_method", "lcm_method") or "shift" in name else torch.float32
    run_both(BINARY[name], _operand(dtype, shapes[0], name), _operand(dtype, shapes[1], name))


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("scalar", [2, 2.5, -0.0, True], ids=repr)
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64], ids=str)
def test_binary_python_scalars_match_torch(name, scalar, dtype):
    x = _operand(dtype, (2, 3), name)
    if name.startswith("divide_") and not scalar:
        return  # integer division by zero
    run_both(lambda m, a: BINARY[name](m, a, scalar), x)
    if not name.endswith("_method"):
        run_both(lambda m, a: BINARY[name](m, scalar, a), x)


@pytest.mark.parametrize("name", ["fmax", "fmin", "hypot", "copysign", "nextafter", "ldexp", "logaddexp",
                                  "logaddexp2", "float_power", "heaviside", "arctan2", "isin", "not_equal"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_binary_special_values(name, dtype):
    a = SPECIAL.to(dtype)
    b = torch.roll(SPECIAL, 3).to(dtype)
    run_both(BINARY[name], a[:, None], b[None, :])  # every pair of special values


def test_isin_forms():
    e, t = torch.tensor([[1, 2], [3, 4]]), torch.tensor([4, 1, 9])
    run_both(lambda m, a, b: m.isin(a, b, assume_unique=True), e, t)
    run_both(lambda m, a: m.isin(a, 3), e)
    run_both(lambda m, a: m.isin(3, a), e)
    run_both(lambda m, a, b: m.isin(a, b), torch.tensor([1.0, 1.5, float("nan")]), torch.tensor([1, 2]))
    with pytest.raises(TypeError):
        lamina.isin(1, 2)
    with pytest.raises(RuntimeError, match="ComplexFloat"):
        lamina.isin(lamina.tensor([1j]), lamina.tensor([1j]))
    assert not hasattr(torch.Tensor, "isin") and not hasattr(lamina.Tensor, "isin")


def test_gcd_lcm_signs_zero_and_overflow():
    a, b = torch.tensor([0, -4, 6, 0, 2**40, -7]), torch.tensor([0, 6, -4, 5, 3**20, -7])
    run_both(lambda m, x, y: m.gcd(x, y), a, b)
    run_both(lambda m, x, y: m.lcm(x, y), a, b)


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64], ids=str)
def test_shifts_past_the_width_and_negative(dtype):
    x = torch.tensor([1, 3, 100, 127, 5, 1, 2], dtype=dtype)
    if dtype is not torch.uint8:
        x = torch.cat([x, -x])
    bits = torch.iinfo(dtype).bits
    s = torch.tensor([0, 1, bits - 1, bits, bits + 5, 3, 2] * (len(x) // 7), dtype=dtype)
    run_both(lambda m, a, b: m.bitwise_left_shift(a, b), x, s)
    run_both(lambda m, a, b: m.bitwise_right_shift(a, b), x, s)
    if dtype is not torch.uint8:
        run_both(lambda m, a, b: m.bitwise_left_shift(a, b), x, -s)
        run_both(lambda m, a, b: m.bitwise_right_shift(a, b), x, -s)


def test_heaviside_values_and_errors():
    x = torch.tensor([-1.0, 0.0, 2.0, float("nan"), -0.0])
    run_both(lambda m, a, b: m.heaviside(a, b), x, torch.tensor([0.5]))
    run_both(lambda m, a, b: m.heaviside(a, b), x, torch.tensor(3.0))
    with pytest.raises(RuntimeError, match="different dtypes"):
        lamina.heaviside(lamina.tensor([1.0]), lamina.tensor([1.0], dtype=lamina.float64))
    with pytest.raises(TypeError, match="values"):
        lamina.heaviside(lamina.tensor([1.0]), 0.5)


def test_float_power_is_double_precision():
    run_both(lambda m, a: m.float_power(a, 2), torch.tensor([1, 2, 3]))
    run_both(lambda m, a: m.float_power(2, a), torch.tensor([1.5, 2.0]))
    run_both(lambda m, a: m.float_power(a, 1j), torch.tensor([2.0]))
    run_both(lambda m, a, b: m.float_power(a, b), torch.tensor([2.0]), torch.tensor([1 + 1j]))
    with pytest.raises(TypeError):
        lamina.float_power(2.0, 3.0)


@pytest.mark.parametrize("name", ["hypot", "fmax", "fmin", "logaddexp", "ldexp", "gcd", "nextafter", "heaviside",
                                  "arctan2"])
def test_tensor_only_signatures_refuse_python_numbers(name):
    x = sample(torch.int64 if name == "gcd" else torch.float32, (2,))
    run_both(lambda m, a: getattr(m, name)(a, 2), x)


# --- out= -----------------------------------------------------------------------------------------------

OUT = ["acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "deg2rad", "rad2deg", "absolute", "nan_to_num",
       "bitwise_not"]
OUT2 = ["arctan2", "fmax", "fmin", "hypot", "copysign", "nextafter", "ldexp", "logaddexp", "logaddexp2",
        "float_power", "heaviside", "gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift", "divide",
        "multiply", "subtract", "greater_equal", "less_equal", "not_equal", "isin"]


@pytest.mark.parametrize("name", OUT + OUT2)
def test_out_argument(name):
    dtype = torch.int64 if name in ("gcd", "lcm", "bitwise_not") or "shift" in name else torch.float32
    a, b = sample(dtype, (2, 3)).abs() + 1, sample(dtype, (2, 3)).abs() + 1
    args = (a,) if name in OUT else (a, b)
    expected = getattr(torch, name)(*args)
    out = lamina.empty(2, 3, dtype=getattr(lamina, str(expected.dtype).split(".")[-1]))
    res = getattr(lamina, name)(*[to_lamina(v) for v in args], out=out)
    assert res is out
    assert_same(out, expected)
    resized = lamina.empty(0, dtype=out.dtype)
    getattr(lamina, name)(*[to_lamina(v) for v in args], out=resized)
    assert_same(resized, expected)


def test_frexp_out():
    m, e = lamina.empty(3), lamina.empty(3, dtype=lamina.int32)
    r = lamina.frexp(lamina.tensor([1.0, 6.0, -0.25]), out=(m, e))
    assert r.mantissa is m and r.exponent is e
    assert m.tolist() == [0.5, 0.75, -0.5] and e.tolist() == [1, 3, -1]


def test_logaddexp_complex_matches_torch():
    a = torch.tensor([1 + 2j, -3 + 0.5j, 20 - 1j], dtype=torch.complex128)
    b = torch.tensor([0.5 - 1j, 2 + 2j, -20 + 3j], dtype=torch.complex128)
    run_both(lambda m, x, y: m.logaddexp(x, y), a, b)


def test_names_come_from_the_core_not_a_plugin():
    for name in ["acosh", "hypot", "isin", "nan_to_num", "bitwise_left_shift", "float_power", "frexp", "rsub",
                 "acosh_", "gcd_"]:
        assert getattr(lamina, name).__module__.startswith("lamina.ops."), name


PURITY = {
    "acosh": lambda x, y, i: lamina.acosh(x + 2), "asinh": lambda x, y, i: lamina.asinh(x),
    "atanh": lambda x, y, i: lamina.atanh(x * 0.1), "deg2rad": lambda x, y, i: lamina.deg2rad(x),
    "nan_to_num": lambda x, y, i: lamina.nan_to_num(x / 0), "frexp": lambda x, y, i: lamina.frexp(x),
    "hypot": lambda x, y, i: lamina.hypot(x, y), "logaddexp": lambda x, y, i: lamina.logaddexp(x, y),
    "logaddexp2": lambda x, y, i: lamina.logaddexp2(x, y), "copysign": lambda x, y, i: lamina.copysign(x, y),
    "nextafter": lambda x, y, i: lamina.nextafter(x, y), "ldexp": lambda x, y, i: lamina.ldexp(x, i),
    "float_power": lambda x, y, i: lamina.float_power(x.abs(), y), "fmax": lambda x, y, i: lamina.fmax(x, y),
    "fmin": lambda x, y, i: lamina.fmin(x, y), "heaviside": lambda x, y, i: lamina.heaviside(x, y),
    "gcd": lambda x, y, i: lamina.gcd(i, i + 3), "lcm": lambda x, y, i: lamina.lcm(i, i + 3),
    "left_shift": lambda x, y, i: lamina.bitwise_left_shift(i, 2), "isin": lambda x, y, i: lamina.isin(i, i[:2]),
    "right_shift": lambda x, y, i: lamina.bitwise_right_shift(3, i), "bitwise_not": lambda x, y, i: ~i,
}


@pytest.mark.parametrize("name", list(PURITY))
def test_computes_through_the_backend_namespace(name, tagged):
    x = lamina.tensor([[0.5, -1.5, 2.0], [1.0, -0.25, 3.0]], requires_grad=True)
    y = lamina.tensor([0.7, 2.0, -1.0])
    i = lamina.tensor([1, 4, 6])
    out = PURITY[name](x, y, i)
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    for o in outs:
        assert type(o.array) is tagged.TaggedArray, name
    if outs[0].requires_grad and name != "heaviside":
        (g,) = lamina.autograd.grad(outs[0].sum(), x)
        assert type(g.array) is tagged.TaggedArray, name
