"""fftfreq, rfftfreq, fftshift, ifftshift against torch: values, dtypes, device/requires_grad/out
keywords, gradients of the shifts, errors."""

from __future__ import annotations

import lamina
import lamina.fft as lf
import numpy as np
import pytest
from _fft_parity import compare, host, random, torch_error

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n", [-3, -2, -1, 0, 1, 2, 5, 8])
@pytest.mark.parametrize("d", [1.0, 0.1, 3])
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_freqs_match_torch(name, n, d, dtype):
    if n < 0 and name == "fftfreq":
        n = -n  # (negative lengths: fftfreq raises, below; rfftfreq counts int(n / 2) + 1 values)
    got = getattr(lf, name)(n, d, dtype=None if dtype is None else getattr(lamina, dtype))
    exp = getattr(torch.fft, name)(n, d, dtype=None if dtype is None else getattr(torch, dtype))
    assert str(got.dtype).split(".")[-1] == str(exp.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(exp.shape)
    np.testing.assert_allclose(host(got), host(exp), rtol=1e-7, atol=0)


def test_freq_keywords():
    y = lf.fftfreq(4, dtype=lamina.float64, device="cpu", requires_grad=True)
    assert y.requires_grad and y.is_leaf and y.dtype == lamina.float64 and str(y.device) == "cpu"
    out = lamina.zeros(4, dtype=lamina.float64)
    assert lf.fftfreq(4, 0.5, out=out) is out
    np.testing.assert_allclose(host(out), host(torch.fft.fftfreq(4, 0.5, dtype=torch.float64)))
    assert lf.rfftfreq(4, layout=lamina.strided).shape == (3,)


@pytest.mark.parametrize("call", [
    lambda m: m.fft.fftfreq(-1), lambda m: m.fft.rfftfreq(-4), lambda m: m.fft.fftfreq(5, dtype=m.int64),
    lambda m: m.fft.rfftfreq(5, dtype=m.int32), lambda m: m.fft.fftfreq(4.0),
])
def test_freq_errors_match_torch(call):
    etype, msg = torch_error(lambda: call(torch))
    with pytest.raises(etype) as info:
        call(lamina)
    assert str(info.value).splitlines()[0].split(": ", 1)[-1] == msg.split(": ", 1)[-1] or etype is TypeError


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("shape, dim", [((5,), None), ((6,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), (1,)),
                                        ((2, 5, 4), (0, 2)), ((2, 5, 4), -1), ((3, 4), (0, 0))])
def test_shifts_match_torch_with_gradients(name, shape, dim):
    rng = np.random.default_rng(0)
    for cplx in (False, True):
        x = random(rng, shape, "float64", cplx)
        compare(lambda t: getattr(lf, name)(t, dim), lambda t: getattr(torch.fft, name)(t, dim), [x], rng)


def test_shifts_undo_each_other_and_keep_integer_dtypes():
    x = lamina.arange(7)
    np.testing.assert_array_equal(host(lf.ifftshift(lf.fftshift(x))), np.arange(7))
    np.testing.assert_array_equal(host(lf.fftshift(x)), host(torch.fft.fftshift(torch.arange(7))))
    assert lf.fftshift(x).dtype == lamina.int64


@pytest.mark.parametrize("call", [lambda m: m.fft.fftshift(m.tensor(1.0)), lambda m: m.fft.ifftshift(m.ones(3), dim=1)])
def test_shift_errors_match_torch(call):
    etype, msg = torch_error(lambda: call(torch))
    with pytest.raises(etype) as info:
        call(lamina)
    assert str(info.value).splitlines()[0] == msg
