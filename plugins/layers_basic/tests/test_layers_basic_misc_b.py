"""Reshaping and distance layers (PyTorch parity), and a check of every part-B info record."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import FunctionInfo, ModuleInfo, gradcheck, gradgradcheck
from lamina_layers_basic.testing_b import records_b

RESHAPE = [("Flatten", {}, (2, 3, 4, 5)), ("Flatten", {"start_dim": 0, "end_dim": 2}, (2, 3, 4, 5)),
           ("Unflatten", {"dim": 1, "unflattened_size": (3, 4)}, (2, 12, 5)),
           ("Unflatten", {"dim": -1, "unflattened_size": (2, -1)}, (2, 12)),
           ("PixelShuffle", {"upscale_factor": 2}, (2, 8, 3, 4)), ("PixelShuffle", {"upscale_factor": 3}, (9, 2, 2)),
           ("PixelShuffle", {"upscale_factor": 2}, (2, 2, 4, 3, 3)),
           ("PixelUnshuffle", {"downscale_factor": 2}, (2, 3, 4, 6)),
           ("PixelUnshuffle", {"downscale_factor": 3}, (1, 6, 6)), ("ChannelShuffle", {"groups": 3}, (2, 6, 4, 4)),
           ("ChannelShuffle", {"groups": 2}, (3, 4, 5))]


@pytest.mark.parametrize("name,kwargs,shape", RESHAPE, ids=[f"{r[0]}{r[1]}{r[2]}" for r in RESHAPE])
def test_reshaping_parity(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    m, tm = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(m) == repr(tm)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(lx), tm(tx)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())


COS = [((4, 5), (4, 5), {}), ((4, 5, 3), (4, 5, 3), {"dim": 2}), ((4, 5), (1, 5), {"dim": -1}),
       ((3, 6), (3, 6), {"eps": 0.5}), ((5,), (5,), {"dim": 0})]
PDIST = [((4, 5), (4, 5), {}), ((4, 5), (4, 5), {"p": 1.0}), ((4, 5), (4, 5), {"p": 3.0, "keepdim": True}),
         ((4, 5), (5,), {"p": float("inf")}), ((5,), (5,), {"p": 0.5}), ((3, 2, 4), (3, 2, 4), {"eps": 1e-3})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn,case", [("cosine_similarity", c) for c in COS] + [("pairwise_distance", c) for c in PDIST],
                         ids=lambda v: str(v))
def test_distance_parity(fn, case, dtype):
    torch = pytest.importorskip("torch")
    s1, s2, kwargs = case
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype)
    la, lb = lamina.tensor(a, requires_grad=True), lamina.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = getattr(F, fn)(la, lb, **kwargs), getattr(torch.nn.functional, fn)(ta, tb, **kwargs)
    assert y.dtype == la.dtype and tuple(y.shape) == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    tol = 1e-5 if dtype == "float32" else 1e-10
    for ours, theirs in ((y, ty), (la.grad, ta.grad), (lb.grad, tb.grad)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def test_cosine_similarity_small_norm_and_zero_vectors_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((3, 4))
    a[0] = 0.0
    a[1] *= 1e-10
    b = np.random.default_rng(4).standard_normal((3, 4))
    la, ta = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = nn.CosineSimilarity(eps=1e-8)(la, lamina.tensor(b))
    ty = torch.nn.CosineSimilarity(eps=1e-8)(ta, torch.tensor(b))
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-8)
    assert np.isfinite(la.grad.numpy()).all()


def test_pairwise_distance_module_and_gradchecks():
    torch = pytest.importorskip("torch")
    assert repr(nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    assert repr(nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    m = nn.PairwiseDistance(p=3.0, keepdim=True)
    assert m.norm == 3.0 and m.keepdim
    a = lamina.randn(3, 4, dtype=lamina.float64, requires_grad=True)
    b = lamina.randn(3, 4, dtype=lamina.float64, requires_grad=True)
    for p in (1.0, 2.0, 3.0, float("inf")):
        assert gradcheck(lambda u, v, p=p: F.pairwise_distance(u, v, p=p), (a, b))
    assert gradgradcheck(lambda u, v: F.pairwise_distance(u, v, p=2.0), (a, b))
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))
    assert gradgradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))


ERRORS = [
    (lambda: F.pixel_shuffle(lamina.randn(1, 5, 2, 2), 2), lamina.ShapeError,
     r"pixel_shuffle: expected the channel dimension \(size\(-3\)=5\) to be divisible by upscale_factor\*\*2 = 4"),
    (lambda: F.pixel_unshuffle(lamina.randn(1, 1, 3, 4), 2), lamina.ShapeError,
     r"pixel_unshuffle: expected height and width divisible by downscale_factor=2, got size\(-2\)=3"),
    (lambda: F.pixel_shuffle(lamina.randn(4, 2), 2), lamina.ShapeError,
     r"pixel_shuffle: expected input \(\*, C, H, W\)"),
    (lambda: nn.PixelShuffle(0)(lamina.randn(1, 4, 2, 2)), ValueError, r"expected upscale_factor to be a positive"),
    (lambda: nn.ChannelShuffle(2)(lamina.randn(1, 5, 2)), lamina.ShapeError,
     r"channel_shuffle: expected the number of channels \(5\) to be divisible by groups \(2\)"),
    (lambda: nn.Unflatten(1, 6), TypeError, r"Unflatten: expected unflattened_size to be a tuple or list of ints"),
    (lambda: F.cosine_similarity(lamina.randn(3, 4), lamina.randn(2, 4)), lamina.ShapeError,
     r"cosine_similarity: expected x1 and x2 broadcastable, got shapes \[3, 4\] and \[2, 4\]"),
    (lambda: F.cosine_similarity(lamina.randn(3, 4), lamina.randn(3, 4), dim=2), IndexError,
     r"cosine_similarity: dim out of range"),
    (lambda: F.pairwise_distance(lamina.randn(3, 4), lamina.randn(3, 5)), lamina.ShapeError,
     r"pairwise_distance: expected x1 and x2 broadcastable"),
]


@pytest.mark.parametrize("call,error,match", ERRORS, ids=[e[2][:30] for e in ERRORS])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the info records of testing_b: every one runs, matches its reference and its gradients check ---

RECORDS = records_b()


def _rid(rec):
    return rec.name or getattr(rec.cls if isinstance(rec, ModuleInfo) else rec.fn, "__name__", "?")


def _build(rec, dtype):
    if isinstance(rec, ModuleInfo):
        m = rec.cls(**rec.init_kwargs)
        return m.to(getattr(lamina, dtype)) if dtype in ("float32", "float64") else m
    return rec.fn


def _wrap(sample):
    args = tuple(lamina.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args)
    kwargs = {k: lamina.tensor(v) if isinstance(v, np.ndarray) else v for k, v in sample.kwargs.items()}
    return args, kwargs


def test_records_cover_every_part_b_component():
    names = {rec.cls.__name__ if isinstance(rec, ModuleInfo) else rec.fn.__name__ for rec in RECORDS}
    for mod in ("activation", "activation_misc", "dropout", "embedding", "reshaping", "distance"):
        from importlib.metadata import entry_points

        for ep in list(entry_points(group="lamina.layers")) + list(entry_points(group="lamina.functional")):
            if ep.value.startswith(f"lamina_layers_basic.{mod}:"):
                assert ep.name in names, f"no info record for {ep.name}"


@pytest.mark.parametrize("rec", RECORDS, ids=_rid)
def test_record_reference_and_gradcheck(rec):
    if "random" in rec.tags:
        pytest.skip("random forward: checked statistically in test_layers_basic_dropout")
    for dtype in rec.dtypes:
        rng = np.random.default_rng(0)
        obj = _build(rec, dtype)
        for sample in rec.sample_inputs(np, np.dtype(dtype) if dtype != "int64" else np.float64, rng):
            args, kwargs = _wrap(sample)
            if "inplace" in rec.tags:
                args = tuple(a.clone() if isinstance(a, lamina.Tensor) else a for a in args)
            y = obj(*args, **kwargs)
            if rec.reference is not None:
                ref_args = [np.asarray(a, dtype=np.float64) if a.dtype.kind == "f" else a for a in sample.args]
                ref_kwargs = {k: v for k, v in sample.kwargs.items()}
                if isinstance(rec, ModuleInfo):
                    params = {k: v.detach().numpy().astype(np.float64) for k, v in obj.state_dict().items()}
                    expected = rec.reference(params, *ref_args, **ref_kwargs)
                else:
                    expected = rec.reference(*ref_args, **ref_kwargs)
                tol = (1e-7, 1e-7) if dtype != "float32" else (1e-4, 1e-5)
                np.testing.assert_allclose(y.detach().numpy(), expected, rtol=tol[0], atol=tol[1])
            if dtype == "float64" and y.is_floating_point():
                diff = [i for i, a in enumerate(args) if isinstance(a, lamina.Tensor) and a.is_floating_point()
                        and (sample.grad_args is None or i in sample.grad_args)]
                params = list(obj.parameters()) if isinstance(rec, ModuleInfo) else []
                if not diff and not params:
                    continue
                inputs = [lamina.tensor(a, requires_grad=i in diff) if isinstance(a, np.ndarray) else a
                          for i, a in enumerate(sample.args)]  # fresh: an inplace forward mutated args

                n_in, clone = len(inputs), "inplace" in rec.tags

                def fn(*xs, _obj=obj, _n=n_in, _kw=kwargs, _clone=clone):
                    xs = tuple(x.clone() if _clone and isinstance(x, lamina.Tensor) else x for x in xs)
                    return _obj(*xs[:_n], **_kw)

                if "gradcheck" in rec.expected_failures:
                    continue
                assert gradcheck(fn, (*inputs, *params))
                if "double_backward" in rec.tags:
                    assert gradgradcheck(fn, (*inputs, *params))


@pytest.mark.parametrize("rec", [r for r in RECORDS if r.error_inputs], ids=_rid)
def test_record_error_inputs(rec):
    errors = rec.error_inputs(np, np.float32, np.random.default_rng(0)) if callable(rec.error_inputs) \
        else rec.error_inputs
    assert errors
    for err in errors:
        with pytest.raises(err.error_type, match=err.match):
            if err.init_kwargs is not None:
                rec.cls(**err.init_kwargs)
            else:
                args, kwargs = _wrap(err.sample)
                _build(rec, "float32")(*args, **kwargs)
    assert isinstance(rec, (ModuleInfo, FunctionInfo))
