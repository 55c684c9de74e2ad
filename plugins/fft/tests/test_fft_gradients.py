"""Gradients of the transforms: torch's convention for complex numbers (the gradient of a real loss
is dL/dRe + i dL/dIm), checked three ways: against torch (through the core's complex ops and with
complex output gradients), against dense float64 Jacobians built from the definitions (the rfft
halving and irfft doubling of the middle bins), and by central differences (gradcheck and
gradgradcheck through real views). A deliberately broken backward must fail these checks."""

from __future__ import annotations

import lamina
import lamina.fft as lf
import numpy as np
import pytest
from _fft_parity import compare, host, random
from lamina.testing import GradcheckError, gradcheck, gradgradcheck
from lamina_fft import _ops
from lamina_fft._framing import AsRealPairs, FromRealPairs

torch = pytest.importorskip("torch")

REAL_IN = ("rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn")
REAL_OUT = ("irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn")
ALL = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn") + REAL_IN + REAL_OUT


def _as_real(name, **kw):
    """name seen as a map between real arrays (complex values as real pairs (*, 2))."""
    f = getattr(lf, name)

    def fn(x):
        y = f(x if name in REAL_IN else FromRealPairs.apply(x), **kw)
        return y if name in REAL_OUT else AsRealPairs.apply(y)
    return fn


def _input(name, rng, shape):
    full = shape if name in REAL_IN else shape + (2,)
    return lamina.tensor(rng.standard_normal(full), requires_grad=True)


def _kwargs(name, length):
    one_d = not name.endswith(("2", "n"))
    size = {"n": length} if one_d else {"s": (3, length)}
    return [dict(), dict(norm="ortho"), dict(norm="forward"), size, dict(size, norm="ortho")]


@pytest.mark.parametrize("length", [5, 6, 9])  # trimmed, kept, padded for a last dim of 6 (odd and even)
@pytest.mark.parametrize("name", ALL)
def test_gradcheck_float64(name, length):
    rng = np.random.default_rng(length)
    for kw in _kwargs(name, length):
        x = _input(name, rng, (3, 6) if name.endswith(("2", "n")) else (2, 6))
        assert gradcheck(_as_real(name, **kw), (x,)), kw


@pytest.mark.parametrize("name", ALL)
def test_gradgradcheck_float64(name):
    rng = np.random.default_rng(0)
    x = _input(name, rng, (3, 5) if name.endswith(("2", "n")) else (2, 5))
    assert gradgradcheck(_as_real(name, norm="ortho"), (x,))


def _dense(fn, n_in, complex_in):
    """The real Jacobian columns of fn at unit inputs: fn(e_k) and, for complex inputs, fn(i e_k)."""
    cols = []
    for k in range(n_in):
        e = np.zeros(n_in, dtype=np.complex128 if complex_in else np.float64)
        e[k] = 1
        cols.append(fn(e))
        if complex_in:
            cols.append(fn(1j * e))
    return cols


