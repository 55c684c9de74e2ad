"""PyTorch parity helpers for lamina-fft's tests: the same inputs (real or complex, float32 or float64)
into both, the same random output gradient back, values, dtypes, shapes and input gradients compared."""

from __future__ import annotations

import lamina
import numpy as np

TOL = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-9, atol=1e-9)}
COMPLEX = {"float32": np.complex64, "float64": np.complex128}


def random(rng, shape, dtype="float64", complex_=False) -> np.ndarray:
    x = rng.standard_normal(shape)
    if complex_:
        return (x + 1j * rng.standard_normal(shape)).astype(COMPLEX[dtype])
    return x.astype(dtype)


def dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def host(t) -> np.ndarray:
    """A tensor of either framework as a NumPy array (torch's lazy conjugates resolved)."""
    t = t.detach()
    if hasattr(t, "resolve_conj"):
        t = t.resolve_conj()
    return np.array(t.numpy())


def grad_like(rng, t) -> np.ndarray:
    """A random output gradient for t (complex for a complex output)."""
    shape = tuple(t.shape)
    g = rng.standard_normal(shape)
    if t.is_complex():
        g = g + 1j * rng.standard_normal(shape)
    return g.astype(host(t).dtype)


def compare(lamina_fn, torch_fn, inputs, rng, tol_dtype="float64", grad=True):
    """Both functions on the same arrays; outputs (values, dtype, shape) and every input gradient must agree."""
    import torch

    tol = TOL[tol_dtype]
    tin = [torch.tensor(a, requires_grad=grad and a.dtype.kind in "fc") for a in inputs]
    lin = [lamina.tensor(a, requires_grad=grad and a.dtype.kind in "fc") for a in inputs]
    ty, ly = torch_fn(*tin), lamina_fn(*lin)
    assert tuple(ly.shape) == tuple(ty.shape), (tuple(ly.shape), tuple(ty.shape))
    assert dtype_name(ly) == dtype_name(ty), (ly.dtype, ty.dtype)
    np.testing.assert_allclose(host(ly), host(ty), **tol)
    if not grad or not ty.requires_grad:
        return ly
    g = grad_like(rng, ty)
    ty.backward(torch.tensor(g))
    ly.backward(lamina.tensor(g))
    for i, (t, v) in enumerate(zip(tin, lin)):
        if t.requires_grad:
            assert v.grad is not None, f"input {i}: no gradient"
            assert dtype_name(v.grad) == dtype_name(t.grad), (i, v.grad.dtype, t.grad.dtype)
            np.testing.assert_allclose(host(v.grad), host(t.grad), **tol, err_msg=f"gradient of input {i}")
    return ly


def torch_error(fn):
    """(type, message) of the exception torch raises for fn(), or None."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any torch error is the oracle
        return type(e), str(e).splitlines()[0]
    return None
