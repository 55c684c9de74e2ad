"""PyTorch parity helpers for the plugin's tests: same weights, same inputs, same output gradients,
compare outputs and every gradient; tolerances; convolution grid rows."""

from __future__ import annotations

import lamina
import numpy as np

F64 = dict(rtol=1e-7, atol=1e-7)
F32 = dict(rtol=1e-4, atol=1e-5)


def to_lamina(a, requires_grad=False):
    return lamina.tensor(np.array(a), requires_grad=requires_grad)


def copy_params(lmod, tmod):
    """Copy lamina parameters into the torch module (same names)."""
    import torch

    with torch.no_grad():
        for name, p in lmod.named_parameters():
            dict(tmod.named_parameters())[name].copy_(torch.from_numpy(np.array(p.detach().numpy())))


def compare(torch_fn, lamina_fn, inputs, rng, tol=F64, grad_idx=None, lmod=None, tmod=None):
    """Run both on the same float arrays, backprop the same random output grad, compare everything."""
    import torch

    grad_idx = range(len(inputs)) if grad_idx is None else grad_idx
    tin = [torch.tensor(a, requires_grad=i in grad_idx and a.dtype.kind == "f") for i, a in enumerate(inputs)]
    lin = [lamina.tensor(a, requires_grad=i in grad_idx and a.dtype.kind == "f") for i, a in enumerate(inputs)]
    ty, ly = torch_fn(*tin), lamina_fn(*lin)
    touts = ty if isinstance(ty, tuple) else (ty,)
    louts = ly if isinstance(ly, tuple) else (ly,)
    assert len(touts) == len(louts)
    for t, v in zip(touts, louts):
        assert tuple(t.shape) == tuple(v.shape), (tuple(t.shape), tuple(v.shape))
        assert str(v.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(v.detach().numpy(), t.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(touts[0].shape)).astype(inputs[0].dtype)
    if not touts[0].requires_grad:
        return
    touts[0].backward(torch.tensor(g))
    louts[0].backward(lamina.tensor(g))
    for t, v in zip(tin, lin):
        if t.requires_grad:
            np.testing.assert_allclose(v.grad.numpy(), t.grad.numpy(), **tol)
    if lmod is not None:
        tparams = dict(tmod.named_parameters())
        for name, p in lmod.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), **tol, err_msg=name)


def conv_case(row, sizes, rng, dtype=np.float64, batch=2):
    """One row ``(n, C, O, kernel, stride, padding, dilation, groups)`` of a convolution grid: the spatial
    rank n, the keyword arguments, and random x, weight, bias arrays (spatial size ``sizes[n]``)."""
    n, C, O, k, s, p, d, g = row
    kernel = (k,) * n if isinstance(k, int) else k
    x = rng.standard_normal((batch, C) + sizes[n]).astype(dtype)
    w = rng.standard_normal((O, C // g) + kernel).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    return n, dict(stride=s, padding=p, dilation=d, groups=g), x, w, b


def conv_pair(n, kw):
    """``(torch's F.conv{n}d, lamina's F.conv{n}d)`` with the keyword arguments bound (skips without torch)."""
    import lamina.nn.functional as F
    import pytest

    torch = pytest.importorskip("torch")
    return (lambda *a: getattr(torch.nn.functional, f"conv{n}d")(*a, **kw),
            lambda *a: getattr(F, f"conv{n}d")(*a, **kw))