@pytest.mark.parametrize("n", [7, 8])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_rfft_backward_halves_the_middle_bins_as_the_definition_says(n, norm):
    """For real x and y = rfft(x), dL/dx_j = sum_k Re(conj(g_k) dy_k/dx_j): with g = 1 at one bin, the
    gradient is the real part of that bin's DFT row; the backward formula (irfft of g with the middle
    bins halved) must reproduce these columns exactly, DC and Nyquist included."""
    rng = np.random.default_rng(n)
    x = lamina.tensor(rng.standard_normal(n), requires_grad=True)
    y = lf.rfft(x, norm=norm)
    for k in range(n // 2 + 1):
        for unit in (1.0, 1j):
            g = np.zeros(n // 2 + 1, dtype=np.complex128)
            g[k] = unit
            x.grad = None
            lf.rfft(x, norm=norm).backward(lamina.tensor(g))
            row = np.array([np.vdot(g, np.fft.rfft(np.eye(n)[j], norm=norm)).real for j in range(n)])
            np.testing.assert_allclose(host(x.grad), row, atol=1e-12)
    assert tuple(y.shape) == (n // 2 + 1,)


@pytest.mark.parametrize("n", [7, 8])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_irfft_backward_doubles_the_middle_bins_and_drops_dc_and_nyquist_imaginary_parts(n, norm):
    """For y = irfft(z, n), dL/dRe z_k + i dL/dIm z_k from the definition (irfft of unit inputs): the
    middle bins count twice, the imaginary parts of the DC (and, for even n, Nyquist) bins not at all."""
    rng = np.random.default_rng(n)
    m = n // 2 + 1
    z = lamina.tensor(random(rng, (m,), "float64", complex_=True), requires_grad=True)
    g = rng.standard_normal(n)
    lf.irfft(z, n=n, norm=norm).backward(lamina.tensor(g))
    cols = _dense(lambda e: np.fft.irfft(e, n=n, norm=norm), m, True)
    expected = np.array([g @ cols[2 * k] + 1j * (g @ cols[2 * k + 1]) for k in range(m)])
    np.testing.assert_allclose(host(z.grad), expected, atol=1e-12)
    assert expected[0].imag == 0 and (n % 2 or expected[-1].imag == 0)
    # the same, as the closed form: rfft(g) scaled as irfft scales, the middle bins doubled
    closed = np.fft.rfft(g) * {"backward": 1.0 / n, "ortho": 1.0 / np.sqrt(n), "forward": 1.0}[norm]
    closed[1:1 + (n - 1) // 2] *= 2
    np.testing.assert_allclose(host(z.grad), closed, atol=1e-12)


def test_a_backward_without_the_halving_is_caught(monkeypatch):
    """The checks above can fail: drop the halving of the middle bins and gradcheck reports the mismatch."""
    x = lamina.tensor(np.random.default_rng(0).standard_normal(8), requires_grad=True)
    assert gradcheck(_as_real("rfft"), (x,))
    monkeypatch.setattr(_ops, "_middle", lambda n: slice(1, 1))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(_as_real("rfft"), (x,))


def test_a_backward_with_the_wrong_norm_is_caught(monkeypatch):
    x = lamina.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(_as_real("fft", norm="forward"), (x,))
    monkeypatch.setattr(_ops, "DUAL", {"backward": "backward", "forward": "forward", "ortho": "ortho"})
    with pytest.raises(GradcheckError):
        gradcheck(_as_real("fft", norm="forward"), (x,))


LOSSES = [
    ("fft(x).abs().sum()", lambda m, t: m.fft.fft(t).abs().sum(), False),
    ("fft(z).abs().sum()", lambda m, t: m.fft.fft(t).abs().sum(), True),
    ("|rfft(x)|^2 ortho", lambda m, t: (m.fft.rfft(t, norm="ortho").abs() ** 2).sum(), False),
    ("fftn(z).real.sum()", lambda m, t: m.fft.fftn(t).real.sum(), True),
    ("ifft2(z).imag.sum()", lambda m, t: m.fft.ifft2(t).imag.sum(), True),
    ("|fft(z)|^2 via conj", lambda m, t: (m.fft.fft(t) * m.fft.fft(t).conj()).real.sum(), True),
    ("irfft(rfft(x) * (1+2j))", lambda m, t: (m.fft.irfft(m.fft.rfft(t) * (1 + 2j), n=8) ** 2).sum(), False),
    ("view_as_real(hfft-ihfft)", lambda m, t: m.view_as_real(m.fft.ihfft(m.fft.hfft(t, n=8)) * 1.5).pow(2).sum(), True),
    ("fftshift(fft2(z)).abs()", lambda m, t: m.fft.fftshift(m.fft.fft2(t)).abs().sum(), True),
    ("rfftn(x, s).abs() sum", lambda m, t: m.fft.rfftn(t, s=(3, 9)).abs().sum(), False),
]


@pytest.mark.parametrize("name, loss, cplx", LOSSES, ids=[row[0] for row in LOSSES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_losses_through_the_cores_complex_ops_match_torch(name, loss, cplx, dtype):
    """The full path: transforms, then the core's complex ops (abs, real, imag, conj, complex products,
    view_as_real, roll) down to a real scalar, backward; input gradients as torch's."""
    rng = np.random.default_rng(5)
    x = random(rng, (4, 8), dtype, cplx)
    compare(lambda t: loss(lamina, t), lambda t: loss(torch, t), [x], rng, dtype)
