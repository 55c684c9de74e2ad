"""The fused kernels for other plugins' ops, checked without a GPU: the records' float64 references
agree with each op's reference implementation on the CPU; a NumPy transliteration of the im2col,
col2im and max-pool kernels (same thread-index decomposition, same geometry helper) reproduces
ConvNd / MaxPoolNd forward and backward; the supports predicates; every kernel registered by op name
joins its op; lamina-optim routes every Adam/SGD update, on any device, through the AdamStep/SGDStep
ops (where the CUDA kernels take over), bitwise equal across devices."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _cuda_standin import standin_cuda
from lamina_backend_cuda import kernels, testing, testing_fused
from lamina_backend_cuda.kernels import _source
from lamina_backend_cuda.testing_fused import DEFINED_BY, target_op

pytest.importorskip("lamina_layers_basic")

FUSED = [r for r in testing.records()[1:] if r.impl.__module__.split(".")[-1] in kernels.MODULES[:5]]


def _run_op(op, args, kwargs):
    with lamina.no_grad():
        out = op.apply(*[lamina.tensor(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("dtype, tol", [("float64", (1e-10, 1e-12)), ("float32", (1e-4, 1e-5))])
@pytest.mark.parametrize("record", FUSED, ids=lambda r: r.name)
def test_record_reference_matches_the_op_on_cpu(record, dtype, tol):
    """The samples and float64 references the GPU kit uses agree with the op's own reference."""
    for s in record.sample_inputs(np, np.dtype(dtype), np.random.default_rng(0)):
        got = _run_op(record.op, s.args, s.kwargs).numpy()
        args64 = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in s.args]
        want = record.reference(*args64, **s.kwargs)
        assert got.dtype == np.dtype(dtype), s.name
        np.testing.assert_allclose(got, want, *tol, err_msg=f"{record.name} {s.name}")


def test_every_target_op_is_installed_here_and_its_kernel_joins_it():
    assert len(FUSED) == 6
    with standin_cuda():
        for name in DEFINED_BY:
            op = target_op(name)
            assert op is not None and op.__module__.startswith("lamina_"), name
            (k,) = lamina.kernels.candidates(op, "cuda")
            assert k.name == kernels.kernel_name(name) and k.op is op and k.error is None
        assert kernels.skipped() == {}


# --- NumPy transliterations of conv.cu / pool.cu: the thread index i decomposed exactly as the kernels do
def _im2col(x, g):
    N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW = g
    i = np.arange(N * C * KH * KW * OH * OW)
    ow, r = i % OW, i // OW
    oh, r = r % OH, r // OH
    kw, r = r % KW, r // KW
    kh, r = r % KH, r // KH
    ih, iw = oh * SH - PH + kh * DH, ow * SW - PW + kw * DW
    ok = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
    flat = x.reshape(-1)
    return np.where(ok, flat[np.where(ok, (r * H + ih) * W + iw, 0)], 0).reshape(N, C * KH * KW, OH * OW)


