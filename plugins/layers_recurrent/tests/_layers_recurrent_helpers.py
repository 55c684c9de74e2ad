"""Shared helpers of the recurrent plugin's tests: build lamina/torch twins and compare everything."""

from __future__ import annotations

import lamina
import numpy as np

TOL = {"float64": dict(rtol=1e-7, atol=1e-9), "float32": dict(rtol=1e-4, atol=1e-5)}


def to_np(t) -> np.ndarray:
    return np.array(t.detach().array) if isinstance(t, lamina.Tensor) else t.detach().numpy()


def twins(torch, cls_name: str, dtype: str, seed: int = 0, **kw):
    """A lamina module and a torch module with the same weights (copied from lamina)."""
    lamina.manual_seed(seed)
    m = getattr(lamina.nn, cls_name)(**kw, dtype=getattr(lamina, dtype))
    t = getattr(torch.nn, cls_name)(**kw, dtype=getattr(torch, dtype))
    t.load_state_dict({k: torch.from_numpy(to_np(v).copy()) for k, v in m.state_dict().items()})
    return m, t


def pair(torch, arr: np.ndarray):
    """The same values as a lamina tensor and a torch tensor, both requiring grad."""
    return lamina.tensor(arr.copy(), requires_grad=True), torch.tensor(arr.copy(), requires_grad=True)


def flat(y) -> list:
    if isinstance(y, (tuple, list)):
        out = []
        for v in y:
            out.extend(flat(v))
        return out
    return [y]


def weighted_sum(outs: list, weights: list, lib):
    """sum_k (out_k * w_k).sum(): a loss that sends a distinct gradient into every output."""
    total = None
    for o, w in zip(outs, weights):
        v = (o * lib.tensor(w)).sum()
        total = v if total is None else total + v
    return total


def compare(lam_outs, tch_outs, lam_inputs, tch_inputs, m, t, dtype: str, rng, tol: dict | None = None) -> None:
    """Outputs, then gradients of every input and every parameter after the same weighted loss."""
    import torch

    tol = tol or TOL[dtype]
    lo, to = flat(lam_outs), flat(tch_outs)
    assert len(lo) == len(to)
    for k, (a, b) in enumerate(zip(lo, to)):
        assert tuple(a.shape) == tuple(b.shape), f"output {k}: shape {tuple(a.shape)} vs torch {tuple(b.shape)}"
        np.testing.assert_allclose(to_np(a), to_np(b), err_msg=f"output {k}", **tol)
    ws = [rng.standard_normal(tuple(a.shape)).astype(dtype) for a in lo]
    weighted_sum(lo, ws, lamina).backward()
    weighted_sum(to, ws, torch).backward()
    for k, (a, b) in enumerate(zip(lam_inputs, tch_inputs)):
        assert (a.grad is None) == (b.grad is None), f"input {k}: grad presence differs"
        if a.grad is not None:
            np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), err_msg=f"grad of input {k}", **tol)
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        np.testing.assert_allclose(to_np(p.grad), to_np(tp[name].grad), err_msg=f"grad of {name}", **tol)
