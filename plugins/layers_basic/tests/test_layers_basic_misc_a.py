"""F.pad, fold/unfold, interpolate and the padding/upsampling layers; plus a run of part A's records."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_a_helpers import F32, compare
from lamina.errors import ShapeError
from lamina.testing import gradcheck


@pytest.mark.parametrize("mode, shape, pad", [
    ("constant", (2, 3, 4), (1, 2)), ("constant", (2, 3, 4), (1, -1, 2, 0, 0, 1)), ("constant", (5,), (-2, 3)),
    ("constant", (2, 3, 4, 5), (0, 0, 0, 0, 1, 1, 2, 2)),
    ("reflect", (2, 3, 5), (2, 4)), ("reflect", (3, 5), (1, 1)), ("reflect", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("reflect", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("replicate", (2, 3, 4), (3, 1)), ("replicate", (2, 3, 4, 5), (2, 2, 0, 3)),
    ("replicate", (2, 4, 3, 5), (1, 0, 2, 1)),
    ("replicate", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("circular", (2, 3, 4), (2, 4)), ("circular", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("circular", (2, 3, 4, 5), (-1, 2, 1, -2)),
    ("circular", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
])
def test_pad_matches_torch(mode, shape, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    value = 0.5 if mode == "constant" else None
    compare(lambda x: torch.nn.functional.pad(x, pad, mode=mode, value=value),
            lambda x: F.pad(x, pad, mode=mode, value=value), [rng.standard_normal(shape)], rng)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = lamina.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.pad(x, (2, 1, -1, 2) if mode in ("constant", "circular") else (2, 1, 1, 2), mode),
                     (x,))


@pytest.mark.parametrize("name, args, shape", [
    ("ZeroPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("ZeroPad2d", (2,), (3, 4, 5)),
    ("ConstantPad1d", (2, 1.5), (2, 3, 4)), ("ConstantPad1d", ((1, 3), -1.0), (3, 4)),
    ("ConstantPad2d", ((1, 2, 0, 3), 3.0), (2, 3, 4, 5)), ("ReflectionPad2d", ((2, 1, 0, 3),), (2, 3, 4, 5)),
    ("ReflectionPad2d", (1,), (3, 4, 5)), ("ReplicationPad2d", ((2, 0, 1, 3),), (2, 3, 4, 5)),
])
def test_padding_modules_match_torch(name, args, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    lm, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape)], rng)


@pytest.mark.parametrize("call, etype, match", [
    (lambda: F.pad(lamina.randn(2, 3), (1, 2, 3)), ValueError, "pad: padding length must be divisible by 2"),
    (lambda: F.pad(lamina.randn(2, 3), (1, 1, 1, 1, 1, 1)), ValueError, "pad: padding length too large"),
    (lambda: F.pad(lamina.randn(1, 2, 3), (3, 0), mode="reflect"), ShapeError,
     r"pad: reflect padding expects each pad to be less than the input size at dim 2, got pads \(3, 0\)"),
    (lambda: F.pad(lamina.randn(1, 2, 3), (1, 0), mode="mirror"), ValueError, "pad: mode must be one of"),
    (lambda: F.pad(lamina.randn(3), (1, 0), mode="replicate"), NotImplementedError,
     r"pad: replicate padding of the last 1 dims expects a 2-D \(unbatched\) or 3-D"),
    (lambda: nn.ReflectionPad2d(1)(lamina.randn(4, 4)), ShapeError, r"ReflectionPad2d: expected 3-D \(unbatched\)"),
])
def test_pad_errors(call, etype, match):
    with pytest.raises(etype, match=match):
        call()


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=2),
                                dict(kernel_size=3, padding=(0, 1), stride=(1, 2))])
@pytest.mark.parametrize("batched", [True, False])
def test_fold_unfold_match_torch(kw, batched):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    shape = (2, 3, 7, 8) if batched else (3, 7, 8)
    lu, tu = nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(lu) == repr(tu)
    compare(tu, lu, [rng.standard_normal(shape)], rng)
    cols = tu(torch.tensor(rng.standard_normal(shape))).numpy()
    lf, tf = nn.Fold((7, 8), **kw), torch.nn.Fold((7, 8), **kw)
    assert repr(lf) == repr(tf)
    compare(tf, lf, [cols], rng)


def test_fold_unfold_gradcheck_and_errors():
    rng = np.random.default_rng(4)
    x = lamina.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, 2, padding=1, stride=(1, 2)), (x,))
    c = lamina.tensor(rng.standard_normal((1, 8, 12)), requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, (4, 5), 2), (c,))
    with pytest.raises(ShapeError, match=r"fold: expected input.size\(2\) to match the number of sliding blocks "
                                         r"3 \* 4 = 12 for output_size=\(4, 5\), got 11"):
        F.fold(lamina.randn(1, 8, 11), (4, 5), 2)
    with pytest.raises(ShapeError, match=r"fold: expected input.size\(1\) divisible by the product of kernel_size"):
        F.fold(lamina.randn(1, 7, 12), (4, 5), 2)


INTERP = [("nearest", 1, dict(scale_factor=2)), ("nearest", 2, dict(scale_factor=1.7)),
          ("nearest", 2, dict(size=(3, 7))),
          ("nearest", 3, dict(scale_factor=(2, 1, 0.5))), ("nearest-exact", 2, dict(scale_factor=1.5)),
          ("linear", 1, dict(size=9)), ("linear", 1, dict(scale_factor=0.6)), ("bilinear", 2, dict(scale_factor=2)),
          ("bilinear", 2, dict(size=(3, 9))), ("bilinear", 2, dict(scale_factor=1.3, recompute_scale_factor=True)),
          ("trilinear", 3, dict(size=(3, 5, 2))), ("area", 2, dict(size=(3, 2)))]


@pytest.mark.parametrize("mode, n, kw", INTERP)
@pytest.mark.parametrize("align_corners", [None, True, False])
def test_interpolate_matches_torch(mode, n, kw, align_corners):
    torch = pytest.importorskip("torch")
    if align_corners is not None and mode not in ("linear", "bilinear", "trilinear"):
        pytest.skip("align_corners applies to the interpolating modes only")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3) + (5, 4, 6)[:n])
    compare(lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **kw),
            lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **kw), [x], rng)
    compare(lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **kw),
            lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **kw), [x.astype(np.float32)], rng,
            tol=F32)


@pytest.mark.parametrize("name, kw, shape", [
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)), ("Upsample", dict(size=7, mode="linear"), (2, 3, 4)),
    ("Upsample", dict(scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", dict(size=(5, 7)), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (1, 2, 3, 4)),
])
def test_upsample_modules_match_torch(name, kw, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    lm, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape)], rng)


def test_interpolate_gradcheck_and_errors():
    x = lamina.tensor(np.random.default_rng(7).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), (x,))
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 3)), (x,))
    with pytest.raises(ValueError, match="interpolate: expected exactly one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="interpolate: got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.warns(UserWarning, match="nn.functional.upsample is deprecated"):
        F.upsample(x, scale_factor=2)


# --- part A's own records, run with a minimal harness until the conformance kit runs them -----
def _records():
    from lamina_layers_basic.testing import records_a

    return records_a()


def _build(rec):
    from lamina.testing import ModuleInfo

    if isinstance(rec, ModuleInfo):
        lamina.manual_seed(0)
        m = rec.cls(**rec.init_kwargs).double()
        # parameters read when the reference runs, after the forward: a lazy module sizes them there
        return m, lambda *a: rec.reference({k: v.detach().numpy() for k, v in m.state_dict().items()}, *a)
    return rec.fn, rec.reference


@pytest.mark.parametrize("rec", _records(), ids=lambda r: r.name or getattr(r.cls if hasattr(r, "cls") else r.fn,
                                                                           "__name__", "?"))
def test_record_reference_gradcheck_and_errors(rec):
    import warnings

    fn, ref = _build(rec)
    rng = np.random.default_rng(0)
    for s in rec.sample_inputs(np, np.float64, rng):
        args = [lamina.tensor(a, requires_grad=a.dtype.kind == "f" and (s.grad_args is None or i in s.grad_args))
                if isinstance(a, np.ndarray) else a for i, a in enumerate(s.args)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)           # F.upsample's deprecation warning
            out = fn(*args, **s.kwargs)
            expect = ref(*s.args, **s.kwargs)
            out0 = out[0] if isinstance(out, tuple) else out
            np.testing.assert_allclose(out0.detach().numpy(), expect, rtol=1e-7, atol=1e-7)
            diff = tuple(a for a in args if isinstance(a, lamina.Tensor) and a.requires_grad)
            if diff:
                def f(*d, _args=args, _diff=diff, _kw=s.kwargs):
                    it = iter(d)
                    full = [next(it) if any(a is x for x in _diff) else a for a in _args]
                    r = fn(*full, **_kw)
                    return r[0] if isinstance(r, tuple) else r
                assert gradcheck(f, diff)
    errs = rec.error_inputs(np, np.float64, rng) if callable(rec.error_inputs) else rec.error_inputs
    for e in errs:
        with pytest.raises(e.error_type, match=e.match):
            target = rec.cls(**e.init_kwargs).double() if e.init_kwargs is not None else fn
            target(*[lamina.tensor(a) for a in e.sample.args], **e.sample.kwargs)
