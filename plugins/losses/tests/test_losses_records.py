"""The plugin's info records, run by a small harness: reference values for every reduction, reduction
consistency, dtype preservation, functional == module, error inputs, float64 gradcheck, registration."""

from __future__ import annotations

import re

import lamina
import numpy as np
import pytest
from lamina.testing import gradcheck
from lamina_losses.testing import records

RECORDS = records()
IDS = [r.name for r in RECORDS]
TOL = {"float64": (1e-7, 1e-7), "float32": (1e-4, 1e-5)}


def _samples(rec, dtype, seed=0):
    return rec.sample_inputs(np, np.dtype(dtype), np.random.default_rng(seed))


def _tensors(sample, requires_grad=False):
    out = []
    for k, a in enumerate(sample.args):
        want = a.dtype.kind == "f" if sample.grad_args is None else k in sample.grad_args
        out.append(lamina.tensor(a.copy(), requires_grad=bool(requires_grad and want)))
    return out


def _module(rec, reduction):
    kwargs = dict(rec.init_kwargs)
    kwargs["reduction"] = reduction
    return rec.cls(**kwargs)


def _ref(rec, sample, reduction):
    kwargs = {k: v for k, v in rec.init_kwargs.items() if k != "reduction"}
    args = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in sample.args]
    return np.asarray(rec.reference({}, *args, reduction=reduction, **kwargs), dtype=np.float64)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_reference_every_reduction(rec, dtype):
    rtol, atol = TOL[dtype]
    for sample in _samples(rec, dtype):
        for reduction in rec.reductions:
            out = _module(rec, reduction)(*_tensors(sample))
            assert out.dtype == getattr(lamina, dtype), f"{rec.name}/{sample.name}/{reduction}: dtype {out.dtype}"
            np.testing.assert_allclose(out.array, _ref(rec, sample, reduction), rtol=rtol, atol=atol,
                                       err_msg=f"{rec.name}/{sample.name}/{reduction}")


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_mean_and_sum_are_reductions_of_none(rec):
    if "mean" not in rec.reductions or rec.cls.__name__ in ("CrossEntropyLoss", "NLLLoss", "CTCLoss"):
        pytest.skip("'mean' is a weighted / length-normalised mean for this loss (tested in numerics)")
    for sample in _samples(rec, "float64"):
        none = _module(rec, "none")(*_tensors(sample)).array
        np.testing.assert_allclose(_module(rec, "mean")(*_tensors(sample)).array, none.mean(), rtol=1e-12)
        np.testing.assert_allclose(_module(rec, "sum")(*_tensors(sample)).array, none.sum(), rtol=1e-12)


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_gradient_scale_mean_vs_sum(rec):
    if "mean" not in rec.reductions or rec.cls.__name__ == "CTCLoss":
        pytest.skip("no plain 'mean' reduction (CTC divides each loss by its target length)")
    sample = _samples(rec, "float64")[0]
    grads = {}
    for reduction in ("mean", "sum"):
        ts = _tensors(sample, requires_grad=True)
        out = _module(rec, reduction)(*ts)
        out.backward()
        grads[reduction] = [np.zeros(t.shape) if t.grad is None else t.grad.array for t in ts if t.requires_grad]
        value = out.item()
        grads[reduction + "_value"] = value
    ratio = grads["sum_value"] / grads["mean_value"]
    for gm, gs in zip(grads["mean"], grads["sum"]):
        np.testing.assert_allclose(gs, gm * ratio, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_functional_equals_module(rec):
    kwargs = {k: v for k, v in rec.init_kwargs.items()}
    for sample in _samples(rec, "float64"):
        for reduction in rec.reductions:
            kwargs["reduction"] = reduction
            a = rec.functional(*_tensors(sample), **kwargs).array
            b = _module(rec, reduction)(*_tensors(sample)).array
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_error_inputs(rec):
    errors = rec.error_inputs(np, np.dtype("float64"), np.random.default_rng(0)) if callable(rec.error_inputs) \
        else rec.error_inputs
    if not errors:
        pytest.skip("no error inputs declared")
    for err in errors:
        with pytest.raises(err.error_type, match=err.match):
            _module(rec, "mean" if "mean" in rec.reductions else "sum")(*_tensors(err.sample))


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_gradcheck_float64(rec):
    if "gradcheck" in rec.expected_failures:
        pytest.skip(rec.expected_failures["gradcheck"])
    for sample in _samples(rec, "float64"):
        for reduction in ("none", rec.reductions[-1]):
            module = _module(rec, reduction)
            assert gradcheck(lambda *a, m=module: m(*a), tuple(_tensors(sample, requires_grad=True)),
                             eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_registered_under_lamina_nn(rec):
    cls = getattr(lamina.nn, rec.cls.__name__)
    assert cls is rec.cls and issubclass(cls, lamina.nn.Module)
    assert getattr(lamina.nn.functional, rec.functional.__name__) is rec.functional
    assert re.fullmatch(rf"{rec.cls.__name__}\(\)", repr(rec.cls()))


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_losses_inputs_not_mutated(rec):
    for sample in _samples(rec, "float64"):
        before = [a.copy() for a in sample.args]
        ts = _tensors(sample, requires_grad=True)
        _module(rec, "sum" if "sum" in rec.reductions else rec.reductions[0])(*ts).sum().backward()
        for b, t in zip(before, ts):
            np.testing.assert_array_equal(t.array, b)
