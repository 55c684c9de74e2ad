"""Shared helpers of lamina-linalg's tests: the same NumPy inputs through lamina and torch, outputs and
gradients compared (torch is the oracle)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

TOL = {"float64": (1e-9, 1e-9), "float32": (2e-4, 2e-4)}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def well(r: np.random.Generator, *shape: int) -> np.ndarray:
    """A well-conditioned square (batch of) matrix: randn + n I."""
    n = shape[-1]
    return r.standard_normal(shape) + n * np.eye(n)


def spd(r: np.random.Generator, *shape: int) -> np.ndarray:
    X = r.standard_normal(shape)
    return X @ X.swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1])


def pair(a: np.ndarray, dtype: str, grad: bool = True):
    """(lamina tensor, torch tensor) of ``a`` in ``dtype``; floating ones require grad."""
    x = np.asarray(a)
    if x.dtype.kind == "f":
        x = x.astype(dtype)
    lt = lamina.tensor(x.copy())
    tt = torch.tensor(x.copy())
    if grad and x.dtype.kind == "f":
        lt.requires_grad_(True)
        tt.requires_grad_(True)
    return lt, tt


def flat(y) -> list:
    if isinstance(y, (tuple, list)):
        out = []
        for v in y:
            out.extend(flat(v))
        return out
    return [y]


def host(t) -> np.ndarray:
    if isinstance(t, lamina.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()


def close(a, b, dtype: str, what: str, scale: float = 1.0) -> None:
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=rtol * scale, atol=atol * scale, err_msg=what)


def parity(fn_l: Callable, fn_t: Callable, arrays: Sequence[np.ndarray], dtype: str, *, grad: bool = True,
           post: Callable | None = None, scale: float = 1.0, seed: int = 1) -> None:
    """fn_l(lamina tensors) vs fn_t(torch tensors): values, dtypes, shapes and (grad=True) input gradients
    for one random cotangent per floating output; ``post`` maps outputs (either library) to comparable ones."""
    pairs = [pair(a, dtype, grad) for a in arrays]
    ls, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    yl, yt = fn_l(*ls), fn_t(*ts)
    if post is not None:
        yl, yt = post(yl), post(yt)
    ol, ot = flat(yl), flat(yt)
    assert len(ol) == len(ot), f"{len(ol)} outputs vs torch's {len(ot)}"
    r = rng(seed)
    loss_l, loss_t = None, None
    for i, (a, b) in enumerate(zip(ol, ot)):
        assert tuple(a.shape) == tuple(b.shape), f"output {i}: shape {tuple(a.shape)} vs torch {tuple(b.shape)}"
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"output {i}: {a.dtype} vs {b.dtype}"
        close(host(a), host(b), dtype, f"output {i}", scale)
        if grad and b.requires_grad and b.is_floating_point() and b.numel():
            g = r.standard_normal(tuple(b.shape)).astype(dtype)
            tl = (a * lamina.tensor(g)).sum()
            tt = (b * torch.tensor(g)).sum()
            loss_l = tl if loss_l is None else loss_l + tl
            loss_t = tt if loss_t is None else loss_t + tt
    if loss_t is None:
        return
    loss_l.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(ls, ts)):
        if b.grad is None:
            continue
        assert a.grad is not None, f"input {i}: no gradient (torch has one)"
        close(a.grad.numpy(), b.grad.numpy(), dtype, f"gradient of input {i}", 10 * scale)


def tensors64(*arrays: np.ndarray) -> tuple:
    return tuple(lamina.tensor(np.asarray(a, np.float64).copy(), requires_grad=True) for a in arrays)
