"""The window functions against torch: every length from 0 to 9 and 64, periodic and symmetric,
float32 and float64, the shape parameters, the factory keywords, errors; served as lamina.<name>."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _fft_parity import host, torch_error
from lamina_fft import windows

torch = pytest.importorskip("torch")

NAMES = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]
PARAMS = {"hamming_window": [(), (0.5,), (0.6, 0.3)], "kaiser_window": [(), (0.0,), (5.0,)]}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_windows_match_torch(name, periodic, dtype):
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    for params in PARAMS.get(name, [()]):
        for n in list(range(10)) + [64]:
            got = getattr(lamina, name)(n, periodic, *params, dtype=getattr(lamina, dtype))
            exp = getattr(torch, name)(n, periodic, *params, dtype=getattr(torch, dtype))
            assert got.dtype == getattr(lamina, dtype) and tuple(got.shape) == (n,)
            np.testing.assert_allclose(host(got), host(exp), **tol, err_msg=f"{name}({n}, {periodic}, {params})")


@pytest.mark.parametrize("name", NAMES)
def test_window_factory_keywords(name):
    w = getattr(lamina, name)(8, requires_grad=True, device="cpu", layout=lamina.strided)
    assert w.requires_grad and w.is_leaf and w.dtype == lamina.get_default_dtype()
    assert getattr(lamina, name) is getattr(windows, name)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("call", [lambda m, f: f(-1), lambda m, f: f(4, dtype=m.int64)])
def test_window_errors_match_torch(name, call):
    etype, msg = torch_error(lambda: call(torch, getattr(torch, name)))
    with pytest.raises(etype) as info:
        call(lamina, getattr(lamina, name))
    got = str(info.value)
    assert got == msg or got.split(", got")[0] == msg.split(", got")[0]


def test_window_length_must_be_an_int():
    with pytest.raises(TypeError, match="window_length"):
        lamina.hann_window(4.0)
