"""Sparse COO gradients (``nn.Embedding(sparse=True)``): ``SparseAdam``, and the sparse paths of SGD and Adagrad.

A sparse gradient of a dense parameter (V, D) holds indices (sparse_dim, nnz) and values (nnz, *D);
the updates read and write only the rows present, on the backend arrays, in place, as torch's
(``p.add_(sparse)`` adds each entry, repeated rows accumulating in entry order). The optimizers
without a sparse rule raise torch's "does not support sparse gradients" error (``check_dense``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lamina
from lamina import Tensor
from lamina.optim import Optimizer

from ._common import bump, check_range, run_closure, to_float

__lamina_plugin_api__ = "1.0"

__all__ = ["SparseAdam", "check_dense", "sgd_sparse_step", "adagrad_sparse_step"]


def check_dense(name: str, grads: list[Tensor], hint: str = "") -> None:
    """torch's refusal of a sparse gradient by an optimizer without a sparse update."""
    for g in grads:
        if g.is_sparse:
            raise RuntimeError(f"{name} does not support sparse gradients{hint}")


def _rows(g: Tensor) -> tuple[tuple, Any]:
    """(index tuple for the parameter array, values array (nnz, *D)) of sparse ``g`` as stored."""
    return tuple(g._indices().array), g._values().array


def _scatter_add(xp: Any, x: Any, index: tuple, values: Any) -> None:
    """``x[index] += values`` with repeated indices accumulating in order (cupyx.scatter_add on CuPy)."""
    at = getattr(xp.add, "at", None)
    if at is not None:
        at(x, index, values)
        return
    import cupyx  # pragma: no cover - GPU only

    cupyx.scatter_add(x, index, values)


class SparseAdam(Optimizer):
    """Adam for sparse gradients: the moments and the parameter change only at the gradient's rows.

    With the coalesced gradient values ``g`` at rows ``r`` and ``t`` the parameter's step count:
    ``m[r] += (1 - beta1) * (g - m[r])``, ``v[r] += (1 - beta2) * (g * g - v[r])``,
    ``p[r] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[r] / (sqrt(v[r]) + eps)``.
    State: ``step`` (a Python int), ``exp_avg``, ``exp_avg_sq``. Dense gradients are refused.
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if not 0.0 < to_float(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_range("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_range("beta parameter at index 1", betas[1], 0.0, 1.0)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        sparse, complex_ = [], []
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse.append([i, j])
                if p.is_complex():
                    complex_.append([i, j])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors")
        if complex_:
            raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not support complex parameters")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a (sparse) gradient; returns the closure's loss."""
        loss = run_closure(closure)
        with lamina.no_grad():
            for group in self.param_groups:
                lr, eps, maximize = to_float(group["lr"]), group["eps"], group["maximize"]
                beta1, beta2 = (to_float(b) for b in group["betas"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if not p.grad.is_sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam "
                                           "instead")
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = lamina.zeros_like(p)
                        state["exp_avg_sq"] = lamina.zeros_like(p)
                    state["step"] += 1
                    _sparse_adam(p, p.grad, state, lr, beta1, beta2, eps, maximize)
        return loss


def _sparse_adam(p: Tensor, grad: Tensor, state: dict, lr: float, beta1: float, beta2: float, eps: float,
                 maximize: bool) -> None:
    xp = p.device.backend.xp
    g = (-grad if maximize else grad).coalesce()
    ix, vals = _rows(g)
    if vals.size == 0:
        return
    step = int(state["step"])
    m, v, x = state["exp_avg"].array, state["exp_avg_sq"].array, p.array
    m_old, v_old = m[ix], v[ix]
    upd_m = (vals - m_old) * (1 - beta1)
    m[ix] = m_old + upd_m
    upd_v = (vals * vals - v_old) * (1 - beta2)
    v[ix] = v_old + upd_v
    numer = upd_m + m_old
    denom = xp.sqrt(upd_v + v_old) + eps
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    x[ix] += (numer / denom) * -step_size


def sgd_sparse_step(p: Tensor, state: dict, lr: float, momentum: float, dampening: float, weight_decay: float,
                    nesterov: bool, maximize: bool) -> None:
    """torch's SGD on a sparse gradient: plain or with momentum (a sparse ``momentum_buffer``); weight
    decay would add the dense parameter to the sparse gradient, which torch refuses."""
    g = -p.grad if maximize else p.grad
    if weight_decay != 0:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if momentum != 0:
        buf = state.get("momentum_buffer")
        buf = g.clone() if buf is None else (buf * momentum).add(g, alpha=1 - dampening)
        state["momentum_buffer"] = buf
        g = g.add(buf, alpha=momentum) if nesterov else buf
    ix, vals = _rows(g)
    _scatter_add(p.device.backend.xp, p.array, ix, vals * -lr)


def adagrad_sparse_step(p: Tensor, state: dict, lr: float, lr_decay: float, weight_decay: float, eps: float,
                        maximize: bool) -> None:
    """torch's Adagrad on a sparse gradient (coalesced first): ``sum[r] += g * g``,
    ``p[r] -= clr * g / (sqrt(sum[r]) + eps)``; weight decay is refused as torch does."""
    step = bump(state["step"])
    g = -p.grad if maximize else p.grad
    if weight_decay != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    clr = lr / (1 + (step - 1) * lr_decay)
    ix, vals = _rows(g.coalesce())
    if vals.size == 0:
        return
    s = state["sum"].array
    s[ix] += vals * vals
    p.array[ix] += (vals / (p.device.backend.xp.sqrt(s[ix]) + eps)) * -clr
