"""Checks for functional ops and autograd Functions (``FunctionInfo``)."""

from __future__ import annotations

import numpy as np

from ._core import (
    KINDS_FUNCTION,
    TOL_REDUCTION,
    Case,
    agrees_with_cpu,
    check,
    close,
    error_inputs,
    expect_error,
    fail,
    has,
    host,
    np64,
    off_cpu,
    outputs,
    samples,
    skip,
    to_tensors,
)


def _fn(case: Case):
    fn = case.record.fn
    apply = getattr(fn, "apply", None)
    return apply if apply is not None and isinstance(fn, type) else fn


def _tol(case: Case, dtype: str | None = None):
    rtol, atol = TOL_REDUCTION[dtype or case.dtype]
    rec = case.record
    return (rec.rtol if rec.rtol is not None else rtol), (rec.atol if rec.atol is not None else atol)


@check("fn_forward_reference", KINDS_FUNCTION, when=has("reference"))
def forward_reference(case: Case) -> None:
    """Output equals the float64 NumPy reference."""
    if case.record.reference is None:
        skip("no reference")
    fn = _fn(case)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        a64, k64 = np64(s)
        raw = case.record.reference(*a64, **k64)
        y = fn(*args, **kwargs)
        got = outputs(y)
        if not got and y is not None:
            # a result without tensors (calculate_gain's number, the fans' pair of ints): compare its values
            close(np.asarray(y), np.asarray(raw), *_tol(case), f"{case.name} {s.name} result")
            continue
        exp = raw if isinstance(raw, (tuple, list)) else (raw,)
        for i, (g, e) in enumerate(zip(got, exp)):
            close(host(g), e, *_tol(case), f"{case.name} {s.name} output {i}")


@check("fn_output_dtype_device", KINDS_FUNCTION)
def output_dtype(case: Case) -> None:
    """Floating outputs keep the input dtype and device."""
    import lamina

    fn = _fn(case)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        for i, o in enumerate(outputs(fn(*args, **kwargs))):
            if o.is_floating_point() and o.dtype.name != case.dtype:
                fail(f"{case.name}: output {i} is {o.dtype} for {case.dtype} input (silent upcast?)")
            if o.device != lamina.device(case.device):
                fail(f"{case.name}: output {i} is on {o.device}, input on {case.device}")


@check("fn_inputs_not_mutated", KINDS_FUNCTION, when=lambda rec, dev: "inplace" not in rec.tags)
def inputs_not_mutated(case: Case) -> None:
    """The function leaves its inputs unchanged (unless tagged inplace)."""
    if "inplace" in case.record.tags:
        skip("tagged inplace")
    fn = _fn(case)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        before = [host(a) for a in args if hasattr(a, "array")]
        fn(*args, **kwargs)
        for i, (b, a) in enumerate(zip(before, [host(a) for a in args if hasattr(a, "array")])):
            if not np.array_equal(a, b, equal_nan=True):
                fail(f"{case.name}: input {i} was modified")


@check("fn_gradcheck", KINDS_FUNCTION, dtypes="float64")
def gradcheck(case: Case) -> None:
    """float64 central differences agree with backward."""
    from .gradcheck import GradcheckError, gradcheck

    fn = _fn(case)
    for s in samples(case, "float64")[:3]:
        args, kwargs = to_tensors(case, s, requires_grad=True)
        if not any(getattr(a, "requires_grad", False) for a in args):
            continue
        try:
            gradcheck(lambda *xs, kw=kwargs: fn(*xs, **kw), args)
        except GradcheckError as e:
            fail(f"{case.name} {s.name}: {e}")


@check("fn_double_backward", KINDS_FUNCTION, dtypes="float64", tag="double_backward")
def double_backward(case: Case) -> None:
    """gradgradcheck passes."""
    from .gradcheck import GradcheckError, gradgradcheck

    fn = _fn(case)
    for s in samples(case, "float64")[:1]:
        args, kwargs = to_tensors(case, s, requires_grad=True)
        try:
            gradgradcheck(lambda *xs, kw=kwargs: fn(*xs, **kw), args)
        except (GradcheckError, NotImplementedError) as e:
            fail(f"{case.name}: {e}")


@check("fn_no_grad", KINDS_FUNCTION, dtypes="once")
def no_grad(case: Case) -> None:
    """Under no_grad no graph is recorded."""
    import lamina

    fn = _fn(case)
    args, kwargs = to_tensors(case, samples(case)[0], requires_grad=True)
    with lamina.no_grad():
        for i, o in enumerate(outputs(fn(*args, **kwargs))):
            if o.grad_fn is not None:
                fail(f"{case.name}: output {i} has a grad_fn under no_grad")


@check("fn_error_inputs", KINDS_FUNCTION, dtypes="once", when=has("error_inputs"))
def errors(case: Case) -> None:
    """Declared error inputs raise the declared type and message."""
    errs = error_inputs(case)
    if not errs:
        skip("no error inputs declared")
    fn = _fn(case)
    for i, err in enumerate(errs):
        args, kwargs = to_tensors(case, err.sample)
        expect_error(lambda args=args, kwargs=kwargs: fn(*args, **kwargs), err, f"{case.name} error input {i}")


@check("fn_device_parity", KINDS_FUNCTION, when=off_cpu)
def device_parity(case: Case) -> None:
    """On a non-CPU backend the result equals the CPU backend's."""
    if case.device == "cpu":
        skip("the CPU backend is the reference")
    fn = _fn(case)
    agrees_with_cpu(case, fn, fn)


#: this family's checks, in the order the runner generates them
CHECKS = (
    forward_reference,
    output_dtype,
    inputs_not_mutated,
    gradcheck,
    double_backward,
    no_grad,
    errors,
    device_parity,
)
