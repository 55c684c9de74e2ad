"""Layer checks on inputs: batch independence, empty batches, declared errors, finiteness, devices."""

from __future__ import annotations

import copy

import numpy as np

from ._core import (
    KINDS_LAYER,
    Case,
    agrees_with_cpu,
    check,
    close,
    error_inputs,
    expect_error,
    fail,
    has,
    host,
    off_cpu,
    outputs,
    samples,
    skip,
    to_tensors,
)
from .checks_module import _forward, _tol, build


@check("batch_independence", KINDS_LAYER, tag="batch_independent")
def batch_independence(case: Case) -> None:
    """Row i of the output depends only on row i of the input."""
    m = build(case)
    m.eval()
    for s in samples(case)[:1]:
        args, kwargs = to_tensors(case, s)
        full = host(outputs(_forward(m, args, kwargs))[0])
        one = host(outputs(_forward(m, tuple(a[:1] if hasattr(a, "array") else a for a in args), kwargs))[0])
        close(one, full[:1], *_tol(case), f"{case.name}: first row computed alone vs within the batch")


@check("zero_batch", KINDS_LAYER, dtypes="once")
def zero_batch(case: Case) -> None:
    """A batch of size 0 gives an empty output of the right trailing shape (unless tagged no_zero_batch)."""
    if "no_zero_batch" in case.record.tags:
        skip("tagged no_zero_batch")
    m = build(case)
    m.eval()
    args, kwargs = to_tensors(case, samples(case)[0])
    if not args or not hasattr(args[0], "array") or args[0].ndim < 2:
        skip("no batched tensor input")
    n = args[0].shape[0]
    zero = tuple(a[:0] if hasattr(a, "array") and a.ndim >= 1 and a.shape[0] == n else a for a in args)
    full = outputs(_forward(m, args, kwargs))[0]
    if full.ndim == 0:
        skip("the output is reduced over the batch")
    y = outputs(_forward(m, zero, kwargs))[0]
    if y.shape[0] != 0 or tuple(y.shape[1:]) != tuple(full.shape[1:]):
        fail(f"{case.name}: zero-size batch gave shape {tuple(y.shape)}, expected (0, {tuple(full.shape[1:])})")


@check("error_inputs", KINDS_LAYER, dtypes="once", when=has("error_inputs"))
def error_inputs_raise(case: Case) -> None:
    """Declared error inputs raise the declared type with a matching message."""
    import lamina

    errs = error_inputs(case)
    if not errs:
        skip("no error inputs declared")
    for i, err in enumerate(errs):
        args, kwargs = to_tensors(case, err.sample)
        if err.init_kwargs is not None:
            # PyTorch checks some constructor arguments only at the call (MaxPool's padding, ConvTranspose's
            # output_padding): the error may come from the constructor or from calling on the sample
            def make_and_call(err=err, args=args, kwargs=kwargs):
                m = case.record.cls(**copy.deepcopy(err.init_kwargs)).to(case.device)
                if case.dtype.startswith("float"):
                    m = m.to(getattr(lamina, case.dtype))
                return m(*args, **kwargs)

            expect_error(make_and_call, err, f"{case.name} error input {i}")
            continue
        m = build(case)
        expect_error(lambda m=m, args=args, kwargs=kwargs: m(*args, **kwargs), err, f"{case.name} error input {i}")


@check("finite", KINDS_LAYER)
def finite(case: Case) -> None:
    """Finite inputs give finite outputs and gradients."""
    m = build(case)
    m.eval()
    for s in samples(case)[:2]:
        args, kwargs = to_tensors(case, s, requires_grad=True)
        ys = outputs(_forward(m, args, kwargs))
        for i, o in enumerate(ys):
            if o.is_floating_point() and not np.isfinite(host(o)).all():
                fail(f"{case.name}: output {i} is not finite for finite input")
        diff = [o for o in ys if o.requires_grad]
        if diff:
            sum(o.sum() for o in diff).backward()
            for a in list(args) + list(m.parameters()):
                g = getattr(a, "grad", None)
                if g is not None and not np.isfinite(host(g)).all():
                    fail(f"{case.name}: a gradient is not finite for finite input")


@check("device_parity", KINDS_LAYER, when=off_cpu)
def device_parity(case: Case) -> None:
    """On a non-CPU backend: round trip to CPU and the same result as the CPU backend."""
    if case.device == "cpu":
        skip("the CPU backend is the reference")
    m_dev, m_cpu = build(case), build(Case(case.dist, case.record, "cpu", case.dtype))
    m_dev.eval()
    m_cpu.eval()
    agrees_with_cpu(case, m_dev, m_cpu)


#: this family's checks, in the order the runner generates them
CHECKS = (
    batch_independence,
    zero_batch,
    error_inputs_raise,
    finite,
    device_parity,
)
