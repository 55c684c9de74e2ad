"""lamina.nn.utils.fusion against torch.nn.utils.fusion: same conv/linear and batch-norm state, then the
fused parameters, the fused layer's output (equal to bn(conv(x)) in eval) and the errors."""

from __future__ import annotations

import lamina
import lamina.nn.utils.fusion as LF
import numpy as np
import pytest
import torch
import torch.nn.utils.fusion as TF


def _np(t):
    return np.asarray(t.detach().numpy())


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _pair(kind, args, seed, **kw):
    lm = getattr(lamina.nn, kind)(*args, dtype=lamina.float64, **kw)
    tm = getattr(torch.nn, kind)(*args, dtype=torch.float64, **kw)
    rng = np.random.default_rng(seed)
    for store in ("_parameters", "_buffers"):
        for name, tv in getattr(tm, store).items():
            if tv is None or not tv.is_floating_point():
                continue
            v = rng.uniform(0.5, 1.5, size=tuple(tv.shape)) if name == "running_var" else \
                rng.standard_normal(tuple(tv.shape))
            with lamina.no_grad():
                getattr(lm, store)[name].copy_(lamina.tensor(v))
            with torch.no_grad():
                tv.copy_(torch.tensor(v))
    return lm.eval(), tm.eval()


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("conv,bn,args,xshape,transpose", [
    ("Conv1d", "BatchNorm1d", (2, 3, 3), (2, 2, 7), False),
    ("Conv2d", "BatchNorm2d", (2, 4, 3), (1, 2, 6, 6), False),
    ("Conv3d", "BatchNorm3d", (2, 3, 2), (1, 2, 4, 4, 4), False),
    ("ConvTranspose2d", "BatchNorm2d", (2, 4, 3), (1, 2, 5, 5), True),
])
def test_fuse_conv_bn_eval(conv, bn, args, xshape, transpose, bias, affine):
    lc, tc = _pair(conv, args, 0, bias=bias)
    lb, tb = _pair(bn, (args[1],), 1, affine=affine)
    lf = LF.fuse_conv_bn_eval(lc, lb, transpose=transpose)
    tf = TF.fuse_conv_bn_eval(tc, tb, transpose=transpose)
    assert type(lf) is type(lc) and lf is not lc
    assert list(lf.state_dict()) == list(tf.state_dict())
    _close(lf.weight, tf.weight)
    _close(lf.bias, tf.bias)
    assert isinstance(lf.weight, lamina.nn.Parameter) and lf.weight.requires_grad
    x = np.random.default_rng(2).standard_normal(xshape)
    _close(lf(lamina.tensor(x)), tf(torch.tensor(x)), 1e-11)
    _close(lf(lamina.tensor(x)), lb(lc(lamina.tensor(x))), 1e-11)
    if not bias:
        assert lc.bias is None  # the original is untouched


@pytest.mark.parametrize("bn_features", [4, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval(bias, bn_features):
    ll, tl = _pair("Linear", (3, 4), 0, bias=bias)
    lb, tb = _pair("BatchNorm1d", (bn_features,), 1)
    lf, tf = LF.fuse_linear_bn_eval(ll, lb), TF.fuse_linear_bn_eval(tl, tb)
    _close(lf.weight, tf.weight)
    _close(lf.bias, tf.bias)
    assert tuple(lf.bias.shape) == tuple(tf.bias.shape)
    x = np.random.default_rng(3).standard_normal((5, 3))
    if not bias and bn_features == 1:
        # the fused bias has torch's shape (1,): lamina's Linear checks bias == (out_features,), torch's
        # addmm broadcasts it; compare the affine map itself
        _close(lamina.tensor(x) @ lf.weight.mT + lf.bias, tf(torch.tensor(x)), 1e-11)
        return
    _close(lf(lamina.tensor(x)), tf(torch.tensor(x)), 1e-11)
    if bn_features == 4:
        _close(lf(lamina.tensor(x)), lb(ll(lamina.tensor(x))), 1e-11)


def test_fuse_weights_functions():
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    rm, rv, g, be = rng.standard_normal(4), rng.uniform(0.5, 2, 4), rng.standard_normal(4), rng.standard_normal(4)
    L = [lamina.tensor(a) for a in (w, b, rm, rv, g, be)]
    T = [torch.tensor(a) for a in (w, b, rm, rv, g, be)]
    for lo, to in zip(LF.fuse_conv_bn_weights(L[0], L[1], L[2], L[3], 1e-5, L[4], L[5]),
                      TF.fuse_conv_bn_weights(T[0], T[1], T[2], T[3], 1e-5, T[4], T[5]), strict=True):
        _close(lo, to)
        assert isinstance(lo, lamina.nn.Parameter) and lo.requires_grad == to.requires_grad
    for lo, to in zip(LF.fuse_conv_bn_weights(L[0], None, L[2], L[3], 1e-3, None, None),
                      TF.fuse_conv_bn_weights(T[0], None, T[2], T[3], 1e-3, None, None), strict=True):
        _close(lo, to)
        assert lo.requires_grad == to.requires_grad
    lw = lamina.tensor(w[:, :, 0, 0])
    tw = torch.tensor(w[:, :, 0, 0])
    for lo, to in zip(LF.fuse_linear_bn_weights(lw, None, L[2], L[3], 1e-5, L[4], L[5]),
                      TF.fuse_linear_bn_weights(tw, None, T[2], T[3], 1e-5, T[4], T[5]), strict=True):
        _close(lo, to)


def test_errors():
    for F, lib in ((LF, lamina), (TF, torch)):
        conv, bn = lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3)
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            F.fuse_conv_bn_eval(conv, bn.eval())
        lin, bn4 = lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(4).eval()
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            F.fuse_linear_bn_eval(lin, lib.nn.BatchNorm1d(3))
        with pytest.raises(AssertionError, match="linear.out_features=3 and bn.num_features=4"):
            F.fuse_linear_bn_eval(lin, bn4)
        nostats = lib.nn.BatchNorm2d(3, track_running_stats=False).eval()
        with pytest.raises(AssertionError, match="must not be None"):
            F.fuse_conv_bn_eval(conv.eval(), nostats)


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_weights_keep_each_dtype(transpose):
    # float32 conv weight and bias with float64 batch-norm statistics: each result keeps its input's dtype
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((3, 3, 2, 2)), rng.standard_normal(3)
    rm, rv, g, be = rng.standard_normal(3), rng.uniform(0.5, 2, 3), rng.standard_normal(3), rng.standard_normal(3)
    outs = []
    for F, lib in ((LF, lamina), (TF, torch)):
        stats = [lib.tensor(a) for a in (rm, rv, g, be)]
        outs.append(F.fuse_conv_bn_weights(lib.tensor(w, dtype=lib.float32), lib.tensor(b, dtype=lib.float16),
                                           stats[0], stats[1], 1e-5, stats[2], stats[3], transpose=transpose))
    for lo, to in zip(*outs, strict=True):
        assert str(lo.dtype).rpartition(".")[2] == str(to.dtype).rpartition(".")[2]
        np.testing.assert_allclose(_np(lo).astype(np.float64), _np(to).astype(np.float64), rtol=1e-3, atol=1e-3)
