"""Complex values against PyTorch: elementwise, matmul, reductions, indexing, joins, views, conj/angle/sgn, errors."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

DTYPES = ["complex64", "complex128"]


def _inputs(rng, shape=(3, 4)):
    return [rng.standard_normal(shape) + 1j * rng.standard_normal(shape) for _ in range(2)]


OPS = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "pow": lambda m, a, b: a ** b, "pow_int": lambda m, a, b: a ** 2,
    "pow_float": lambda m, a, b: a ** 0.5, "rpow": lambda m, a, b: 2 ** a, "pow_cplx": lambda m, a, b: a ** (1 + 1j),
    "exp": lambda m, a, b: m.exp(a), "log": lambda m, a, b: m.log(a), "sqrt": lambda m, a, b: m.sqrt(a),
    "sin": lambda m, a, b: m.sin(a), "cos": lambda m, a, b: m.cos(a), "tan": lambda m, a, b: m.tan(a),
    "tanh": lambda m, a, b: m.tanh(a), "sinh": lambda m, a, b: m.sinh(a), "cosh": lambda m, a, b: m.cosh(a),
    "asin": lambda m, a, b: m.asin(a), "acos": lambda m, a, b: m.acos(a), "atan": lambda m, a, b: m.atan(a),
    "abs": lambda m, a, b: m.abs(a), "neg": lambda m, a, b: -a, "reciprocal": lambda m, a, b: m.reciprocal(a),
    "sigmoid": lambda m, a, b: m.sigmoid(a), "rsqrt": lambda m, a, b: m.rsqrt(a), "square": lambda m, a, b: m.square(a),
    "log2": lambda m, a, b: m.log2(a), "log10": lambda m, a, b: m.log10(a), "log1p": lambda m, a, b: m.log1p(a),
    "expm1": lambda m, a, b: m.expm1(a), "scalars": lambda m, a, b: a * 2.5 + 1j - 3,
    "div_int": lambda m, a, b: a / 2, "addcmul": lambda m, a, b: m.addcmul(a, a, b, value=2),
    "lerp": lambda m, a, b: m.lerp(a, b, 0.3), "add_alpha": lambda m, a, b: m.add(a, b, alpha=2j),
    "matmul": lambda m, a, b: a @ b.T, "mm": lambda m, a, b: m.mm(a, b.T),
    "bmm": lambda m, a, b: m.bmm(a.reshape(1, 3, 4), b.reshape(1, 4, 3)), "mv": lambda m, a, b: m.mv(a, b[0]),
    "dot": lambda m, a, b: m.dot(a[0], b[0]), "outer": lambda m, a, b: m.outer(a[0], b[0]),
    "einsum": lambda m, a, b: m.einsum("ij,kj->ik", a, b),
    "sum": lambda m, a, b: a.sum(), "sum_dim": lambda m, a, b: a.sum(1),
    "sum_keep": lambda m, a, b: a.sum((0, 1), True),
    "mean": lambda m, a, b: a.mean(0), "prod": lambda m, a, b: a.prod(1), "prod_all": lambda m, a, b: a.prod(),
    "cumsum": lambda m, a, b: m.cumsum(a, 1), "cumprod": lambda m, a, b: m.cumprod(a, 0),
    "var": lambda m, a, b: a.var(1), "std": lambda m, a, b: a.std(), "norm": lambda m, a, b: a.norm(),
    "norm1": lambda m, a, b: a.norm(p=1, dim=1),
    "slice": lambda m, a, b: a[1:, ::2], "index": lambda m, a, b: a[m.tensor([0, 2])],
    "mask": lambda m, a, b: a[a.real > 0],
    "gather": lambda m, a, b: m.gather(a, 1, m.tensor([[0], [1], [2]])),
    "cat": lambda m, a, b: m.cat([a, b], 1), "stack": lambda m, a, b: m.stack([a, b]),
    "where": lambda m, a, b: m.where(a.real > 0, a, b), "t": lambda m, a, b: a.t(),
    "reshape": lambda m, a, b: a.reshape(4, 3),
    "contiguous": lambda m, a, b: a.t().contiguous(), "flip": lambda m, a, b: m.flip(a, [0]),
    "roll": lambda m, a, b: m.roll(a, 1, 0),
    "split": lambda m, a, b: m.split(a, 2, 1)[1], "unbind": lambda m, a, b: m.unbind(a)[2],
    "expand": lambda m, a, b: a[:, :1].expand(3, 5), "masked_fill": lambda m, a, b: a.masked_fill(a.real > 0, 2j),
    "eq": lambda m, a, b: a == b, "eq_self": lambda m, a, b: a == a, "ne": lambda m, a, b: a != b,
    "isfinite": lambda m, a, b: m.isfinite(a), "isclose": lambda m, a, b: m.isclose(a, b),
    "nonzero": lambda m, a, b: m.nonzero(a), "count_nonzero": lambda m, a, b: m.count_nonzero(a),
    "conj": lambda m, a, b: m.conj(a).resolve_conj(), "conj_physical": lambda m, a, b: m.conj_physical(a),
    "angle": lambda m, a, b: a.angle(), "sgn": lambda m, a, b: a.sgn(), "real": lambda m, a, b: a.real,
    "imag": lambda m, a, b: a.imag, "view_as_real": lambda m, a, b: m.view_as_real(a),
    "view_as_real_t": lambda m, a, b: m.view_as_real(a.t()), "isreal": lambda m, a, b: m.isreal(a * (a.real > 0)),
    "polar": lambda m, a, b: m.polar(a.abs(), a.angle()), "complex": lambda m, a, b: m.complex(a.real, b.imag),
    "clone": lambda m, a, b: a.clone(), "zeros_like": lambda m, a, b: m.zeros_like(a),
    "full": lambda m, a, b: m.full((2,), 1 + 1j),
    "item": lambda m, a, b: m.tensor(a[0, 0].item()), "tolist": lambda m, a, b: m.tensor(a.tolist()),
    "arange_1j": lambda m, a, b: m.arange(3) * 1j,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_values_match_torch(name, dtype):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    a0, b0 = (x.astype(dtype) for x in _inputs(rng))
    fn = OPS[name]
    t = fn(torch, torch.from_numpy(a0.copy()), torch.from_numpy(b0.copy()))
    got = fn(lamina, lamina.from_numpy(a0.copy()), lamina.from_numpy(b0.copy()))
    assert str(got.dtype).rpartition(".")[2] == str(t.dtype).rpartition(".")[2]
    want = t.resolve_conj().numpy()
    assert got.shape == tuple(want.shape)
    tol = 2e-5 if dtype == "complex64" else 1e-12
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_match_torch(dtype):
    a = np.array([0j, complex(-0.0, 0.0), 1j, -1 + 0j, complex("inf"), complex(0, float("inf")), complex("nan")],
                 dtype=dtype)
    for fn in (lambda m, x: m.abs(x), lambda m, x: m.angle(x), lambda m, x: m.sgn(x), lambda m, x: m.exp(x),
               lambda m, x: m.isfinite(x), lambda m, x: m.isnan(x), lambda m, x: m.isreal(x)):
        with np.errstate(all="ignore"):
            got = fn(lamina, lamina.from_numpy(a.copy())).numpy()
        want = fn(torch, torch.from_numpy(a.copy())).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


def test_empty_and_zero_dim():
    for m in (lamina, torch):
        e = m.zeros(0, 3, dtype=m.complex64)
        assert tuple((e * 1j).sum(0).shape) == (3,) and tuple(m.view_as_real(e).shape) == (0, 3, 2)
    z = lamina.tensor(3 + 4j)
    assert z.abs().item() == 5.0 and z.real.item() == 3.0 and lamina.view_as_real(z).tolist() == [3.0, 4.0]
    real = [-1.0, 0.0, 2.0]
    assert lamina.angle(lamina.tensor(real)).tolist() == torch.angle(torch.tensor(real)).tolist()
    assert lamina.angle(lamina.tensor([-1, 2])).dtype is lamina.float32


# --- views ------------------------------------------------------------------------------------------
def _view_script(m) -> list:
    out = []
    z = m.tensor([1 + 2j, 3 - 4j, -1j])
    z.real.add_(10)
    out.append(z.clone())
    z.imag[1] = 7
    out.append(z.clone())
    z.imag.zero_()
    out.append(z.clone())
    m.view_as_real(z)[0, 1] = 5
    out.append(z.clone())
    f = m.zeros(3, 2)
    m.view_as_complex(f)[1] = 2 + 3j
    out.append(f.clone())
    z.real = m.tensor([0.0, 1.0, 2.0])
    z.imag = m.tensor(7.0)
    out.append(z.clone())
    z.mul_(1j)
    out.append(z.clone())
    z.add_(m.tensor([1.0, 2.0, 3.0]))
    out.append(z.clone())
    w = z.clone()
    w.conj_physical_()
    out.append(w)
    s = z.clone()
    s.sgn_()
    out.append(s)
    v = m.view_as_real(m.tensor([[1 + 2j, 3 + 4j], [5 + 6j, 7 + 8j]]).t())  # non-contiguous complex
    out.append(v.clone())
    return out


def test_views_write_through_as_torch():
    for got, want in zip(_view_script(lamina), _view_script(torch), strict=True):
        np.testing.assert_array_equal(got.numpy(), want.resolve_conj().numpy())


def test_views_share_storage_and_version():
    z = lamina.tensor([1 + 2j, 3 + 4j])
    r, i, v = z.real, z.imag, lamina.view_as_real(z)
    assert np.shares_memory(r.numpy(), z.numpy()) and np.shares_memory(i.numpy(), z.numpy())
    assert np.shares_memory(v.numpy(), z.numpy())
    before = z._version
    r.mul_(2)
    assert z._version == before + 1 and v._version == z._version
    c = lamina.view_as_complex(v)
    assert np.shares_memory(c.numpy(), z.numpy()) and c.tolist() == [2 + 2j, 6 + 4j]
    x = lamina.ones(2)
    assert x.real is x and x.conj() is x and lamina.resolve_conj(x) is x and lamina.resolve_neg(x) is x


def test_conj_is_materialised_and_documented():
    z = lamina.tensor([1 + 2j])
    y = z.conj()
    assert not y.is_conj() and not lamina.is_conj(y) and not y.is_neg() and not lamina.is_neg(y)
    assert y.resolve_conj() is y and y.resolve_neg() is y
    assert y.tolist() == [1 - 2j] and y.conj_physical().tolist() == [1 + 2j]
    y[0] = 5  # a copy: the input keeps its value (torch's lazy view would write back)
    assert z.tolist() == [1 + 2j]


# --- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn", [
    ("max", lambda m, z: m.max(z)), ("min", lambda m, z: m.min(z)),
    ("amax", lambda m, z: m.amax(z)), ("amin", lambda m, z: m.amin(z)), ("sign", lambda m, z: m.sign(z)),
    ("floor", lambda m, z: m.floor(z)), ("ceil", lambda m, z: m.ceil(z)), ("trunc", lambda m, z: m.trunc(z)),
])
def test_unsupported_ops_raise_as_torch(name, fn):
    z = [1 + 2j, 3j]
    with pytest.raises(NotImplementedError):
        fn(torch, torch.tensor(z))
    with pytest.raises(NotImplementedError, match="complex"):
        fn(lamina, lamina.tensor(z))


@pytest.mark.parametrize("fn, match", [
    (lambda m: m.max(m.tensor([1j]), 0), r"max\(\): does not support complex input"),
    (lambda m: m.min(m.tensor([1j]), 0), r"min\(\): does not support complex input"),
    (lambda m: m.imag(m.ones(2)), "imag is not implemented for tensors with non-complex dtypes"),
    (lambda m: m.view_as_real(m.ones(2)), "view_as_real is only supported for complex tensors"),
    (lambda m: m.view_as_complex(m.ones(3)), "Tensor must have a last dimension of size 2"),
    (lambda m: m.view_as_complex(m.ones(3, 2).t().contiguous().t()), "Tensor must have a last dimension with stride 1"),
    (lambda m: m.view_as_complex(m.ones(3, 3)[:, :2]), "Tensor must have a stride divisible by 2"),
    (lambda m: m.view_as_complex(m.ones(3, 2, dtype=m.int64)), "view_as_complex is only supported for half, float"),
    (lambda m: m.complex(m.ones(2), m.ones(2, dtype=m.float64)), "Expected object of scalar type"),
    (lambda m: m.complex(m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64)), "Expected both inputs to be Half, Float"),
    (lambda m: m.polar(m.ones(2), m.ones(2, dtype=m.float64)), "Expected object of scalar type"),
])
def test_errors_match_torch(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn(torch)
    with pytest.raises(RuntimeError, match=match):
        fn(lamina)
