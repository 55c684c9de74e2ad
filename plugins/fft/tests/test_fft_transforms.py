"""torch.fft parity of the 18 transforms: values, dtypes and shapes for every norm, n/s padding and
trimming, dims (and their order), odd and even lengths, real and complex inputs in float32 and
float64, integer inputs, non-contiguous inputs, NaN/inf, ``out=``; errors as torch's (type and message)."""

from __future__ import annotations

import lamina
import lamina.fft as lf
import numpy as np
import pytest
from _fft_parity import compare, host, random, torch_error

torch = pytest.importorskip("torch")

ONE_D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
TWO_D = ("fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2")
N_D = ("fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")
REAL_ONLY = ("rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn")
NORMS = (None, "backward", "ortho", "forward")


def _inputs(name):
    return (False,) if name in REAL_ONLY else (False, True)


ONE_D_ARGS = [dict(), dict(n=5), dict(n=11), dict(n=8), dict(dim=0), dict(n=3, dim=0), dict(n=1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("kw", ONE_D_ARGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("name", ONE_D)
def test_one_d_matches_torch(name, kw, norm, dtype):
    if name in ("irfft", "hfft") and kw.get("n") == 1:
        kw = dict(kw, n=2)
    for cplx in _inputs(name):
        for length in (6, 7):  # even and odd
            rng = np.random.default_rng(length)
            x = random(rng, (4, length), dtype, cplx)
            compare(lambda t: getattr(lf, name)(t, norm=norm, **kw),
                    lambda t: getattr(torch.fft, name)(t, norm=norm, **kw), [x], rng, dtype)


TWO_D_ARGS = [dict(), dict(s=(3, 5)), dict(s=(5, -1)), dict(dim=(0, 2)), dict(dim=(2, 0)), dict(s=(4, 7), dim=(0, 1))]
ND_ARGS = [(name, kw) for name in N_D for kw in TWO_D_ARGS + [dict(s=(2, 3, 6)), dict(dim=(-1,)), dict(dim=1)]] + \
          [(name, kw) for name in TWO_D for kw in TWO_D_ARGS]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name, kw", ND_ARGS, ids=[f"{n}-" + (",".join(f"{k}={v}" for k, v in kw.items()) or "default")
                                                  for n, kw in ND_ARGS])
def test_n_d_matches_torch(name, kw, norm, dtype):
    for cplx in _inputs(name):
        rng = np.random.default_rng(1)
        x = random(rng, (3, 4, 5), dtype, cplx)
        compare(lambda t: getattr(lf, name)(t, norm=norm, **kw),
                lambda t: getattr(torch.fft, name)(t, norm=norm, **kw), [x], rng, dtype)


@pytest.mark.parametrize("name", ONE_D + TWO_D + N_D)
def test_output_dtypes_follow_torch(name):
    """float32 -> complex64 (or float32), float64 -> complex128, ints and bools -> the default dtype's."""
    for dt in ("float32", "float64", "int64", "bool", "complex64", "complex128"):
        if dt.startswith("complex") and name in REAL_ONLY:
            continue
        arr = (np.arange(24).reshape(2, 3, 4) % 3).astype(dt)
        got = getattr(lf, name)(lamina.tensor(arr))
        exp = getattr(torch.fft, name)(torch.tensor(arr))
        assert str(got.dtype).split(".")[-1] == str(exp.dtype).split(".")[-1], (dt, got.dtype, exp.dtype)
        np.testing.assert_allclose(host(got), host(exp), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ("fft", "rfft", "irfft", "fftn", "rfft2", "ihfftn"))
def test_non_contiguous_and_batched_inputs(name):
    rng = np.random.default_rng(3)
    x = random(rng, (6, 5, 8), "float64")
    lx = lamina.tensor(x).transpose(0, 2)[::2]  # a strided view
    tx = torch.tensor(x).transpose(0, 2)[::2]
    np.testing.assert_allclose(host(getattr(lf, name)(lx)), host(getattr(torch.fft, name)(tx)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ("fft", "ifft", "rfft", "hfft", "fftn"))
def test_nan_and_inf_propagate_as_in_torch(name):
    x = np.arange(8, dtype=np.float64)
    x[3], x[5] = np.nan, np.inf
    got, exp = host(getattr(lf, name)(lamina.tensor(x))), host(getattr(torch.fft, name)(torch.tensor(x)))
    assert got.shape == exp.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(exp))


def test_zero_dim_input_transforms_no_dim_in_fftn_and_fails_in_fft():
    x = np.array(2.5, dtype=np.float32)
    y = lf.fftn(lamina.tensor(x))
    assert tuple(y.shape) == () and y.dtype == lamina.complex64 and complex(host(y)) == 2.5
    with pytest.raises(IndexError, match="Dimension specified as -1 but tensor has no dimensions"):
        lf.fft(lamina.tensor(x))


def test_empty_dims_return_the_input_as_complex():
    x = np.ones((2, 3), dtype=np.float32)
    for s, dim in ((None, ()), ((), None)):
        got, exp = lf.fftn(lamina.tensor(x), s=s, dim=dim), torch.fft.fftn(torch.tensor(x), s=s, dim=dim)
        assert got.dtype == lamina.complex64 and str(exp.dtype) == "torch.complex64"
        np.testing.assert_array_equal(host(got), host(exp))
    z = lamina.tensor(np.ones(3, dtype=np.complex64), requires_grad=True)
    y = lf.fftn(z, dim=())
    assert y is not z and y.grad_fn is not None  # a copy in the graph, as torch's
    y.backward(lamina.tensor(np.array([1j, 2, 3], dtype=np.complex64)))
    np.testing.assert_array_equal(host(z.grad), [1j, 2, 3])


ERRORS = [
    ("fft", ((), ), {}),                   # 0-d
    ("fft", ((0,),), {}),                  # empty along the transformed dim
    ("fft", ((4,),), {"n": 0}),
    ("fft", ((4,),), {"n": -1}),
    ("fft", ((4,),), {"dim": 1}),
    ("ifft", ((4,),), {"norm": "bad"}),
    ("rfft", ((4,),), {"complex": True}),
    ("ihfft", ((4,),), {"complex": True}),
    ("rfftn", ((2, 4),), {"complex": True}),
    ("rfft2", ((2, 4),), {"complex": True}),
    ("ihfft2", ((2, 4),), {"complex": True}),
    ("ihfftn", ((2, 4),), {"complex": True}),
    ("irfft2", ((3, 4),), {"dim": ()}),
    ("irfft", ((1,),), {}),                # n = 2 (m - 1) = 0
    ("hfft", ((3, 4),), {"n": 0}),
    ("irfftn", ((3, 1),), {}),
    ("fftn", ((3, 4),), {"s": (2,), "dim": (0, 1)}),
    ("fftn", ((3, 4),), {"dim": (0, 0)}),
    ("fftn", ((3, 4),), {"s": (2, 0)}),
    ("fftn", ((3, 4),), {"s": (2, 2, 2)}),
    ("ifftn", ((3, 4),), {"dim": (0, 5)}),
    ("rfftn", ((3, 4),), {"dim": ()}),
    ("irfftn", ((3, 4),), {"dim": ()}),
    ("hfftn", ((3, 4),), {"dim": ()}),
    ("ihfftn", ((3, 4),), {"dim": ()}),
    ("fft2", ((3,),), {}),
    ("rfft", ((),), {}),
    ("rfftn", ((),), {}),
    ("fft", ((4,),), {"half": True}),
]


@pytest.mark.parametrize("name, shapes, kw", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_match_torch(name, shapes, kw):
    kw = dict(kw)
    cplx, half = kw.pop("complex", False), kw.pop("half", False)
    x = np.ones(shapes[0], dtype=np.complex64 if cplx else np.float32)
    tx, lx = torch.tensor(x), lamina.tensor(x)
    if half:
        tx, lx = tx.half(), lx.to(lamina.float16)
    expected = torch_error(lambda: getattr(torch.fft, name)(tx, **kw))
    assert expected is not None
    etype, emsg = expected
    with pytest.raises(etype) as info:
        getattr(lf, name)(lx, **kw)
    assert str(info.value).splitlines()[0] == emsg


def test_integer_n_required():
    with pytest.raises(TypeError, match=r"argument 'n' must be int, not float"):
        lf.fft(lamina.ones(3), n=2.5)


class TestOut:
    def test_out_receives_the_result_in_place(self):
        x = lamina.tensor(np.arange(6, dtype=np.float32))
        out = lamina.zeros(6, dtype=lamina.complex64)
        r = lf.fft(x, out=out)
        assert r is out
        np.testing.assert_allclose(host(out), np.fft.fft(np.arange(6)), rtol=1e-5, atol=1e-5)

    def test_out_of_a_wider_complex_dtype_gets_the_cast_result(self):
        x = np.arange(4, dtype=np.float32)
        out = lamina.zeros(4, dtype=lamina.complex128)
        tout = torch.zeros(4, dtype=torch.complex128)
        lf.rfft(lamina.tensor(x), n=6, out=out) if False else lf.fft(lamina.tensor(x), out=out)
        torch.fft.fft(torch.tensor(x), out=tout)
        assert out.dtype == lamina.complex128
        np.testing.assert_allclose(host(out), host(tout), rtol=1e-6)

    def test_out_of_another_shape_is_resized_with_torchs_warning(self):
        x = lamina.tensor(np.arange(4, dtype=np.float32))
        out = lamina.zeros(3, dtype=lamina.complex64)
        with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
            lf.fft(x, out=out)
        assert tuple(out.shape) == (4,)
        empty = lamina.zeros(0, dtype=lamina.complex64)
        lf.fft(x, out=empty)  # an empty out is resized silently (filterwarnings=error would fail here)
        assert tuple(empty.shape) == (4,)

    def test_real_out_for_a_complex_result_and_out_with_grad_raise_as_torch(self):
        x = np.arange(4, dtype=np.float32)
        with pytest.raises(RuntimeError, match="fft expects a complex output tensor, but got Float"):
            lf.fft(lamina.tensor(x), out=lamina.zeros(4))
        with pytest.raises(RuntimeError, match="irfft expects a real output tensor, but got ComplexFloat"):
            lf.irfft(lamina.tensor(x), out=lamina.zeros(6, dtype=lamina.complex64))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lf.fft(lamina.tensor(x, requires_grad=True), out=lamina.zeros(4, dtype=lamina.complex64))


def test_namespace_holds_torch_ffts_public_functions():
    names = [n for n in dir(torch.fft) if not n.startswith("_") and callable(getattr(torch.fft, n)) and n != "Tensor"]
    missing = [n for n in names if not hasattr(lf, n)]
    assert not missing
    assert lamina.fft is lf