def _gather_offsets(g, shape_out, visit):
    """For every input position (thread), visit(kh, kw, o, inside) in the kernels' loop order."""
    N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW = g
    i = np.arange(N * C * H * W)
    w, r = i % W, i // W
    h, r = r % H, r // H
    for kh in range(KH):
        th = h + PH - kh * DH
        for kw in range(KW):
            tw = w + PW - kw * DW
            ok = (th >= 0) & (th % SH == 0) & (th // SH < OH) & (tw >= 0) & (tw % SW == 0) & (tw // SW < OW)
            visit(kh, kw, r, np.where(ok, th // SH, 0), np.where(ok, tw // SW, 0), ok)


def _col2im(cols, g):
    N, C, H, W, KH, KW, OH, OW = g[:8]
    flat = cols.reshape(-1)
    acc = np.zeros(N * C * H * W, dtype=cols.dtype)

    def visit(kh, kw, r, oh, ow, ok):
        acc[...] += np.where(ok, flat[(((r * KH + kh) * KW + kw) * OH + oh) * OW + ow], 0)

    _gather_offsets(g, None, visit)
    return acc.reshape(N, C, H, W)


@pytest.mark.parametrize("case", testing_fused.CONV_CASES, ids=str)
def test_im2col_col2im_transliteration_reproduces_convnd(case):
    from lamina_layers_basic.conv import ConvNd

    xs, ws, stride, pads, dil, groups = case
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    out = tuple((s + lo + hi - d * (k - 1) - 1) // st + 1 for s, (lo, hi), k, st, d in zip(xs[2:], pads, ws[2:],
                                                                                          stride, dil))
    g = _source.geometry_2d(xs, ws[2:], stride, tuple(lo for lo, _ in pads), dil, out)
    cols = _im2col(x, g)
    N, O = xs[0], ws[0]
    cg = cols.reshape(N, groups, -1, cols.shape[-1])
    y = np.matmul(w.reshape(groups, O // groups, -1), cg).reshape((N, O) + out)
    xt, wt = lamina.tensor(x, requires_grad=True), lamina.tensor(w, requires_grad=True)
    yt = ConvNd.apply(xt, wt, None, stride, pads, dil, groups)
    np.testing.assert_allclose(y, yt.detach().numpy(), 1e-12, 1e-12)
    dy = rng.standard_normal(yt.shape)
    (yt * lamina.tensor(dy)).sum().backward()
    dyg = dy.reshape(N, groups, O // groups, -1)
    dcols = np.matmul(w.reshape(groups, O // groups, -1).swapaxes(-1, -2), dyg).reshape(N, -1, dyg.shape[-1])
    np.testing.assert_allclose(_col2im(dcols, g).reshape(xs), xt.grad.numpy(), 1e-12, 1e-12)
    np.testing.assert_allclose(np.matmul(dyg, cg.swapaxes(-1, -2)).sum(0).reshape(ws), wt.grad.numpy(), 1e-12, 1e-12)


def _maxpool(x, g):
    N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW = g
    i = np.arange(N * C * OH * OW)
    ow, r = i % OW, i // OW
    oh, r = r % OH, r // OH
    h0, w0 = oh * SH - PH, ow * SW - PW
    flat = x.reshape(-1)
    best = np.full(i.shape, -np.inf)
    arg = np.zeros(i.shape, dtype=np.int64)
    k = 0
    for kh in range(KH):
        for kw in range(KW):
            ih, iw = h0 + kh * DH, w0 + kw * DW
            ok = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            v = np.where(ok, flat[np.where(ok, r * H * W + ih * W + iw, 0)], -np.inf)
            take = (k == 0) | (v > best) | np.isnan(v)
            best, arg = np.where(take, v, best), np.where(take, k, arg)
            k += 1
    kh, kw = arg // KW, arg % KW
    idx = np.clip(h0 + kh * DH, 0, H - 1) * W + np.clip(w0 + kw * DW, 0, W - 1)
    return best, arg, idx


def _maxpool_grad(dy, arg, g):
    N, C, H, W, KH, KW, OH, OW = g[:8]
    acc = np.zeros(N * C * H * W)

    def visit(kh, kw, r, oh, ow, ok):
        o = r * OH * OW + oh * OW + ow
        acc[...] += np.where(ok & (arg[o] == kh * KW + kw), dy[o], 0)

    _gather_offsets(g, None, visit)
    return acc


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("case", testing_fused.POOL_CASES, ids=str)
def test_maxpool_transliteration_reproduces_maxpoolnd(case, nan):
    from lamina_layers_basic.pool import MaxPoolNd

    xs, k, s, p, d = case
    rng = np.random.default_rng(2)
    x = np.round(rng.standard_normal(xs), 1)  # many ties: the first max must win
    if nan:
        x.reshape(-1)[[3, 5]] = np.nan
    out = tuple(testing_fused.pool_out(v, *a) for v, a in zip(xs[2:], zip(k, s, p, d)))
    g = _source.geometry_2d(xs, k, s, p, d, out)
    y, arg, idx = _maxpool(x, g)
    xt = lamina.tensor(x, requires_grad=True)
    yt, it = MaxPoolNd.apply(xt, k, s, p, d, out, True)
    np.testing.assert_array_equal(y.reshape(yt.shape), yt.detach().numpy())
    np.testing.assert_array_equal(idx.reshape(it.shape), it.numpy())
    dy = rng.standard_normal(yt.shape)
    (yt * lamina.tensor(dy)).sum().backward()
    np.testing.assert_array_equal(_maxpool_grad(dy.reshape(-1), arg, g).reshape(xs), xt.grad.numpy())


@pytest.mark.parametrize("shape, kernel, expected", [
    ((2, 3, 7), (2,), (2, 3, 1, 7, 1, 2, 1, 4, 1, 3, 0, 2, 1, 5)),
    ((2, 3, 7, 5), (2, 3), (2, 3, 7, 5, 2, 3, 4, 4, 3, 3, 2, 2, 5, 5)),
])
def test_geometry_maps_1d_onto_height_one(shape, kernel, expected):
    n = len(kernel)
    assert _source.geometry_2d(shape, kernel, (3,) * n, (2,) * n, (5,) * n, (4,) * n) == expected


class _Fake:
    """Looks like a CuPy array to the supports predicates."""

    __module__ = "cupy._core.core"

    def __init__(self, shape, dtype="float32", contiguous=True):
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), len(shape)
        self.size = int(np.prod(shape))
        self.flags = type("F", (), {"c_contiguous": contiguous})()


def test_supports_predicates():
    from lamina_backend_cuda.kernels import conv, norm, pool, rnn, xent

    F = _Fake
    assert conv.supports([F((2, 3, 8, 8)), F((4, 3, 3, 3)), F((4,)), (1, 1), ((1, 1), (1, 1)), (1, 1), 1], {})
    assert not conv.supports([F((2, 3, 8, 8, 8)), F((4, 3, 3, 3, 3)), None, 0, 0, 0, 1], {})      # 3-D
    assert not conv.supports([F((2, 4, 8, 8)), F((4, 1, 3, 3)), None, 0, 0, 0, 4], {})            # depthwise
    assert not conv.supports([F((2, 3, 8, 8)), F((4, 3, 3, 3), "float64"), None, 0, 0, 0, 1], {})  # mixed dtypes
    assert not conv.supports([np.ones((2, 3, 8, 8)), F((4, 3, 3, 3)), None, 0, 0, 0, 1], {})
    assert pool.supports([F((2, 3, 8, 8)), (2, 2), (2, 2), (0, 0), (1, 1), (4, 4), False], {})
    assert not pool.supports([F((2, 3, 8, 8, 8)), (2, 2, 2), (2, 2, 2), (0,) * 3, (1,) * 3, (4,) * 3, False], {})
    i64 = F((4,), "int64")
    assert xent.supports([F((4, 10)), i64, None, -100, 0.0, "mean"], {})
    assert xent.supports([F((4, 10)), i64, F((10,)), -100, 0.0, "mean"], {})
    assert not xent.supports([F((4, 10, 3)), F((4, 3), "int64"), None, -100, 0.0, "mean"], {})  # K-d
    assert not xent.supports([F((4, 10)), F((4,), "float32"), None, -100, 0.0, "mean"], {})
    assert rnn.supports_gru([F((6, 4)), None, F((15, 4)), F((15, 5)), None, None, (), False], {})
    assert not rnn.supports_gru([F((6, 4)), None, F((15, 4), "float64"), F((15, 5)), None, None, (), False], {})
    specs = dict((n, s) for n, _, s in testing_fused.norm_specs())
    assert [norm.layout(s) for s in specs.values()] == ["group", "group", "row", "row"]
    assert norm.group_plan(specs["batch"]) == (3, 4, 10, 30, 3)
    assert norm.group_plan(specs["instance"]) == (6, 1, 17, 51, 3)
    bn = specs["batch"]
    assert norm.supports([F((4, 3, 10)), F((3,)), F((3,)), None, None, bn], {})
    assert not norm.supports([F((4, 3, 10)), F((3,)), F((3,)), F((1, 3, 1)), F((1, 3, 1)), bn], {})  # eval stats
    from lamina_norms._kernel import Spec
    assert norm.layout(Spec((2, 2, 3, 5), (2, 3), (1, 2, 3, 1), 1e-5)) is None                       # group norm


@pytest.mark.parametrize("name, kwargs", [("Adam", {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1}),
                                          ("AdamW", {"lr": 1e-2, "maximize": True}),
                                          ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                          ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.1,
                                                   "weight_decay": 0.01})])
def test_optim_goes_through_the_update_ops_on_every_device_bitwise(name, kwargs, monkeypatch):
    pytest.importorskip("lamina_optim")
    from lamina_optim import fused

    calls = []
    for op in (fused.AdamStep, fused.SGDStep):
        monkeypatch.setattr(op, "forward", _counting(op.forward, calls))
    rng = np.random.default_rng(4)
    init = rng.standard_normal((3, 5)).astype(np.float32)
    grads = [rng.standard_normal((3, 5)).astype(np.float32) for _ in range(4)]
    result = {}
    with standin_cuda():
        for dev in ("cpu", "cuda"):
            p = lamina.nn.Parameter(lamina.tensor(init, device=dev))
            opt = getattr(lamina.optim, name)([p], **kwargs)
            for g in grads:
                p.grad = lamina.tensor(g, device=dev)
                opt.step()
            result[dev] = p.detach().cpu().numpy()
    assert len(calls) == 2 * len(grads)        # one op call per parameter and step, on either device
    assert np.array_equal(result["cpu"], result["cuda"])


def _counting(fn, calls):
    def forward(ctx, *args, **kwargs):
        calls.append(1)
        return fn(ctx, *args, **kwargs)
    return staticmethod(forward)
