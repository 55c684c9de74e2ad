"""Helpers shared by the optimizers: scalar state, hyperparameter checks, the per-group loop.

Every update runs on the parameters' backend arrays (``p.array``) with the array namespace of
the parameter's backend, in place, under ``no_grad`` (the base ``Optimizer`` wraps ``step``).
Hyperparameters enter the array code as Python floats only, so float32 stays float32.

Decision: ``step`` (and ASGD's ``eta``/``mu``, NAdam's ``mu_product``) are 0-d tensors of the
default scalar dtype (float32 unless the default dtype is float64) kept on the CPU, as PyTorch
keeps them for its default (non-capturable) path; their Python value is read with ``float``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina import Tensor
from lamina.optim.optimizer import check_range

__lamina_plugin_api__ = "1.0"

__all__ = ["check_range", "scalar_dtype", "scalar_state", "scalar_slot", "to_float", "bump",
           "check_betas", "check_unsupported", "run_closure", "params_with_grad", "init_state",
           "prepare_grad", "lerp_", "square_avg_", "addcdiv_", "in_pieces"]

PIECE = 1 << 15       # elements per piece of a split update: its ~7 rows of 128 KiB (float32) stay in L2
SPLIT_MIN = 1 << 18   # below this the pieces cost more (dispatch, more calls) than cache reuse and a second core save

def scalar_dtype() -> lamina.dtype:
    """PyTorch's ``_get_scalar_dtype()``: float64 when that is the default dtype, else float32."""
    return lamina.float64 if lamina.get_default_dtype() == lamina.float64 else lamina.float32


def scalar_state(value: float) -> Tensor:
    """A fresh 0-d state tensor (``step``, ``eta``, ``mu``, ``mu_product``) on the CPU."""
    return lamina.tensor(float(value), dtype=scalar_dtype())


def scalar_slot(state: dict, key: str) -> Any:
    """The array of a 0-d scalar state entry, restored to the scalar dtype if a load cast it.

    ``load_state_dict`` casts floating state to the parameter's dtype (``step`` excepted), which would
    turn ``mu_product``/``eta``/``mu`` into float64 for float64 parameters and change the rounding
    of the continued run; the value itself is exactly representable, so converting back is lossless
    and a resumed run stays bitwise equal to an uninterrupted one.
    """
    t = state[key]
    if t.dtype != scalar_dtype():
        t = state[key] = scalar_state(float(t))
    return t.array


def to_float(x: Any) -> float:
    """A Python float from a number or a one-element tensor (tensor ``lr`` and ``step`` state)."""
    return float(x.item()) if isinstance(x, Tensor) else float(x)


def bump(step_t: Tensor) -> float:
    """``step_t += 1`` in place; returns the new value as a Python float (of the stored precision)."""
    a = step_t.array
    a += 1
    return float(a)


def check_betas(betas: Any) -> None:
    check_range("beta parameter at index 0", betas[0], 0.0, 1.0)
    check_range("beta parameter at index 1", betas[1], 0.0, 1.0)


def check_unsupported(name: str, differentiable: bool = False, **flags: Any) -> None:
    """Reject options whose PyTorch semantics lamina does not implement."""
    if differentiable:
        raise ValueError(f"{name}: differentiable=True is not supported by lamina-optim "
                         "(the update runs in place on the arrays, outside autograd)")
    for flag, value in flags.items():
        if value:
            raise ValueError(f"{name}: {flag}=True is not supported by lamina-optim")


def run_closure(closure: Callable[[], Any] | None) -> Any:
    """Evaluate the closure with gradients enabled (``step`` itself runs under ``no_grad``)."""
    if closure is None:
        return None
    with lamina.enable_grad():
        return closure()


