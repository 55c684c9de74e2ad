"""Shared helpers for the lamina-layers-attention tests: run one layer in lamina and in PyTorch on the
same weights and inputs, and compare outputs and every gradient (inputs and parameters)."""

from __future__ import annotations

import lamina
import numpy as np

TOL = {"float64": dict(rtol=1e-7, atol=1e-7), "float32": dict(rtol=1e-4, atol=2e-5)}
GRAD_TOL = {"float64": dict(rtol=1e-7, atol=1e-7), "float32": dict(rtol=1e-4, atol=1e-4)}


def copy_weights(lm, tm) -> None:
    """Load lamina's state_dict into the torch module (keys must be identical)."""
    import torch

    sd = lm.state_dict()
    assert list(sd) == list(tm.state_dict()), sorted(set(sd) ^ set(tm.state_dict()))
    tm.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in sd.items()})


def wrap(value, framework: str, grad: bool = False):
    import torch

    if not isinstance(value, np.ndarray):
        return value
    if framework == "torch":
        return torch.tensor(value, requires_grad=grad and value.dtype.kind == "f")
    return lamina.tensor(value, requires_grad=grad and value.dtype.kind == "f")


def assert_close(got, want, what: str, tol: dict) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs torch {want.shape}"
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=what, **tol)


def parity(lm, tm, args: list, kwargs: dict, dtype: str, rng, same_input: tuple = (), grad_kwargs: tuple = (),
           backward: bool = True):
    """Forward both modules, backprop the same random cotangents through every floating output, compare.

    ``args`` are NumPy arrays (positional inputs); indices in ``same_input`` reuse args[0]'s tensor (so
    ``query is key is value`` holds, as in self-attention). Keyword arrays named in ``grad_kwargs``
    (float masks) require grad too. Returns the lamina outputs.
    """
    import torch

    outs = {}
    for fw in ("lamina", "torch"):
        ins = []
        for i, a in enumerate(args):
            ins.append(ins[0] if i in same_input else wrap(a, fw, grad=True))
        kw = {k: wrap(v, fw, grad=k in grad_kwargs) for k, v in kwargs.items()}
        mod = lm if fw == "lamina" else tm
        y = mod(*ins, **kw)
        ys = [o for o in (y if isinstance(y, tuple) else (y,)) if o is not None]
        outs[fw] = (ins, kw, ys)
    l_ins, l_kw, l_ys = outs["lamina"]
    t_ins, t_kw, t_ys = outs["torch"]
    assert len(l_ys) == len(t_ys), f"{len(l_ys)} outputs vs torch {len(t_ys)}"
    l_loss = t_loss = 0
    for k, (a, b) in enumerate(zip(l_ys, t_ys)):
        assert_close(a.detach().numpy(), b.detach().numpy(), f"output {k}", TOL[dtype])
        g = rng.standard_normal(tuple(b.shape)).astype(dtype)
        l_loss = l_loss + (a * lamina.tensor(g)).sum()
        t_loss = t_loss + (b * torch.tensor(g)).sum()
    if not backward:
        return l_ys
    l_loss.backward()
    t_loss.backward()
    tparams = dict(tm.named_parameters())
    for name, p in lm.named_parameters():
        tp = tparams[name]
        assert (p.grad is None) == (tp.grad is None), f"{name}: grad None mismatch"
        if p.grad is not None:
            assert_close(p.grad.numpy(), tp.grad.numpy(), f"grad of {name}", GRAD_TOL[dtype])
    for i, (a, b) in enumerate(zip(l_ins, t_ins)):
        if i in same_input or not isinstance(a, lamina.Tensor) or not a.requires_grad:
            continue
        assert_close(a.grad.numpy(), b.grad.numpy(), f"grad of input {i}", GRAD_TOL[dtype])
    for k in grad_kwargs:
        assert_close(l_kw[k].grad.numpy(), t_kw[k].grad.numpy(), f"grad of {k}", GRAD_TOL[dtype])
    return l_ys


def hessian_vector(lib, fn, leaves: list, seed: int) -> list:
    """Second derivatives in one seeded direction: d/d leaves of sum_i <d outputs/d leaf_i (v), u_i>.

    ``fn()`` returns a tensor or a tuple (None entries ignored); v (one per output) and u (one per leaf) are
    drawn from ``seed`` in a fixed order, so lamina and torch get the same directions. -> arrays (None: unused)
    """
    rng = np.random.default_rng(seed)
    out = fn()
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None and o.requires_grad]
    vs = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    us = [lib.tensor(rng.standard_normal(tuple(t.shape))) for t in leaves]
    grads = lib.autograd.grad(outs, leaves, vs, create_graph=True, allow_unused=True)
    s = sum((g * u).sum() for g, u in zip(grads, us) if g is not None)
    second = lib.autograd.grad(s, leaves, allow_unused=True)
    return [None if h is None else np.array(h.detach().numpy()) for h in second]


def assert_same_second(got: list, want: list, names: list, tol: dict | None = None) -> None:
    """lamina's and torch's second derivatives agree (None, no path, counts as zero)."""
    assert len(got) == len(want)
    for name, g, w in zip(names, got, want):
        if g is None or w is None:
            other = w if g is None else g
            assert other is None or not np.any(other), f"{name}: one side is zero, the other is not"
            continue
        np.testing.assert_allclose(g, w, err_msg=f"second derivative of {name}", **(tol or dict(rtol=1e-7,
                                                                                               atol=1e-9)))
