"""In-place forms ``op_`` (``lamina.tan_(x)``, ``x.eq_(y)``, ``x.bitwise_and_(y)``) against torch: values, the
dtype kept, ``self`` returned, the version counter, the leaf error, torch's cast rule, and gradients through a
non-leaf in-place op."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _oracle import assert_close

torch = pytest.importorskip("torch")

R = np.random.default_rng(20)

# name -> input domain ("real", "pos": (0.5, 2), "unit": (-0.9, 0.9))
UNARY = {
    "abs": "real", "acos": "unit", "arccos": "unit", "arcsin": "unit", "arctan": "real", "asin": "unit",
    "atan": "real", "ceil": "real", "cos": "real", "cosh": "real", "exp": "real", "expm1": "real", "fix": "real",
    "floor": "real", "frac": "real", "log10": "pos", "log1p": "pos", "log2": "pos", "log": "pos", "neg": "real",
    "negative": "real", "reciprocal": "pos", "relu": "real", "round": "real", "rsqrt": "pos", "sigmoid": "real",
    "sin": "real", "sinh": "real", "sqrt": "pos", "square": "real", "tan": "unit", "tanh": "real", "trunc": "real",
}
TOPLEVEL = sorted(UNARY)
METHODS = sorted(UNARY)
# ops whose derivative is zero almost everywhere or undefined at the sampled points are left out of gradcheck
SMOOTH = sorted(set(UNARY) - {"ceil", "floor", "round", "trunc", "fix"})
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]


def draw(domain: str, shape=(3, 4)) -> np.ndarray:
    if domain == "pos":
        return R.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return R.uniform(-0.9, 0.9, shape)
    return R.standard_normal(shape) * 2


def pair(arr: np.ndarray, **kw):
    return lamina.tensor(arr, **kw), torch.tensor(arr, **kw)


def call(lib, name: str, form: str, x, *args, **kwargs):
    if form == "function":
        return getattr(lib, name + "_")(x, *args, **kwargs)
    return getattr(x, name + "_")(*args, **kwargs)


def check_inplace_result(got, x, v0, ref, xt):
    """``got`` is ``x`` itself, changed once, equal to torch's and of the dtype it had."""
    assert got is x
    assert x._version == v0 + 1
    assert_close(x, xt)
    assert_close(ref, xt)


# ---- unary ops ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", TOPLEVEL)
def test_unary_inplace_matches_torch(name, dtype, form):
    arr = draw(UNARY[name]).astype(dtype)
    x, xt = pair(arr)
    v0 = x._version
    got, ref = call(lamina, name, form, x), call(torch, name, form, xt)
    check_inplace_result(got, x, v0, ref, xt)


@pytest.mark.parametrize("name", TOPLEVEL)
def test_unary_inplace_through_a_non_contiguous_view_writes_the_base(name):
    arr = draw(UNARY[name], (4, 3))
    base, base_t = pair(arr)
    x, xt = base.t(), base_t.t()
    call(lamina, name, "method", x), call(torch, name, "method", xt)
    assert_close(base, base_t)
    assert_close(x, xt)