def params_with_grad(group: dict, dense_only: str | None = None) -> list[Tensor]:
    """The parameters of ``group`` that have a gradient; the others are skipped, their state untouched.
    ``dense_only``: the optimizer's name when it has no sparse update (a sparse gradient raises torch's error)."""
    params = [p for p in group["params"] if p.grad is not None]
    if dense_only is not None:
        for p in params:
            if p.grad.is_sparse:
                hint = ", please consider SparseAdam instead" if dense_only == "Adam" else ""
                raise RuntimeError(f"{dense_only} does not support sparse gradients{hint}")
    return params


def init_state(state: dict, p: Tensor, *zeros: str, **scalars: float) -> None:
    """First-use state of ``p``, in this key order: ``step`` = 0, the 0-d ``scalars``, ``zeros_like(p)`` buffers."""
    state["step"] = scalar_state(0.0)
    for key, value in scalars.items():
        state[key] = scalar_state(value)
    for key in zeros:
        state[key] = lamina.zeros_like(p)


def in_pieces(backend: Any, fn: Callable[..., None], *arrays: Any) -> None:
    """``fn(*arrays)``, run as ``fn(*slices)`` on flat pieces of ``PIECE`` elements by ``backend.parallel_for``.

    Only for C-contiguous NumPy arrays of one shape with at least ``SPLIT_MIN`` elements (None entries
    stay None); otherwise one call. ``fn`` must be elementwise, so the bits never depend on the cut
    (which depends on the size only) nor on the thread count. ``backend`` may be None (one call).
    """
    n = arrays[0].size
    if backend is None or n < SPLIT_MIN or not all(
            a is None or (type(a).__module__ == "numpy" and a.flags.c_contiguous and a.shape == arrays[0].shape)
            for a in arrays):
        fn(*arrays)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]

    def run(start: int, stop: int) -> None:   # one call per thread task: each ufunc call between takes the GIL
        lo, hi = start * PIECE, min(stop * PIECE, n)
        fn(*(None if f is None else f[lo:hi] for f in flat))

    backend.parallel_for(-(-n // PIECE), run, grain=2)


def prepare_grad(xp: Any, x: Any, g: Any, maximize: bool, weight_decay: float, decoupled: bool = False,
                 lr: float = 0.0) -> Any:
    """The gradient array ``g`` of parameter array ``x`` after ``maximize`` and weight decay.

    L2 decay adds ``weight_decay * x`` to the gradient; decoupled decay (AdamW) instead scales ``x``
    in place by ``1 - lr * weight_decay``. The caller's ``g`` (the stored gradient) is never modified.
    """
    if maximize:
        g = xp.negative(g)
    if weight_decay != 0:
        if decoupled:
            x *= 1 - lr * weight_decay
        elif maximize:
            g += weight_decay * x  # g is already a fresh array
        else:
            g = xp.add(g, weight_decay * x)
    return g


def square_avg_(xp: Any, avg: Any, g: Any, decay: float, tmp: Any = None) -> None:
    """``avg = decay * avg + (1 - decay) * g * g`` in place (``tmp``: a scratch array like ``g``, or None)."""
    avg *= decay
    g2 = xp.multiply(g, g, out=tmp)
    g2 *= 1 - decay
    avg += g2


def addcdiv_(xp: Any, x: Any, a: Any, b: Any, value: float, tmp: Any = None) -> None:
    """``x += value * a / b`` in place (``tmp``: a scratch array like ``x``, or None)."""
    q = xp.divide(a, b, out=tmp)
    q *= value
    x += q


def lerp_(xp: Any, start: Any, end: Any, weight: float, tmp: Any = None) -> None:
    """``start += weight * (end - start)`` in place (PyTorch's ``lerp_`` form for weight < 0.5; ``tmp``: a
    scratch array like ``start``, or None)."""
    if weight < 0.5:
        d = xp.subtract(end, start, out=tmp)
        d *= weight
        start += d
    else:
        # end - (end - start) * (1 - weight), written into start
        d = xp.subtract(end, start, out=tmp)
        d *= 1.0 - weight
        xp.subtract(end, d, out=start)
