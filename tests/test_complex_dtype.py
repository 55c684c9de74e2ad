"""Complex dtypes against PyTorch: names, dtype methods, finfo, the promotion table, creation, repr, save/load."""

from __future__ import annotations

import io
import itertools

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

NAMES = ["bool", "int64", "int32", "float32", "float64", "complex64", "complex128"]
SHAPES = [(2,), ()]


def _name(d) -> str:
    return str(d).rpartition(".")[2]


def _ones(mod, name: str, shape: tuple):
    return mod.ones(shape, dtype=getattr(mod, name))


# --- dtype objects ----------------------------------------------------------------------------------
def test_dtype_names_and_aliases():
    assert lamina.cfloat is lamina.complex64 and lamina.cdouble is lamina.complex128
    assert lamina.chalf is lamina.complex32
    for name in ("complex32", "complex64", "complex128", "float32", "int64", "bool"):
        ld, td = getattr(lamina, name), getattr(torch, name)
        assert ld.is_complex == td.is_complex
        assert ld.is_floating_point == td.is_floating_point
        assert ld.is_signed == td.is_signed
        assert ld.itemsize == td.itemsize
        assert repr(ld) == f"lamina.{name}"


@pytest.mark.parametrize("name", ["complex64", "complex128", "float16", "float32", "float64", "int32"])
def test_to_real_to_complex(name):
    ld, td = getattr(lamina, name), getattr(torch, name)
    assert _name(ld.to_real()) == _name(td.to_real())
    if td.is_floating_point or td.is_complex:
        assert _name(ld.to_complex()) == _name(td.to_complex())
    else:
        with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for int32"):
            ld.to_complex()


def test_complex32_is_named_but_refused_clearly():
    assert lamina.float16.to_complex() is lamina.complex32
    for make in (lambda: lamina.zeros(2, dtype=lamina.complex32), lambda: lamina.ones(2).chalf(),
                 lambda: lamina.ones(2).to(lamina.chalf), lambda: lamina.ones(2, dtype=lamina.float16) * 1j):
        with pytest.raises(TypeError, match="complex32 .chalf. tensors are not supported: NumPy has no complex32"):
            make()