@pytest.mark.parametrize("name", TOPLEVEL)
@pytest.mark.parametrize("shape", [(), (0,), (0, 3)])
def test_unary_inplace_on_empty_and_0d(name, shape):
    x, xt = pair(draw(UNARY[name], shape))
    assert call(lamina, name, "function", x) is x
    call(torch, name, "function", xt)
    assert_close(x, xt)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy warns for acos(inf) and the like
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("name", TOPLEVEL)
def test_unary_inplace_nan_and_inf_as_torch(name):
    x, xt = pair(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5]))
    call(lamina, name, "method", x), call(torch, name, "method", xt)
    assert_close(x, xt)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # lamina's log(0), acos(2) warn as NumPy does
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("form", ["method", "out-of-place"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", TOPLEVEL)
def test_unary_inplace_on_integer_tensors_casts_or_raises_as_torch(name, dtype, form):
    arr = np.array([0, 1, 2, 3]).astype(dtype)
    x, xt = pair(arr)

    def run(lib, t):
        return call(lib, name, "method", t) if form == "method" else getattr(lib, name)(t)

    try:
        ref = run(torch, xt)
    except Exception as e:  # noqa: BLE001  (torch refuses: lamina raises the same error with the same message)
        with pytest.raises(type(e)) as info:
            run(lamina, x)
        assert str(info.value) == str(e)
        np.testing.assert_array_equal(x.numpy(), arr)  # nothing written
    else:
        got = run(lamina, x)
        assert_close(got, ref)
        assert_close(x, xt)
        assert (got is x) == (form == "method")


def test_the_cast_rule_message_is_torchs():
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired output type Long$"):
        lamina.arange(3).sqrt_()
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired output type Long$"):
        lamina.sqrt_(lamina.arange(3))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Int"):
        lamina.arange(3, dtype=lamina.int32).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        lamina.tensor([True, False]).add_(1)
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the desired output type Float"):
        lamina.ones(2).mul_(lamina.tensor([1j, 2j]))
    # a float result goes into a tensor of another float type, and an int into a wider or narrower int
    x = lamina.ones(2, dtype=lamina.float32).add_(lamina.ones(2, dtype=lamina.float64))
    assert x.dtype == lamina.float32
    y = lamina.ones(2, dtype=lamina.int8).add_(lamina.ones(2, dtype=lamina.int64))
    assert y.dtype == lamina.int8


def test_the_cast_rule_holds_under_autograd_too():
    w = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the desired output type Float"):
        y.mul_(lamina.tensor([1j, 2j]))


@pytest.mark.parametrize("name", TOPLEVEL)
def test_unary_inplace_on_a_leaf_that_requires_grad_raises(name):
    x = lamina.tensor(draw(UNARY[name]), requires_grad=True)
    xt = torch.tensor(draw(UNARY[name]), requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        call(torch, name, "function", xt)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        call(lamina, name, "function", x)


@pytest.mark.parametrize("name", TOPLEVEL)
def test_gradient_through_a_non_leaf_inplace_op_matches_torch(name):
    arr = draw(UNARY[name])
    w = R.standard_normal(arr.shape)
    x, xt = pair(arr, requires_grad=True)
    y, yt = x * 1.0, xt * 1.0
    call(lamina, name, "function", y), call(torch, name, "function", yt)
    assert_close(y.detach(), yt.detach())
    (y * lamina.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("name", SMOOTH)
def test_inplace_forms_pass_gradcheck_and_gradgradcheck(name):
    x = lamina.tensor(draw(UNARY[name], (2, 3)), requires_grad=True)

    def f(t):
        return call(lamina, name, "method", t * 1.0)

    assert lamina.testing.gradcheck(f, (x,))
    if name not in ("relu", "abs"):
        assert lamina.testing.gradgradcheck(f, (x,))


# ---- ops with arguments -----------------------------------------------------------------------------------------

ARGUMENTS = [
    ("clamp", (-0.5, 0.7), {}), ("clamp", (), {"min": 0.1}), ("clamp", (), {"max": -0.1}),
    ("clip", (-0.5, 0.7), {}), ("clamp_min", (0.2,), {}), ("clamp_max", (0.2,), {}),
    ("round", (), {"decimals": 2}), ("round", (), {"decimals": -1}),
]


@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("name, args, kwargs", ARGUMENTS)
def test_inplace_with_arguments_matches_torch(name, args, kwargs, form):
    x, xt = pair(draw("real") * 10 if name == "round" else draw("real"))
    v0 = x._version
    got, ref = call(lamina, name, form, x, *args, **kwargs), call(torch, name, form, xt, *args, **kwargs)
    check_inplace_result(got, x, v0, ref, xt)


@pytest.mark.parametrize("form", ["function", "method"])
def test_clamp_inplace_with_tensor_bounds_broadcast(form):
    x, xt = pair(draw("real"))
    lo, hi = R.uniform(-1, 0, (4,)), R.uniform(0, 1, (3, 1))
    got = call(lamina, "clamp", form, x, lamina.tensor(lo), lamina.tensor(hi))
    call(torch, "clamp", form, xt, torch.tensor(lo), torch.tensor(hi))
    assert got is x
    assert_close(x, xt)


def test_clamp_inplace_of_an_integer_tensor_with_a_float_bound_raises_as_torch():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        torch.arange(4).clamp_(0.5)  # torch says "long int" here, "Long" elsewhere
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        lamina.arange(4).clamp_(0.5)
    x, xt = lamina.arange(5), torch.arange(5)
    x.clamp_(1, 3), xt.clamp_(1, 3)
    assert_close(x, xt)


def test_atan2_inplace_values_broadcast_and_gradients():
    a, b = draw("real"), R.uniform(0.5, 2.0, (4,))
    x, xt = pair(a, requires_grad=True)
    o, ot = pair(b, requires_grad=True)
    y, yt = x * 1.0, xt * 1.0
    assert y.atan2_(o) is y
    yt.atan2_(ot)
    assert_close(y.detach(), yt.detach())
    y.sum().backward(), yt.sum().backward()
    assert_close(x.grad, xt.grad)
    assert_close(o.grad, ot.grad)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        lamina.ones(4).atan2_(lamina.ones(3, 4))
    assert lamina.testing.gradcheck(lambda s, t: (s * 1.0).atan2_(t), (x.detach().requires_grad_(), o))


@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_conj_physical_inplace(form, dtype):
    arr = (R.standard_normal((3,)) + 1j * R.standard_normal((3,))).astype(dtype)
    x, xt = pair(arr)
    v0 = x._version
    got = call(lamina, "conj_physical", form, x)
    call(torch, "conj_physical", form, xt)
    assert got is x and x._version == v0 + 1 and x.dtype == getattr(lamina, dtype)
    np.testing.assert_array_equal(x.numpy(), xt.numpy())


# ---- comparisons, logical and bitwise ops: self keeps its dtype -------------------------------------------------

def _others(self_dtype):
    """Right operands: a broadcast tensor of each kind, a 0-d tensor, python scalars."""
    vals = np.array([0.0, 1.0, 1.5, 2.0])
    return [
        ("float64 row", lambda lib: lib.tensor(vals)),
        ("int64 row", lambda lib: lib.tensor(vals.astype(np.int64))),
        ("bool row", lambda lib: lib.tensor(vals > 1)),
        ("0-d float", lambda lib: lib.tensor(1.0)),
        ("float scalar", lambda lib: 1.5),
        ("int scalar", lambda lib: 1),
    ]


SELF = {
    "float32": np.array([[0.0, 1.0, 2.0, np.nan], [1.5, -1.0, 1.0, 2.0]], dtype=np.float32),
    "float64": np.array([[0.0, 1.0, 2.0, np.inf], [1.5, -1.0, 1.0, 2.0]]),
    "int64": np.array([[0, 1, 2, 3], [1, -1, 1, 2]]),
    "int8": np.array([[0, 1, 2, 3], [1, -1, 1, 2]], dtype=np.int8),
    "bool": np.array([[True, False, True, False], [False, False, True, True]]),
}


@pytest.mark.parametrize("other", range(6), ids=[o[0] for o in _others(None)])
@pytest.mark.parametrize("dtype", sorted(SELF))
@pytest.mark.parametrize("name", COMPARE + LOGICAL)
def test_comparison_and_logical_inplace_keep_self_dtype(name, dtype, other):
    make = _others(dtype)[other][1]
    x, xt = pair(SELF[dtype])
    v0 = x._version
    try:
        ref = getattr(xt, name + "_")(make(torch))
    except TypeError as e:  # torch's logical_and_(1.0): the other operand must be a Tensor
        with pytest.raises(TypeError) as got:
            getattr(x, name + "_")(make(lamina))
        assert str(got.value) == str(e)
    else:
        check_inplace_result(getattr(x, name + "_")(make(lamina)), x, v0, ref, xt)


@pytest.mark.parametrize("dtype", sorted(SELF))
def test_logical_not_inplace(dtype):
    x, xt = pair(SELF[dtype])
    assert x.logical_not_() is x
    xt.logical_not_()
    assert_close(x, xt)


@pytest.mark.parametrize("name", COMPARE + LOGICAL)
def test_comparison_inplace_on_a_non_contiguous_view_and_empty(name):
    base, base_t = pair(draw("real", (4, 3)).round())
    getattr(base.t(), name + "_")(lamina.tensor(0.0))
    getattr(base_t.t(), name + "_")(torch.tensor(0.0))
    assert_close(base, base_t)
    e, et = pair(np.zeros((0, 2)))
    assert getattr(e, name + "_")(lamina.tensor(1.0)) is e
    getattr(et, name + "_")(torch.tensor(1.0))
    assert_close(e, et)


@pytest.mark.parametrize("name", COMPARE + LOGICAL)
def test_comparison_inplace_errors_as_torch(name):
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]"):
        getattr(torch.ones(2), name + "_")(torch.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]"):
        getattr(lamina.ones(2), name + "_")(lamina.ones(2, 2))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(lamina.ones(2, requires_grad=True), name + "_")(lamina.tensor(1.0))


@pytest.mark.parametrize("name", COMPARE)
def test_comparison_inplace_in_the_graph_gives_a_zero_gradient_as_torch(name):
    arr = draw("real")
    x, xt = pair(arr, requires_grad=True)
    y, yt = x * 2.0, xt * 2.0
    getattr(y, name + "_")(0.3), getattr(yt, name + "_")(0.3)
    assert y.requires_grad and yt.requires_grad
    assert_close(y.detach(), yt.detach())
    ((y + x) * 3).sum().backward(), ((yt + xt) * 3).sum().backward()
    assert_close(x.grad, xt.grad)


BITWISE_CASES = [
    ("int64", lambda lib: lib.tensor([3, 5, 6, -1])),
    ("int64", lambda lib: 6),
    ("int8", lambda lib: lib.tensor([3, 5, 6, -1])),
    ("int8", lambda lib: lib.tensor(12, dtype=lib.int64)),
    ("bool", lambda lib: lib.tensor([True, False, True, True])),
    ("bool", lambda lib: True),
]


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("case", range(len(BITWISE_CASES)))
def test_bitwise_inplace_matches_torch(name, case):
    dtype, make = BITWISE_CASES[case]
    x, xt = pair(SELF[dtype])
    v0 = x._version
    got, ref = getattr(x, name + "_")(make(lamina)), getattr(xt, name + "_")(make(torch))
    check_inplace_result(got, x, v0, ref, xt)


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("self_dtype, other", [("float32", 1), ("float64", None), ("int64", 1.5),
                                               ("bool", 1), ("int64", "float"), ("int8", None)])
def test_bitwise_results_and_errors_as_torch(name, self_dtype, other):
    def arg(lib):
        if other is None:
            return lib.ones(2, dtype=lib.int64)
        if other == "float":
            return lib.ones(2, dtype=lib.float64)
        return other

    for op in (name, name + "_"):
        x, xt = pair(SELF[self_dtype][0, :2])
        try:
            ref = getattr(xt, op)(arg(torch))
        except Exception as e:  # noqa: BLE001  (whatever torch raises, lamina raises with the same message)
            with pytest.raises(type(e)) as got:
                getattr(x, op)(arg(lamina))
            assert str(got.value) == str(e)
        else:
            assert_close(getattr(x, op)(arg(lamina)), ref)
            assert_close(x, xt)
