"""Checks for losses (TESTKIT.md "Losses"), in addition to the layer checks that apply."""

from __future__ import annotations

import numpy as np

from ._core import (
    KINDS_LOSS,
    TOL_REDUCTION,
    Case,
    check,
    close,
    fail,
    has,
    host,
    np64,
    samples,
    skip,
    to_tensors,
)
from .checks_module import build


def _loss(case: Case, reduction: str, dtype: str | None = None):
    return build(case, dtype, reduction=reduction)


def _reduced(case: Case) -> str:
    """A reduction to use where any reducing one will do ('mean' when the loss offers it)."""
    reds = case.record.reductions
    return "mean" if "mean" in reds else [r for r in reds if r != "none"][0]


def _call(m, case, s, requires_grad=False):
    args, kwargs = to_tensors(case, s, requires_grad=requires_grad)
    return m(*args, **kwargs), args


def _weighted_mean(rec) -> bool:
    """'mean' divides by a total weight, not the element count (class weights, ignore_index, CTC)."""
    kw = rec.init_kwargs
    return rec.mean_is_weighted or kw.get("weight") is not None or "ignore_index" in kw


@check("reference_per_reduction", KINDS_LOSS)
def reference_per_reduction(case: Case) -> None:
    """The loss equals the float64 reference for every reduction."""
    rec = case.record
    if rec.reference is None:
        skip("no reference")
    rtol, atol = TOL_REDUCTION[case.dtype]
    for red in rec.reductions:
        m = _loss(case, red)
        params = {k: host(v).astype(np.float64) if host(v).dtype.kind == "f" else host(v)
                  for k, v in m.state_dict().items()}
        hyper = {k: v for k, v in rec.init_kwargs.items() if k != "reduction"}
        for s in samples(case):
            y, _ = _call(m, case, s)
            a64, k64 = np64(s)
            close(host(y), rec.reference(params, *a64, reduction=red, **hyper, **k64), rtol, atol,
                  f"{case.name}(reduction={red!r}) {s.name}")


@check("reduction_consistency", KINDS_LOSS)
def reduction_consistency(case: Case) -> None:
    """mean equals mean(none) and sum equals sum(none)."""
    reds = case.record.reductions
    if "none" not in reds:
        skip("no 'none' reduction")
    rtol, atol = TOL_REDUCTION[case.dtype]
    for s in samples(case):
        none = host(_call(_loss(case, "none"), case, s)[0]).astype(np.float64)
        if "sum" in reds:
            close(host(_call(_loss(case, "sum"), case, s)[0]), none.sum(), rtol, atol, f"{case.name}: sum vs sum(none)")
        if "mean" in reds and not _weighted_mean(case.record):
            got = host(_call(_loss(case, "mean"), case, s)[0])
            if none.size and not np.isclose(got, none.mean(), rtol=rtol, atol=atol):
                fail(f"{case.name}: mean reduction {float(got)!r} differs from mean(none) {float(none.mean())!r} "
                     f"for sample {s.name!r} (set mean_is_weighted=True on the record if that is intended)")


@check("grad_scale_mean_vs_sum", KINDS_LOSS, dtypes="float64")
def grad_scale(case: Case) -> None:
    """The gradient of 'sum' is N times that of 'mean' (N = elements of 'none')."""
    reds = case.record.reductions
    if not {"mean", "sum", "none"} <= set(reds):
        skip("needs none, mean and sum")
    if _weighted_mean(case.record):
        skip("'mean' is a weighted mean for this loss")
    s = samples(case, "float64")[0]
    n = host(_call(_loss(case, "none", "float64"), case, s)[0]).size
    grads = {}
    for red in ("mean", "sum"):
        y, args = _call(_loss(case, red, "float64"), case, s, requires_grad=True)
        y.backward()
        grads[red] = [host(a.grad) for a in args if getattr(a, "grad", None) is not None]
    for i, (gm, gs) in enumerate(zip(grads["mean"], grads["sum"])):
        close(gs, gm * n, 1e-6, 1e-9, f"{case.name}: input {i} gradient of sum vs {n} x mean")


def _first_float(args):
    for i, a in enumerate(args):
        if hasattr(a, "array") and a.is_floating_point():
            return i
    return None


@check("extreme_inputs", KINDS_LOSS, tag="softmax_based")
def extreme_inputs(case: Case) -> None:
    """Inputs scaled to ±20, ±88 and ±1e4 give a finite loss and gradient (softmax/logit-based losses)."""
    if "softmax_based" not in case.record.tags and "logits" not in case.record.tags:
        skip("not tagged softmax_based")
    s = samples(case)[0]
    for scale in (20.0, 88.0, 1e4):
        m = _loss(case, _reduced(case))
        args, kwargs = to_tensors(case, s)
        i = _first_float(args)
        x = (args[i] / (args[i].abs().max() + 1e-12) * scale).detach().requires_grad_()
        args = args[:i] + (x,) + args[i + 1:]
        y = m(*args, **kwargs)
        y.backward()
        if not np.isfinite(host(y)).all() or not np.isfinite(host(x.grad)).all():
            fail(f"{case.name}: non-finite loss or gradient for inputs of magnitude {scale:g}")


