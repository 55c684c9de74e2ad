"""Checks for registered kernels (``KernelInfo``): every kernel agrees with its op's reference."""

from __future__ import annotations

import numpy as np

from ._core import KINDS_KERNEL, TOL_REDUCTION, Case, check, close, np64, samples, skip, to_tensors


def _applicable(case: Case) -> None:
    if case.device != case.record.device_type:
        skip(f"the kernel serves {case.record.device_type}, not {case.device}")


def _run(cls, case: Case, args, kwargs, dy=None):
    """Run ``cls.forward`` (and ``backward`` with ``dy``) directly on the case's device arrays."""
    import lamina

    dev = lamina.device(case.device)
    # fresh copies per run: in-place ops (optimizer updates) must not see the other run's result
    arrays = [a.array.copy() if isinstance(a, lamina.Tensor) else a for a in args]
    ctx = object.__new__(cls)
    ctx.xp, ctx._device = dev.backend.xp, dev
    ctx.needs_input_grad = tuple(isinstance(a, lamina.Tensor) and a.is_floating_point() for a in args)
    with dev.backend.device_scope(dev.index):
        y = cls.forward(ctx, *arrays, **kwargs)
        grads = None if dy is None else cls.backward(ctx, *dy)
    return y, grads


@check("kernel_forward_reference", KINDS_KERNEL)
def forward(case: Case) -> None:
    """The kernel's forward equals the op's reference forward (and the record's float64 reference)."""
    _applicable(case)
    rec = case.record
    tol = TOL_REDUCTION[case.dtype]
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        y_ref, _ = _run(rec.op, case, args, kwargs)
        y_k, _ = _run(rec.impl, case, args, kwargs)
        for i, (a, b) in enumerate(zip(_tuple(y_k), _tuple(y_ref))):  # ops may return several outputs
            close(_host_array(a), _host_array(b), *tol, f"{case.name}: kernel vs {rec.op.__name__} (output {i})")
        if rec.reference is not None:
            a64, k64 = np64(s)
            close(_host_array(_tuple(y_k)[0]), rec.reference(*a64, **k64), *tol, f"{case.name}: kernel vs reference")


@check("kernel_backward_reference", KINDS_KERNEL)
def backward(case: Case) -> None:
    """The kernel's backward equals the op's reference backward for the same upstream gradient."""
    import lamina

    _applicable(case)
    rec = case.record
    if "backward" not in rec.impl.__dict__:
        skip("the kernel reuses the reference backward")
    tol = TOL_REDUCTION[case.dtype]
    dev = lamina.device(case.device)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        y_ref, _ = _run(rec.op, case, args, kwargs)
        gen = np.random.default_rng(1)
        dy = tuple(dev.backend.from_host(gen.standard_normal(np.shape(_host_array(y))).astype(case.dtype), dev.index)
                   for y in _tuple(y_ref))
        _, g_ref = _run(rec.op, case, args, kwargs, dy)
        _, g_k = _run(rec.impl, case, args, kwargs, dy)
        g_ref = g_ref if isinstance(g_ref, tuple) else (g_ref,)
        g_k = g_k if isinstance(g_k, tuple) else (g_k,)
        for i, (a, b) in enumerate(zip(g_k, g_ref)):
            if a is None or b is None:
                continue
            close(np.asarray(_host_array(a)), np.asarray(_host_array(b)), *tol, f"{case.name}: gradient {i}")


def _tuple(y):
    return y if isinstance(y, tuple) else (y,)


def _host_array(a):
    get = getattr(a, "get", None)
    return np.asarray(get() if get is not None else a)


#: this family's checks, in the order the runner generates them
CHECKS = (
    forward,
    backward,
)
