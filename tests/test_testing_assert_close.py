"""lamina.testing.assert_close / assert_allclose / make_tensor against torch.testing.

Each comparison case is built twice, once with lamina and once with torch, from the same values;
both must pass, or both raise the same exception type with the same message (torch's names
spelled the lamina way).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import lamina
import numpy as np
import pytest
from lamina.testing import assert_allclose, assert_close, make_tensor

torch = pytest.importorskip("torch")
NAN, INF = float("nan"), float("inf")


def _outcome(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return type(e), str(e)
    return None, ""


def _lamina_spelling(msg: str) -> str:
    return msg.replace("<class 'torch.Tensor'>", str(lamina.Tensor)).replace("torch.", "lamina.")


def _mixed(lib):
    a = lib.arange(12.0).reshape(3, 4)
    b = a.clone()
    b[0, 1] += 0.5
    b[1, 2] = 0
    b[2, 3] = NAN
    return b, a


CASES = {
    "float-mixed-nan": (_mixed, {}),
    "int-equal-msg": (lambda lib: (lib.tensor([1, 2, 3]), lib.tensor([1, 2, 5])), {}),
    "int8-no-wrap": (lambda lib: (lib.tensor([-128], dtype=lib.int8), lib.tensor([127], dtype=lib.int8)), {}),
    "uint8": (lambda lib: (lib.tensor([0, 200], dtype=lib.uint8), lib.tensor([255, 200], dtype=lib.uint8)), {}),
    "0-d": (lambda lib: (lib.tensor(1.0), lib.tensor(2.0)), {}),
    "0-d-int": (lambda lib: (lib.tensor(3), lib.tensor(2)), {}),
    "float64-close": (lambda lib: (lib.tensor([1.0 + 5e-8], dtype=lib.float64), lib.tensor([1.0], dtype=lib.float64)),
                      {}),
    "float32-within": (lambda lib: (lib.tensor([1.0 + 1e-6]), lib.tensor([1.0])), {}),
    "float16": (lambda lib: (lib.tensor([1.0, 2.0], dtype=lib.float16), lib.tensor([1.001, 2.1], dtype=lib.float16)),
                {}),
    "bfloat16": (lambda lib: (lib.tensor([1.0, 2.0], dtype=lib.bfloat16),
                              lib.tensor([1.01, 2.5], dtype=lib.bfloat16)), {}),
    "complex": (lambda lib: (lib.tensor([1.0 + 1j, 2j]), lib.tensor([1.0 + 2j, 2j])), {}),
    "bool": (lambda lib: (lib.tensor([True, True]), lib.tensor([True, False])), {}),
    "nan-vs-nan": (lambda lib: (lib.tensor([NAN, 1.0]), lib.tensor([NAN, 1.0])), {}),
    "nan-equal-nan": (lambda lib: (lib.tensor([NAN, 1.0]), lib.tensor([NAN, 1.0])), {"equal_nan": True}),
    "inf": (lambda lib: (lib.tensor([INF, -INF]), lib.tensor([INF, -INF])), {}),
    "inf-sign": (lambda lib: (lib.tensor([INF]), lib.tensor([-INF])), {}),
    "zero-expected": (lambda lib: (lib.ones(2, 3), lib.zeros(2, 3)), {}),
    "empty": (lambda lib: (lib.empty(0, 3), lib.empty(0, 3)), {}),
    "broadcast-is-shape-error": (lambda lib: (lib.ones(1, 3), lib.ones(2, 3)), {}),
    "shape": (lambda lib: (lib.ones(2), lib.ones(3)), {}),
    "dtype": (lambda lib: (lib.ones(2), lib.ones(2, dtype=lib.float64)), {}),
    "dtype-unchecked": (lambda lib: (lib.tensor([1, 2]), lib.tensor([1.0, 2.5])), {"check_dtype": False}),
    "dtype-unchecked-loosest-tol": (lambda lib: (lib.tensor([1.0], dtype=lib.float16),
                                                 lib.tensor([1.0005], dtype=lib.float64)), {"check_dtype": False}),
    "stride": (lambda lib: (lib.ones(4)[::2], lib.ones(2)), {"check_stride": True}),
    "stride-unchecked": (lambda lib: (lib.ones(4)[::2], lib.ones(2)), {}),
    "non-contiguous-values": (lambda lib: (lib.arange(6.0).reshape(2, 3).t(), lib.arange(6.0).reshape(3, 2)), {}),
    "custom-tol": (lambda lib: (lib.tensor([1.0]), lib.tensor([1.1])), {"rtol": 0.0, "atol": 0.2}),
    "custom-tol-fails": (lambda lib: (lib.tensor([1.0, 5.0]), lib.tensor([1.1, 5.0])), {"rtol": 0.01, "atol": 0.01}),
    "rtol-only": (lambda lib: (lib.ones(2), lib.ones(2)), {"rtol": 1e-3}),
    "atol-only": (lambda lib: (lib.ones(2), lib.ones(2)), {"atol": 1e-3}),
    "msg-str": (lambda lib: (lib.ones(2), lib.zeros(2)), {"msg": "custom"}),
    "msg-callable": (lambda lib: (lib.ones(2), lib.zeros(2)), {"msg": lambda m: "X" + m[:20]}),
    "nested": (lambda lib: ([lib.ones(2), {"a": lib.zeros(1)}], [lib.ones(2), {"a": lib.ones(1)}]), {}),
    "nested-msg-callable": (lambda lib: ({"w": [1, (2.0, lib.ones(1))]}, {"w": [1, (2.0, lib.zeros(1))]}),
                            {"msg": lambda m: m.upper()}),
    "seq-length": (lambda lib: ([1, 2], [1, 2, 3]), {}),
    "tuple-vs-list": (lambda lib: ((1, 2.0), [1, 2.0]), {}),
    "mapping-keys": (lambda lib: ({"a": 1, "b": 2}, {"a": 1, "c": 2}), {}),
    "ordered-vs-dict": (lambda lib: (OrderedDict(a=lib.ones(1)), {"a": lib.ones(1)}), {}),
    "tensor-vs-list": (lambda lib: (lib.ones(2), [1.0, 1.0]), {}),
    "float-vs-tensor": (lambda lib: (1.0, lib.tensor(1.0)), {}),
    "str": (lambda lib: ("a", "a"), {}),
    "floats": (lambda lib: (1.0, 1.1), {}),
    "ints": (lambda lib: (1, 2), {}),
    "int-vs-float": (lambda lib: (1, 1.0), {}),
    "int-vs-float-unchecked": (lambda lib: (1, 1.0), {"check_dtype": False}),
    "complex-scalars": (lambda lib: (1 + 1j, 1 + 2j), {}),
    "bools": (lambda lib: (True, False), {}),
    "numpy-bool": (lambda lib: (np.bool_(True), True), {}),
    "numpy-scalar": (lambda lib: (np.float64(1.0), 1.0), {}),
    "scalar-nan": (lambda lib: (NAN, NAN), {}),
    "scalar-nan-equal": (lambda lib: (NAN, NAN), {"equal_nan": True}),
    "none": (lambda lib: (None, None), {}),
    "none-vs-int": (lambda lib: (None, 1), {}),
    "numpy-arrays": (lambda lib: (np.ones(2), np.zeros(2)), {}),
    "parameter-vs-tensor": (lambda lib: (lib.nn.Parameter(lib.ones(2)), lib.ones(2)), {}),
    "parameter-vs-tensor-strict": (lambda lib: (lib.nn.Parameter(lib.ones(2)), lib.ones(2)),
                                   {"allow_subclasses": False}),
    "requires-grad-ignored": (lambda lib: (lib.ones(2, requires_grad=True) * 1, lib.ones(2)), {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_matches_torch(name):
    build, kwargs = CASES[name]
    with np.errstate(all="ignore"):
        got_type, got_msg = _outcome(assert_close, *build(lamina), **kwargs)
    want_type, want_msg = _outcome(torch.testing.assert_close, *build(torch), **kwargs)
    assert got_type is want_type, (got_msg, want_msg)
    assert got_msg == _lamina_spelling(want_msg)


def test_every_case_table_entry_can_fail():
    failing = [n for n, (build, kw) in CASES.items() if _outcome(torch.testing.assert_close, *build(torch), **kw)[0]]
    assert len(failing) > 35 and "float-mixed-nan" in failing  # most cases exercise a message


def test_message_layout_spelled_out():
    a = lamina.zeros(3, 4)
    b = a.clone()
    b[0, 1], b[1, 2], b[2, 3] = 1.0, 0.5, 0.25
    with pytest.raises(AssertionError) as info:
        assert_close(b, a)
    assert str(info.value).splitlines() == [
        "Tensor-likes are not close!", "", "Mismatched elements: 3 / 12 (25.0%)",
        "Greatest absolute difference: 1.0 at index (0, 1) (up to 1e-05 allowed)",
        "Greatest relative difference: inf at index (0, 1) (up to 1.3e-06 allowed)"]


@pytest.mark.parametrize("dtype, rtol, atol", [("float16", 1e-3, 1e-5), ("bfloat16", 1.6e-2, 1e-5),
                                               ("float32", 1.3e-6, 1e-5), ("float64", 1e-7, 1e-7),
                                               ("complex64", 1.3e-6, 1e-5), ("complex128", 1e-7, 1e-7),
                                               ("int64", 0, 0), ("bool", 0, 0)])
def test_default_tolerances_per_dtype(dtype, rtol, atol):
    from lamina_testkit.comparison import default_tolerances

    assert default_tolerances(getattr(lamina, dtype)) == (rtol, atol)
    assert torch.testing._comparison.default_tolerances(getattr(torch, dtype)) == (rtol, atol)


def test_assert_allclose_is_deprecated_and_looser_like_torch():
    for lib, fn in ((lamina, assert_allclose), (torch, torch.testing.assert_allclose)):
        with pytest.warns(FutureWarning, match="assert_close"):
            fn(lib.tensor([1.0, NAN]), [1.00005, NAN])  # rtol 1e-4 for float32, NaN equal by default
        with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="Tensor-likes are not close"):
            fn(lib.tensor([1.0]), [1.01])
        with pytest.warns(FutureWarning):
            fn(lib.tensor([1, 2]), lib.tensor([1.0, 2.0]))  # dtypes are not checked


# --- make_tensor ------------------------------------------------------------------------------------
RANGES = {"bool": (0, 1), "uint8": (0, 9), "int8": (-9, 9), "int16": (-9, 9), "int32": (-9, 9), "int64": (-9, 9),
          "float16": (-9, 9), "bfloat16": (-9, 9), "float32": (-9, 9), "float64": (-9, 9), "complex64": (-9, 9),
          "complex128": (-9, 9)}


@pytest.mark.parametrize("dtype", list(RANGES))
def test_make_tensor_default_ranges_per_dtype(dtype):
    lamina.manual_seed(0)
    torch.manual_seed(0)
    t = make_tensor(40, 50, dtype=getattr(lamina, dtype), device="cpu")
    ref = torch.testing.make_tensor(40, 50, dtype=getattr(torch, dtype), device="cpu")
    assert t.dtype is getattr(lamina, dtype) and t.shape == (40, 50) and t.is_contiguous()
    assert not t.requires_grad and t.device == lamina.device("cpu")
    lo, hi = RANGES[dtype]
    parts = [t.real, t.imag] if t.dtype.is_complex else [t]
    refs = [ref.real, ref.imag] if ref.dtype.is_complex else [ref]
    for p, r in zip(parts, refs):
        values = np.asarray(p.double() if dtype != "bool" else p.long(), dtype=np.float64)
        theirs = r.double().numpy() if dtype != "bool" else r.long().numpy().astype(np.float64)
        assert values.min() >= lo and values.max() <= hi and theirs.min() >= lo and theirs.max() <= hi
        assert values.max() - values.min() > 0.8 * (hi - lo)  # spread over the whole range
        if not t.dtype.is_floating_point and not t.dtype.is_complex:
            assert set(np.unique(values)) == set(range(lo, hi + 1))  # every integer, the high bound excluded


@pytest.mark.parametrize("dtype, low, high, lo, hi", [
    ("float32", -1, 1, -1, 1), ("int64", 2, 5, 2, 4), ("uint8", -5, 3, 0, 2), ("int8", 120, 1000, 120, 127),
    ("int32", 0.5, 3.2, 1, 3), ("float64", 0.25, 0.5, 0.25, 0.5)])
def test_make_tensor_low_high_clamped_and_rounded(dtype, low, high, lo, hi):
    lamina.manual_seed(1)
    torch.manual_seed(1)
    t = make_tensor((500,), dtype=getattr(lamina, dtype), device="cpu", low=low, high=high)
    ref = torch.testing.make_tensor((500,), dtype=getattr(torch, dtype), device="cpu", low=low, high=high)
    for values in (np.asarray(t.double()), ref.double().numpy()):
        assert values.min() >= lo and values.max() <= hi
        if dtype.startswith(("int", "uint")):
            assert values.min() == lo and values.max() == hi


def test_make_tensor_shapes_flags_and_options():
    f32 = lamina.float32
    for shape in ((2, 3), ([2, 3],), ((2, 3),), (lamina.Size([2, 3]),)):
        assert make_tensor(*shape, dtype=f32, device="cpu").shape == (2, 3)
    assert make_tensor(dtype=f32, device="cpu").shape == () and make_tensor(0, 4, dtype=f32, device="cpu").numel() == 0
    t = make_tensor(3, 4, dtype=f32, device=lamina.device("cpu"), requires_grad=True)
    assert t.requires_grad and t.is_leaf
    nc = make_tensor(3, 4, dtype=lamina.int32, device="cpu", noncontiguous=True)
    ref = torch.testing.make_tensor(3, 4, dtype=torch.int32, device="cpu", noncontiguous=True)
    assert nc.shape == (3, 4) and not nc.is_contiguous() and nc.stride() == ref.stride() == (8, 2)
    assert make_tensor(1, dtype=f32, device="cpu", noncontiguous=True).is_contiguous()  # one element: ignored
    lamina.manual_seed(2)
    for dtype, tiny in (("int64", 1), ("float32", lamina.finfo(f32).tiny), ("bool", True)):
        z = make_tensor(2000, dtype=getattr(lamina, dtype), device="cpu", low=-1 if dtype != "bool" else None,
                        high=1 if dtype != "bool" else None, exclude_zero=True)
        assert int((z == 0).sum()) == 0
        if dtype != "float32":
            assert bool((z == tiny).any())


@pytest.mark.parametrize("kwargs", [
    {"dtype": "int64", "requires_grad": True}, {"dtype": "bool", "requires_grad": True},
    {"dtype": "float32", "low": 2, "high": 1}, {"dtype": "int32", "low": 3, "high": 3},
    {"dtype": "float32", "low": NAN}, {"dtype": "uint8", "low": 300, "high": 400},
    {"dtype": "int8", "low": -1000, "high": -500}], ids=str)
def test_make_tensor_errors_match_torch(kwargs):
    kw = dict(kwargs)
    name = kw.pop("dtype")
    got = _outcome(make_tensor, 3, dtype=getattr(lamina, name), device="cpu", **kw)
    want = _outcome(torch.testing.make_tensor, 3, dtype=getattr(torch, name), device="cpu", **kw)
    assert got[0] is want[0] is ValueError
    assert got[1] == _lamina_spelling(want[1])


def test_make_tensor_low_equal_high_for_floats_warns_like_torch():
    with pytest.warns(FutureWarning, match="low==high"):
        t = make_tensor(3, dtype=lamina.float32, device="cpu", low=2.0, high=2.0)
    with pytest.warns(FutureWarning, match="low==high"):
        torch.testing.make_tensor(3, dtype=torch.float32, device="cpu", low=2.0, high=2.0)
    assert t.tolist() == [2.0, 2.0, 2.0]


def test_make_tensor_full_float_range_does_not_overflow():
    lamina.manual_seed(3)
    info = lamina.finfo(lamina.float32)
    t = make_tensor(1000, dtype=lamina.float32, device="cpu", low=-math.inf, high=math.inf)
    values = np.asarray(t).astype(np.float64)
    assert np.isfinite(values).all() and values.min() >= info.min and values.max() <= info.max
    assert values.max() - values.min() > info.max  # spread over the range, not collapsed by the overflow