@pytest.mark.parametrize("name", ["complex64", "complex128", "float32", "float64", "float16"])
def test_finfo_matches_torch(name):
    lf, tf = lamina.finfo(getattr(lamina, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(lf, attr) == getattr(tf, attr), attr
    assert lf.dtype == tf.dtype
    assert repr(lf) == repr(tf)
    assert repr(lamina.finfo()) == repr(torch.finfo())


def test_finfo_iinfo_errors_and_iinfo_values():
    with pytest.raises(TypeError, match="finfo.. requires a floating point input type"):
        lamina.finfo(lamina.int32)
    with pytest.raises(TypeError, match="iinfo.. requires an integer input type"):
        lamina.iinfo(lamina.complex64)
    for name in ("int8", "int16", "int32", "int64", "uint8"):
        li, ti = lamina.iinfo(getattr(lamina, name)), torch.iinfo(getattr(torch, name))
        assert (li.bits, li.min, li.max, li.dtype) == (ti.bits, ti.min, ti.max, ti.dtype)


# --- promotion --------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, NAMES)))
def test_promotion_table_tensors(a, b):
    """Every pair, dimensioned and 0-d on each side: op result dtype and result_type as torch."""
    for sa, sb in itertools.product(SHAPES, SHAPES):
        lt = lamina.result_type(_ones(lamina, a, sa), _ones(lamina, b, sb))
        tt = torch.result_type(_ones(torch, a, sa), _ones(torch, b, sb))
        assert _name(lt) == _name(tt), (a, sa, b, sb)
        op = (lambda x, y: x * y) if a == b == "bool" else (lambda x, y: x + y)
        assert _name(op(_ones(lamina, a, sa), _ones(lamina, b, sb)).dtype) == _name(tt), (a, sa, b, sb)
    assert _name(lamina.promote_types(getattr(lamina, a), getattr(lamina, b))) == \
        _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert lamina.can_cast(getattr(lamina, a), getattr(lamina, b)) == torch.can_cast(getattr(torch, a),
                                                                                     getattr(torch, b))


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", [True, 3, 2.5, 1j, 0.5 - 2j], ids=["bool", "int", "float", "1j", "complex"])
def test_promotion_with_python_scalars(a, scalar):
    for shape in SHAPES:
        if a == "bool" and scalar is True:
            continue
        tt = (_ones(torch, a, shape) * scalar).dtype
        assert _name((_ones(lamina, a, shape) * scalar).dtype) == _name(tt)
        assert _name((scalar * _ones(lamina, a, shape)).dtype) == _name(tt)
        assert _name(lamina.result_type(_ones(lamina, a, shape), scalar)) == _name(tt)


def test_named_promotion_cases_and_scalar_recursion():
    x = lamina.ones(3)
    y = x * 1j   # recursed forever before
    assert y.dtype is lamina.complex64
    np.testing.assert_array_equal(y.numpy(), np.full(3, 1j, np.complex64))
    assert (lamina.ones(2, dtype=lamina.int64) + lamina.ones(2, dtype=lamina.complex64)).dtype is lamina.complex64
    assert (lamina.ones(2, dtype=lamina.float64) + lamina.ones(2, dtype=lamina.complex64)).dtype is lamina.complex128
    assert (lamina.ones(2) + lamina.tensor(1j, dtype=lamina.complex128)).dtype is lamina.complex64
    for x, y in [(2, 2.5), (1j, 2), (True, 1), (2.5, 1j)]:
        assert _name(lamina.result_type(x, y)) == _name(torch.result_type(x, y))
    with pytest.raises(TypeError, match="result_type: expected Tensors or Numbers, got NoneType"):
        lamina.result_type(lamina.ones(2), None)


def test_default_complex_follows_default_dtype():
    lamina.set_default_dtype(lamina.float64)
    try:
        assert lamina.tensor([1 + 2j]).dtype is lamina.complex128
        assert (lamina.ones(2, dtype=lamina.int64) * 1j).dtype is lamina.complex128
        assert repr(lamina.tensor([1j])) == "tensor([0.+1.j])"
    finally:
        lamina.set_default_dtype(lamina.float32)


# --- creation ---------------------------------------------------------------------------------------
def test_creation_dtypes_match_torch():
    for make in (lambda m: m.tensor([1 + 2j, 3]), lambda m: m.tensor(3 + 4j), lambda m: m.zeros(2, dtype=m.complex64),
                 lambda m: m.ones(2, 3, dtype=m.cdouble), lambda m: m.full((2,), 1 + 1j),
                 lambda m: m.tensor([1, 2], dtype=m.complex64), lambda m: m.tensor([1.5], dtype=complex),
                 lambda m: m.eye(2, dtype=m.complex128), lambda m: m.zeros_like(m.ones(2, dtype=m.cfloat)),
                 lambda m: m.tensor(np.array([1 + 1j], np.complex128))):
        lt, tt = make(lamina), make(torch)
        assert _name(lt.dtype) == _name(tt.dtype)
        np.testing.assert_array_equal(lt.numpy(), tt.numpy())


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_randn_complex_parts_are_normal_with_variance_half(dtype):
    lamina.manual_seed(0)
    z = lamina.randn(200_000, dtype=getattr(lamina, dtype))
    assert z.dtype is getattr(lamina, dtype) and z.shape == (200_000,)
    a = z.numpy()
    for part in (a.real, a.imag):
        assert abs(part.mean()) < 0.01 and abs(part.var() - 0.5) < 0.01
    assert abs(np.corrcoef(a.real, a.imag)[0, 1]) < 0.01
    assert lamina.randn(2, 3, dtype=lamina.cfloat).shape == (2, 3)
    assert lamina.randn((), dtype=lamina.cfloat).shape == ()
    assert lamina.randn_like(z[:4]).dtype is z.dtype


def test_conversions_and_methods():
    x = lamina.tensor([1.5, -2.0])
    for meth, name in (("cfloat", "complex64"), ("cdouble", "complex128")):
        y = getattr(x, meth)()
        assert _name(y.dtype) == name and _name(getattr(torch.tensor([1.5, -2.0]), meth)().dtype) == name
        np.testing.assert_array_equal(y.numpy(), np.array([1.5, -2.0]))
    assert x.to(lamina.complex64).is_complex() and lamina.is_complex(x.to(lamina.complex64))
    assert not x.is_complex() and not lamina.is_complex(x)
    assert lamina.ones(2, dtype=lamina.cfloat).type() == "lamina.ComplexFloatTensor"
    assert complex(lamina.tensor(1 + 2j)) == 1 + 2j and complex(lamina.tensor(2.0)) == 2 + 0j
    assert lamina.tensor([1 + 2j]).item() == 1 + 2j
    assert lamina.tensor([[1 + 2j]]).tolist() == [[1 + 2j]]


def test_complex_to_real_cast_warns_as_torch_and_keeps_the_real_part():
    z = lamina.tensor([1 + 2j, -3 - 1j])
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        r = z.float()
    np.testing.assert_array_equal(r.numpy(), np.array([1.0, -3.0], np.float32))


# --- repr -------------------------------------------------------------------------------------------
REPR_CASES = [[1 + 2j, -0.5j], [[1e-5 + 2j, 100 + 1j]], [1e10 + 1j], [complex("nan") + 1j, complex(float("inf"), -2)],
              3 + 4j, [[1 + 1j, 2 - 2j], [3.5 + 0j, -4 - 4.25j]], [0j, 0j], np.arange(20) * (1 + 0.5j),
              np.arange(2000) * (0.1 + 1j), [complex(-0.0, -0.0)], [123.456 - 7.5j, 1 + 1e-5j], np.zeros((0, 2)), []]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_repr_matches_torch(case, dtype):
    a = np.array(REPR_CASES[case], dtype=dtype)
    assert repr(lamina.from_numpy(a.copy())).replace("lamina.", "") == \
        repr(torch.from_numpy(a.copy())).replace("torch.", "")


def test_repr_with_grad():
    z = lamina.tensor([1 + 1j], requires_grad=True)
    assert repr(z) == "tensor([1.+1.j], requires_grad=True)"
    assert repr(z * 2) == "tensor([2.+2.j], grad_fn=<MulBackward>)"


# --- save / load ------------------------------------------------------------------------------------
def test_save_load_round_trip_complex(tmp_path):
    lamina.manual_seed(0)
    z64, z128 = lamina.randn(3, 2, dtype=lamina.complex64), lamina.randn(2, 3, dtype=lamina.complex128)
    obj = {"a": z64, "b": z128, "nested": [z128.t(), {"w": lamina.tensor(1j, dtype=lamina.complex128)}]}
    buf = io.BytesIO()
    lamina.save(obj, buf)
    buf.seek(0)
    back = lamina.load(buf)
    for got, want in ((back["a"], z64), (back["b"], z128), (back["nested"][0], z128.t()),
                      (back["nested"][1]["w"], obj["nested"][1]["w"])):
        assert got.dtype is want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_complex_files_interoperate_with_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    path = str(tmp_path / "c.safetensors")
    lamina.manual_seed(1)
    z64, z128 = lamina.randn(4, dtype=lamina.complex64), lamina.randn(2, dtype=lamina.complex128)
    lamina.save({"c": z64, "d": z128}, path)
    got = st.load_file(path)
    assert got["c"].dtype == torch.complex64
    np.testing.assert_array_equal(got["c"].numpy(), z64.numpy())
    # complex128 has no safetensors code: other readers see the (real, imag) pairs
    assert got["d"].dtype == torch.float64 and tuple(got["d"].shape) == (2, 2)
    np.testing.assert_array_equal(torch.view_as_complex(got["d"]).numpy(), z128.numpy())
    other = str(tmp_path / "t.safetensors")
    st.save_file({"c": torch.tensor([1 + 2j, -1j])}, other)
    back = lamina.load(other)["c"]
    assert back.dtype is lamina.complex64
    np.testing.assert_array_equal(back.numpy(), np.array([1 + 2j, -1j], np.complex64))


def test_state_dict_with_complex_parameter_round_trip(tmp_path):
    p = lamina.nn.Parameter(lamina.randn(3, dtype=lamina.complex128))
    path = str(tmp_path / "p.safetensors")
    lamina.save({"p": p}, path)
    q = lamina.load(path)["p"]
    assert isinstance(q, lamina.nn.Parameter) and q.requires_grad and q.dtype is lamina.complex128
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
