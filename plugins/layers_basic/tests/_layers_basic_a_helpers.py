"""Helpers for part A's tests: PyTorch parity (same weights, inputs, output grads) and gradchecks."""

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
