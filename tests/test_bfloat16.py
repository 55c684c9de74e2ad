"""lamina.bfloat16 against torch.bfloat16: creation, casts, repr, finfo, promotion, arithmetic, reductions,
matmul, conversions, autograd and serialization. Values are compared bit for bit where torch computes in
float32 and rounds once."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _bits_l(t) -> np.ndarray:
    return t._data.view(np.uint16)


def _bits_t(t) -> np.ndarray:
    return t.contiguous().view(torch.int16).numpy().view(np.uint16)


def _pair(*shape, scale=3.0):
    a = (RNG.standard_normal(shape) * scale).astype(np.float32)
    return lamina.tensor(a).bfloat16(), torch.tensor(a).bfloat16()


def _same(lt, tt):
    assert str(lt.dtype).replace("lamina", "torch") == str(tt.dtype)
    assert tuple(lt.shape) == tuple(tt.shape)
    if tt.dtype == torch.bfloat16:  # bit for bit, except NaN payloads (torch's vector code makes 0xFFFF)
        nan = np.isnan(tt.float().numpy())
        np.testing.assert_array_equal(np.isnan(np.asarray(lt.detach().float())), nan)
        np.testing.assert_array_equal(_bits_l(lt)[~nan], _bits_t(tt)[~nan])
    else:
        np.testing.assert_array_equal(np.asarray(lt.detach()), tt.detach().numpy())


def test_dtype_object():
    assert lamina.bfloat16.is_floating_point and not lamina.bfloat16.is_complex and lamina.bfloat16.is_signed
    assert lamina.bfloat16.itemsize == 2 and repr(lamina.bfloat16) == "lamina.bfloat16"
    assert lamina.half is lamina.float16 and lamina.bfloat16 is not lamina.float16
    import pickle

    assert pickle.loads(pickle.dumps(lamina.bfloat16)) is lamina.bfloat16


@pytest.mark.parametrize("make", ["zeros", "ones", "empty", "full", "arange", "tensor", "randn", "rand"])
def test_creation(make):
    kw = {"dtype": lamina.bfloat16}
    t = {"zeros": lambda: lamina.zeros(2, 3, **kw), "ones": lambda: lamina.ones(2, 3, **kw),
         "empty": lambda: lamina.empty(2, 3, **kw), "full": lambda: lamina.full((2, 3), 1.7, **kw),
         "arange": lambda: lamina.arange(6, **kw).reshape(2, 3), "tensor": lambda: lamina.tensor([[1.1] * 3] * 2, **kw),
         "randn": lambda: lamina.randn(2, 3, **kw), "rand": lambda: lamina.rand(2, 3, **kw)}[make]()
    assert t.dtype is lamina.bfloat16 and t.shape == (2, 3) and t.is_floating_point() and t.element_size() == 2


def test_casts_and_methods_round_as_torch():
    values = np.array([0.0, -0.0, 1.1, -2.7, 1e-40, 3.4e38, 1e39, np.inf, -np.inf, np.nan, 65504.0, 1 / 3],
                      dtype=np.float64)
    for np_dt in (np.float32, np.float64):
        with np.errstate(over="ignore"):  # 1e39 is inf in float32
            host = values.astype(np_dt)
        lt, tt = lamina.tensor(host), torch.tensor(host)
        _same(lt.to(lamina.bfloat16), tt.to(torch.bfloat16))
        _same(lt.bfloat16(), tt.bfloat16())
        _same(lt.type(lamina.bfloat16), tt.type(torch.bfloat16))
    ints = [0, 1, -7, 257, 100_000]
    _same(lamina.tensor(ints).bfloat16(), torch.tensor(ints).bfloat16())
    with np.errstate(over="ignore"):
        host = values.astype(np.float32)
    back = lamina.tensor(host).bfloat16()
    _same(back.float(), torch.tensor(host).bfloat16().float())
    _same(back.to(lamina.float16), torch.tensor(host).bfloat16().half())
    assert lamina.ones(2).bfloat16().type() == "lamina.BFloat16Tensor"


def test_repr_matches_torch():
    vals = [1.1, 2.5, -3.0]
    assert repr(lamina.tensor(vals, dtype=lamina.bfloat16)) == \
        repr(torch.tensor(vals, dtype=torch.bfloat16)).replace("torch", "lamina")
    assert repr(lamina.zeros(2, 2, dtype=lamina.bfloat16)) == \
        repr(torch.zeros(2, 2, dtype=torch.bfloat16)).replace("torch", "lamina")
    assert repr(lamina.tensor(1e20, dtype=lamina.bfloat16)) == \
        repr(torch.tensor(1e20, dtype=torch.bfloat16)).replace("torch", "lamina")


def test_finfo():
    a, b = lamina.finfo(lamina.bfloat16), torch.finfo(torch.bfloat16)
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(a, k) == getattr(b, k), k
    assert a.dtype == "bfloat16" and repr(a) == repr(b)


PROMOTIONS = ["float16", "float32", "float64", "int8", "int64", "uint8", "bool", "complex64", "complex128",
              "bfloat16"]


@pytest.mark.parametrize("other", PROMOTIONS)
def test_promote_types(other):
    lo, to = getattr(lamina, other if other != "bool" else "bool"), getattr(torch, other)
    assert str(lamina.promote_types(lamina.bfloat16, lo)) == str(torch.promote_types(torch.bfloat16, to)) \
        .replace("torch", "lamina")
    assert str(lamina.promote_types(lo, lamina.bfloat16)) == str(torch.promote_types(to, torch.bfloat16)) \
        .replace("torch", "lamina")
    lt = (lamina.ones(2, dtype=lamina.bfloat16) + lamina.ones(2, dtype=lo)).dtype
    tt = (torch.ones(2, dtype=torch.bfloat16) + torch.ones(2, dtype=to)).dtype
    assert str(lt) == str(tt).replace("torch", "lamina")


def test_promotion_with_scalars_and_zero_dim():
    x = lamina.ones(3, dtype=lamina.bfloat16)
    assert (x * 2).dtype is lamina.bfloat16 and (x * 2.5).dtype is lamina.bfloat16
    assert (x + lamina.tensor(2.0)).dtype is lamina.bfloat16  # a 0-d float32 does not widen
    assert (x + lamina.tensor(2.0, dtype=lamina.float64)).dtype is lamina.bfloat16
    assert (lamina.ones(3) + lamina.tensor(2.0, dtype=lamina.bfloat16)).dtype is lamina.float32
    assert (lamina.ones(3, dtype=lamina.int64) + lamina.tensor(2.0, dtype=lamina.bfloat16)).dtype is lamina.bfloat16
    assert lamina.result_type(x, 2.5) is lamina.bfloat16
    assert (x + 1j).dtype is lamina.complex64 and (torch.ones(3, dtype=torch.bfloat16) + 1j).dtype == torch.complex64


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_ops_bitwise(op):
    la, ta = _pair(4, 5)
    lb, tb = _pair(4, 5)
    _same(getattr(lamina, op)(la, lb), getattr(torch, op)(ta, tb))
    lc, tc = _pair(5)  # broadcasting, and non-contiguous operands
    _same(getattr(lamina, op)(la, lc), getattr(torch, op)(ta, tc))
    _same(getattr(lamina, op)(la.t(), lb.t()), getattr(torch, op)(ta.t(), tb.t()))


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "abs", "neg", "relu"])
def test_unary_ops_bitwise(op):
    la, ta = _pair(64, scale=2.0)
    if op in ("log", "sqrt"):
        la, ta = la.abs(), ta.abs()
    _same(getattr(lamina, op)(la), getattr(torch, op)(ta))


def test_reductions_accumulate_in_float32():
    la, ta = _pair(1000, scale=1.0)
    _same(la.sum(), ta.sum())
    _same(la.mean(), ta.mean())
    lm, tm = _pair(30, 40)
    _same(lm.sum(0), tm.sum(0))
    _same(lm.sum(1, keepdim=True), tm.sum(1, keepdim=True))
    _same(lm.mean(1), tm.mean(1))
    _same(lm.amax(1), tm.amax(1))


@pytest.mark.parametrize("shapes", [((4, 8), (8, 3)), ((2, 4, 8), (2, 8, 3)), ((8,), (8, 3)), ((4, 8), (8,))])
def test_matmul_rounds_once(shapes):
    a = RNG.integers(-4, 5, shapes[0]).astype(np.float32) / 4  # exact float32 products: one rounding at the end
    b = RNG.integers(-4, 5, shapes[1]).astype(np.float32) / 8
    la, ta = lamina.tensor(a).bfloat16(), torch.tensor(a).bfloat16()
    lb, tb = lamina.tensor(b).bfloat16(), torch.tensor(b).bfloat16()
    _same(la @ lb, ta @ tb)


def test_matmul_general_values_within_one_ulp():
    la, ta = _pair(16, 32)
    lb, tb = _pair(32, 8)
    out, ref = la @ lb, ta @ tb
    assert out.dtype is lamina.bfloat16
    np.testing.assert_allclose(np.asarray(out.float()), ref.float().numpy(), rtol=2 ** -7, atol=1e-2)
    np.testing.assert_array_equal(_bits_l(lamina.mm(la, lb)), _bits_l(out))


def test_item_tolist_numpy():
    assert lamina.tensor(1.1, dtype=lamina.bfloat16).item() == torch.tensor(1.1, dtype=torch.bfloat16).item()
    vals = [1.1, 2.0, -3.3]
    assert lamina.tensor(vals, dtype=lamina.bfloat16).tolist() == torch.tensor(vals, dtype=torch.bfloat16).tolist()
    with pytest.raises(TypeError, match="BFloat16"):
        lamina.ones(2, dtype=lamina.bfloat16).numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        torch.ones(2, dtype=torch.bfloat16).numpy()
    assert float(lamina.tensor(2.5, dtype=lamina.bfloat16)) == 2.5


def test_foreign_ml_dtypes_array_becomes_bfloat16():
    import ml_dtypes

    arr = np.array([1.5, -2.25], dtype=ml_dtypes.bfloat16)
    assert lamina.tensor(arr).dtype is lamina.bfloat16
    assert lamina.from_numpy(arr).dtype is lamina.bfloat16


def test_autograd_through_bfloat16():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    w = RNG.standard_normal((4, 2)).astype(np.float32)
    lx = lamina.tensor(a).bfloat16().requires_grad_()
    lw = lamina.tensor(w).bfloat16().requires_grad_()
    tx = torch.tensor(a).bfloat16().requires_grad_()
    tw = torch.tensor(w).bfloat16().requires_grad_()
    ((lx @ lw).tanh() * lx.sum(1, keepdim=True)).sum().backward()
    ((tx @ tw).tanh() * tx.sum(1, keepdim=True)).sum().backward()
    assert lx.grad.dtype is lamina.bfloat16 and lw.grad.dtype is lamina.bfloat16
    np.testing.assert_allclose(np.asarray(lx.grad.float()), tx.grad.float().numpy(), rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(np.asarray(lw.grad.float()), tw.grad.float().numpy(), rtol=2e-2, atol=2e-2)
    # a cast in the graph sends float32 gradients back as bfloat16
    y = lamina.tensor([1.5, -2.0]).bfloat16().requires_grad_()
    (y.float() * 3).sum().backward()
    assert y.grad.dtype is lamina.bfloat16 and y.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError):
        lamina.ones(2, dtype=lamina.int64).requires_grad_()
    assert lamina.ones(2, dtype=lamina.bfloat16).requires_grad_().requires_grad


def test_save_load_round_trip(tmp_path):
    x = lamina.tensor([[1.1, -2.5, 3e38], [float("inf"), float("nan"), 1e-40]]).bfloat16()
    path = tmp_path / "m.safetensors"
    lamina.save({"x": x, "nested": {"y": x[0]}, "step": 3}, path)
    back = lamina.load(path)
    assert back["x"].dtype is lamina.bfloat16 and back["step"] == 3
    np.testing.assert_array_equal(_bits_l(back["x"]), _bits_l(x))
    np.testing.assert_array_equal(_bits_l(back["nested"]["y"]), _bits_l(x[0]))


def test_import_lamina_does_not_import_ml_dtypes():
    import subprocess
    import sys

    code = ("import sys, lamina; assert 'ml_dtypes' not in sys.modules; d = lamina.bfloat16; "
            "assert 'ml_dtypes' not in sys.modules; x = lamina.zeros(2, dtype=d); assert 'ml_dtypes' in sys.modules; "
            "print(x.dtype)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "lamina.bfloat16"


@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
@pytest.mark.parametrize("op", ["mul", "div", "add", "sub", "rmul", "rdiv", "radd", "rsub"])
@pytest.mark.parametrize("scalar", [1.01, 3, 0.1, -7.3])
def test_16_bit_tensor_with_a_python_number_bitwise(dt, op, scalar):
    """torch multiplies/divides in float32 without rounding the number; add/sub round it first; number / tensor
    is reciprocal() * number."""
    v = (np.random.default_rng(3).standard_normal(500) * 10).astype(np.float32)
    la, ta = lamina.tensor(v).to(getattr(lamina, dt)), torch.tensor(v).to(getattr(torch, dt))
    fn = {"mul": lambda t: t * scalar, "div": lambda t: t / scalar, "add": lambda t: t + scalar,
          "sub": lambda t: t - scalar, "rmul": lambda t: scalar * t, "rdiv": lambda t: scalar / t,
          "radd": lambda t: scalar + t, "rsub": lambda t: scalar - t}[op]
    lo, to = fn(la), fn(ta)
    assert str(lo.dtype).replace("lamina", "torch") == str(to.dtype)
    np.testing.assert_array_equal(np.asarray(lo.float()), to.float().numpy())


def test_float32_number_over_tensor_is_reciprocal_times_number():
    v = (np.random.default_rng(4).standard_normal(2000) * 10).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(2.3 / lamina.tensor(v)), (2.3 / torch.tensor(v)).numpy())
    x = lamina.tensor([1.0, 2.0, -4.0], dtype=lamina.float64, requires_grad=True)
    assert lamina.testing.gradcheck(lambda t: 2.5 / t, (x,))


@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
@pytest.mark.parametrize("op", ["add", "sub"])
def test_16_bit_add_sub_with_alpha_within_one_ulp(dt, op):
    v = (np.random.default_rng(5).standard_normal(2000) * 10).astype(np.float32)
    la, ta = lamina.tensor(v).to(getattr(lamina, dt)), torch.tensor(v).to(getattr(torch, dt))
    lo = getattr(lamina, op)(la, la * 0.7, alpha=0.3)
    to = getattr(torch, op)(ta, ta * 0.7, alpha=0.3)
    got, ref = np.asarray(lo.float()), to.float().numpy()
    ulp = np.abs(ref) * (2.0 ** -7 if dt == "bfloat16" else 2.0 ** -10) + 1e-30
    assert (got != ref).mean() < 0.01 and np.all(np.abs(got - ref) <= ulp)


@pytest.mark.parametrize("op", ["softmax", "cumsum", "cumprod"])
def test_fused_ops_compute_in_float32_and_round_once(op):
    la, ta = _pair(40, 6, scale=1.0)
    fn = {"softmax": lambda t: t.softmax(1), "cumsum": lambda t: t.cumsum(1), "cumprod": lambda t: t.cumprod(1)}[op]
    _same(fn(la), fn(ta))
    lx = la.detach().requires_grad_()
    fn(lx).sum().backward()
    assert lx.grad.dtype is lamina.bfloat16


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "silu", "gelu", "linear"])
def test_plugin_ops_compute_in_float32_and_round_once(op):
    la, ta = _pair(8, 6, scale=2.0)
    lw, tw = _pair(3, 6)

    def fn(mod, t, w):
        F = mod.nn.functional
        return {"layer_norm": lambda: F.layer_norm(t, (6,)),
                "group_norm": lambda: F.group_norm(t[None].transpose(1, 2).contiguous(), 2),
                "silu": lambda: F.silu(t), "gelu": lambda: F.gelu(t),
                "linear": lambda: F.linear(t, w)}[op]()

    out = fn(lamina, la, lw)
    if op in ("linear", "gelu"):  # a GEMM's float32 sums in another order, gelu's erf in the far tail:
        ref = fn(torch, ta, tw).float().numpy()  # within one bf16 ulp
        assert out.dtype is lamina.bfloat16
        np.testing.assert_allclose(np.asarray(out.float()), ref, rtol=2 ** -7, atol=1e-2 if op == "linear" else 1e-6)
    else:
        _same(out, fn(torch, ta, tw))
