"""The pooling forms that complete the 1/2/3-d sets against PyTorch: max_pool*_with_indices,
adaptive_max_pool*_with_indices, AdaptiveMaxPool3d, LPPool1d/3d, MaxUnpool1d/3d (values, indices, gradients,
repr, errors)."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare
from lamina.testing import gradcheck

TIGHT = dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, shape, kw", [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)), (1, (3, 8), dict(kernel_size=2, dilation=2)),
    (2, (2, 2, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), ceil_mode=True)),
    (3, (1, 2, 5, 4, 6), dict(kernel_size=2, padding=1))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_with_indices(n, shape, kw, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n)
    name = f"max_pool{n}d_with_indices"
    compare(lambda x: getattr(torch.nn.functional, name)(x, **kw), lambda x: getattr(F, name)(x, **kw),
            [rng.standard_normal(shape).astype(dtype)], rng, tol=F32 if dtype == np.float32 else TIGHT)


@pytest.mark.parametrize("n, shape, out", [(1, (2, 3, 9), 4), (2, (2, 7, 6), (3, None)), (3, (1, 2, 5, 4, 6), 2),
                                           (3, (2, 5, 4, 7), (3, 1, None))])
def test_adaptive_max_pool_with_indices(n, shape, out):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n)
    name = f"adaptive_max_pool{n}d_with_indices"
    compare(lambda x: getattr(torch.nn.functional, name)(x, out), lambda x: getattr(F, name)(x, out),
            [rng.standard_normal(shape)], rng, tol=TIGHT)
    if n == 3:
        compare(lambda x: torch.nn.functional.adaptive_max_pool3d(x, out, True),
                lambda x: F.adaptive_max_pool3d(x, out, True), [rng.standard_normal(shape)], rng, tol=TIGHT)


def test_adaptive_max_pool3d_module():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for kw in ({"output_size": (2, 3, 1)}, {"output_size": 2, "return_indices": True}):
        lmod, tmod = nn.AdaptiveMaxPool3d(**kw), torch.nn.AdaptiveMaxPool3d(**kw)
        assert repr(lmod) == repr(tmod)
        compare(tmod, lmod, [rng.standard_normal((2, 3, 4, 5, 3))], rng, tol=TIGHT)
    x = lamina.tensor(rng.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, (2, 2, 2)), (x,))


@pytest.mark.parametrize("cls, p, kw, shape", [
    ("LPPool1d", 2, dict(kernel_size=3, stride=2), (2, 3, 9)), ("LPPool1d", 1.5, dict(kernel_size=2), (3, 8)),
    ("LPPool1d", 3, dict(kernel_size=3, ceil_mode=True), (2, 2, 8)),
    ("LPPool3d", 2, dict(kernel_size=2), (2, 2, 4, 4, 6)), ("LPPool3d", 3, dict(kernel_size=(2, 1, 3), stride=1),
                                                             (2, 3, 4, 5))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lp_pool(cls, p, kw, shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    lmod, tmod = getattr(nn, cls)(p, **kw), getattr(torch.nn, cls)(p, **kw)
    assert repr(lmod) == repr(tmod)
    x = (np.abs(rng.standard_normal(shape)) + 0.2).astype(dtype)  # positive: fractional powers stay real
    compare(tmod, lmod, [x], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12))
    fn = cls.replace("LPPool", "lp_pool")
    compare(lambda x: getattr(torch.nn.functional, fn)(x, p, **kw), lambda x: getattr(F, fn)(x, p, **kw), [x], rng,
            tol=F32 if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12))


def test_lp_pool_gradcheck():
    x = lamina.tensor(np.abs(np.random.default_rng(2).standard_normal((1, 2, 6))) + 0.3, requires_grad=True)
    assert gradcheck(lambda x: F.lp_pool1d(x, 2.0, 3, 2), (x,))
    y = lamina.tensor(np.abs(np.random.default_rng(2).standard_normal((1, 1, 2, 2, 4))) + 0.3, requires_grad=True)
    assert gradcheck(lambda x: F.lp_pool3d(x, 3.0, (1, 2, 2)), (y,))


@pytest.mark.parametrize("n, shape, kw", [(1, (2, 3, 8), dict(kernel_size=2)), (1, (3, 9), dict(kernel_size=3, stride=2,
                                          padding=1)), (3, (1, 2, 4, 4, 6), dict(kernel_size=2)),
                                          (3, (2, 5, 4, 6), dict(kernel_size=(1, 2, 3)))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_unpool(n, shape, kw, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n)
    x = rng.standard_normal(shape).astype(dtype)
    pool = getattr(torch.nn.functional, f"max_pool{n}d")
    ty, ti = pool(torch.tensor(x), return_indices=True, **kw)
    lmod, tmod = getattr(nn, f"MaxUnpool{n}d")(**kw), getattr(torch.nn, f"MaxUnpool{n}d")(**kw)
    assert repr(lmod) == repr(tmod)
    tol = F32 if dtype == np.float32 else TIGHT
    idx = ti.numpy()
    compare(lambda y: tmod(y, torch.tensor(idx)), lambda y: lmod(y, lamina.tensor(idx)), [ty.numpy()], rng, tol=tol)
    big = [s + int(st > 1) for s, st in zip(tmod(ty, ti).shape[-n:], np.broadcast_to(tmod.stride, (n,)).tolist())]
    compare(lambda y: tmod(y, torch.tensor(idx), output_size=big),
            lambda y: lmod(y, lamina.tensor(idx), output_size=big), [ty.numpy()], rng, tol=tol)
    name = f"max_unpool{n}d"
    compare(lambda y: getattr(torch.nn.functional, name)(y, torch.tensor(idx), **kw),
            lambda y: getattr(F, name)(y, lamina.tensor(idx), **kw), [ty.numpy()], rng, tol=tol)


def test_max_unpool_errors_as_torch():
    torch = pytest.importorskip("torch")
    y, i = torch.nn.functional.max_pool1d(torch.randn(1, 2, 8), 2, return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        torch.nn.functional.max_unpool1d(y, i, 2, output_size=[20])
    ly, li = lamina.tensor(y.numpy()), lamina.tensor(i.numpy())
    with pytest.raises(ValueError, match=r"invalid output_size \"\[20\]\" \(dim 0 must be between 6 and 10\)"):
        F.max_unpool1d(ly, li, 2, output_size=[20])
    with pytest.raises(ValueError, match="output_size should be a sequence containing 1 or 3 elements"):
        F.max_unpool1d(ly, li, 2, output_size=[8, 8])
    with pytest.raises(ValueError, match=r"expected indices in \[0, 8\)"):
        F.max_unpool1d(ly, li * 0 + 9, 2)


def test_max_unpool3d_gradcheck():
    x = lamina.tensor(np.random.default_rng(4).standard_normal((1, 2, 4, 2, 4)))
    y, i = F.max_pool3d(x, 2, return_indices=True)
    y = y.detach().requires_grad_(True)
    assert gradcheck(lambda v: F.max_unpool3d(v, i, 2), (y,))


def test_non_contiguous_inputs_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 2, 8, 6))
    lx, tx = lamina.tensor(x).transpose(2, 3), torch.tensor(x).transpose(2, 3)   # (3, 2, 6, 8), strided
    assert not tx.is_contiguous()
    for lf, tf in ((lambda v: F.max_pool2d_with_indices(v, 2), lambda v: torch.nn.functional.max_pool2d_with_indices(
                        v, 2)),
                   (lambda v: F.adaptive_max_pool2d_with_indices(v, (4, 3)),
                    lambda v: torch.nn.functional.adaptive_max_pool2d_with_indices(v, (4, 3))),
                   (lambda v: (F.lp_pool1d(v[..., 0].abs() + 0.1, 2.0, 3),),
                    lambda v: (torch.nn.functional.lp_pool1d(v[..., 0].abs() + 0.1, 2.0, 3),)),
                   (lambda v: (nn.CircularPad2d((1, 2, 0, 1))(v),),
                    lambda v: (torch.nn.CircularPad2d((1, 2, 0, 1))(v),)),
                   (lambda v: (nn.ReflectionPad3d(1)(v),), lambda v: (torch.nn.ReflectionPad3d(1)(v),))):
        for a, b in zip(lf(lx), tf(tx)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