@check("shift_invariance", KINDS_LOSS, tag="softmax_based")
def shift_invariance(case: Case) -> None:
    """Adding a constant to every logit leaves a softmax-based loss unchanged."""
    s = samples(case)[0]
    m = _loss(case, "none")
    args, kwargs = to_tensors(case, s)
    i = _first_float(args)
    y0 = host(m(*args, **kwargs))
    shifted = args[:i] + (args[i] + 7.0,) + args[i + 1:]
    close(host(m(*shifted, **kwargs)), y0, *TOL_REDUCTION[case.dtype], f"{case.name}: loss after shifting logits by 7")


@check("all_neg_inf_row", KINDS_LOSS, tag="softmax_based", dtypes="once")
def all_neg_inf_row(case: Case) -> None:
    """A row of -inf logits (except the target) gives no NaN gradient."""
    import lamina

    s = samples(case)[0]
    m = _loss(case, "sum")
    args, kwargs = to_tensors(case, s)
    i = _first_float(args)
    x = args[i].detach().clone()
    if x.ndim < 2:
        skip("needs a batch of rows")
    x[0] = float("-inf")
    x[0, 0] = 0.0
    x.requires_grad_()
    try:
        y = m(*(args[:i] + (x,) + args[i + 1:]), **kwargs)
        y.backward()
    except (ValueError, RuntimeError, IndexError) as e:
        skip(f"this sample cannot take an -inf row: {e}")
    if np.isnan(host(x.grad)).any():
        fail(f"{case.name}: NaN gradient for a row of -inf logits")
    _ = lamina


@check("class_out_of_range", KINDS_LOSS, dtypes="once", when=has("class_target_arg"))
def class_out_of_range(case: Case) -> None:
    """A class index out of range raises, and the message gives the range."""
    k = case.record.class_target_arg
    if k is None:
        skip("no class-index target declared")
    s = samples(case)[0]
    args, kwargs = to_tensors(case, s)
    t = args[k].clone()
    n_classes = args[0].shape[1] if args[0].ndim > 1 else args[0].shape[0]
    t.view(-1)[0] = n_classes + 3
    try:
        _loss(case, _reduced(case))(*(args[:k] + (t,) + args[k + 1:]), **kwargs)
    except (IndexError, ValueError, RuntimeError) as e:
        if str(n_classes) not in str(e):
            fail(f"{case.name}: out-of-range class error does not give the range ({n_classes} classes): {e}")
        return
    fail(f"{case.name}: class index {n_classes + 3} with {n_classes} classes was accepted")


@check("shape_mismatch", KINDS_LOSS, dtypes="once")
def shape_mismatch(case: Case) -> None:
    """An input/target shape mismatch raises instead of broadcasting silently."""
    if case.record.class_target_arg is not None:
        skip("class-index targets have their own shape rules")
    s = samples(case)[0]
    args, kwargs = to_tensors(case, s)
    if len(args) < 2 or not hasattr(args[1], "array") or args[1].ndim == 0:
        skip("no second tensor argument")
    import lamina

    bad = lamina.cat([args[1], args[1]], dim=0)
    try:
        _loss(case, _reduced(case))(args[0], bad, *args[2:], **kwargs)
    except (ValueError, RuntimeError, TypeError):  # ShapeError / DTypeError are among these
        return
    fail(f"{case.name}: target of shape {tuple(bad.shape)} for input {tuple(args[0].shape)} was accepted")


@check("loss_dtype_preserved", KINDS_LOSS)
def loss_dtype(case: Case) -> None:
    """The loss has the input's floating dtype for every reduction."""
    for red in case.record.reductions:
        y, _ = _call(_loss(case, red), case, samples(case)[0])
        if y.dtype.name != case.dtype:
            fail(f"{case.name}(reduction={red!r}) returned {y.dtype} for {case.dtype} input")


@check("functional_matches_module", KINDS_LOSS)
def functional_matches(case: Case) -> None:
    """The functional form (F.*) gives exactly the module's result for every reduction."""
    rec = case.record
    if rec.functional is None:
        skip("no functional form declared")
    hyper = {k: v for k, v in rec.init_kwargs.items() if k != "reduction"}
    for red in rec.reductions:
        for s in samples(case):
            y, args = _call(_loss(case, red), case, s)
            _, kwargs = to_tensors(case, s)
            f = rec.functional(*args, **kwargs, **hyper, reduction=red)
            if not np.array_equal(host(f), host(y), equal_nan=True):
                fail(f"{case.name}(reduction={red!r}): the functional form differs from the module")


#: this family's checks, in the order the runner generates them
CHECKS = (
    reference_per_reduction,
    reduction_consistency,
    grad_scale,
    extreme_inputs,
    shift_invariance,
    all_neg_inf_row,
    class_out_of_range,
    shape_mismatch,
    loss_dtype,
    functional_matches,
)
