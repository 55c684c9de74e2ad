"""LazyBatchNorm1d/2d/3d and LazyInstanceNorm1d/2d/3d against PyTorch: uninitialized parameters and buffers
until the first forward, num_features from input.shape[1], then the non-lazy class (same Parameter objects);
repr, state_dict keys and kinds, load_state_dict into an uninitialized module, dtype casts before the first call,
forward values and gradients after it."""

from __future__ import annotations

import copy
import pickle

import lamina
import lamina.nn as nn
import numpy as np
import pytest
from lamina.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

torch = pytest.importorskip("torch")

CASES = [("LazyBatchNorm1d", "BatchNorm1d", (4, 3, 5)), ("LazyBatchNorm1d", "BatchNorm1d", (6, 3)),
         ("LazyBatchNorm2d", "BatchNorm2d", (4, 3, 2, 3)), ("LazyBatchNorm3d", "BatchNorm3d", (2, 3, 2, 2, 3)),
         ("LazyInstanceNorm1d", "InstanceNorm1d", (3, 4, 6)), ("LazyInstanceNorm2d", "InstanceNorm2d", (2, 4, 3, 5)),
         ("LazyInstanceNorm3d", "InstanceNorm3d", (2, 4, 2, 3, 3))]
KWARGS = [{}, {"affine": False}, {"track_running_stats": False}, {"momentum": None, "eps": 1e-3, "bias": False}]


@pytest.mark.parametrize("lazy, final, shape", CASES)
@pytest.mark.parametrize("kw", KWARGS)
def test_lazy_norm_matches_torch(lazy, final, shape, kw):
    lm, tm = getattr(nn, lazy)(**kw, dtype=lamina.float64), getattr(torch.nn, lazy)(**kw, dtype=torch.float64)
    assert repr(lm) == repr(tm)
    lsd, tsd = lm.state_dict(), tm.state_dict()
    assert list(lsd) == list(tsd)
    for k in tsd:
        assert type(lsd[k]).__name__ == type(tsd[k]).__name__, k
    assert lm.has_uninitialized_params() == tm.has_uninitialized_params()
    params = list(lm.parameters())
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 2 + 0.5
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ly, ty = lm(lx), tm(tx)
    assert type(lm).__name__ == type(tm).__name__ == final
    assert repr(lm) == repr(tm) and lm.num_features == tm.num_features == shape[1]
    assert all(p is q for p, q in zip(params, lm.parameters()))
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(9).standard_normal(shape)
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, p), (_, q) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(lm.state_dict()[k].numpy(), v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_load_state_dict_materializes_and_the_class_changes_at_the_next_forward():
    trained = nn.BatchNorm1d(4)
    trained(lamina.randn(8, 4))
    lm = nn.LazyBatchNorm1d()
    assert str(lm.load_state_dict(trained.state_dict())) == "<All keys matched successfully>"
    assert type(lm) is nn.LazyBatchNorm1d and not lm.has_uninitialized_params()
    np.testing.assert_array_equal(lm.running_mean.numpy(), trained.running_mean.numpy())
    lm.eval()
    np.testing.assert_allclose(lm(lamina.ones(2, 4)).detach().numpy(), trained.eval()(lamina.ones(2, 4)).detach()
                               .numpy())
    assert type(lm) is nn.BatchNorm1d


def test_uninitialized_into_uninitialized_and_into_initialized():
    a, b = nn.LazyInstanceNorm2d(), nn.LazyInstanceNorm2d()
    assert str(a.load_state_dict(b.state_dict())) == "<All keys matched successfully>"
    assert a.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        torch.nn.InstanceNorm2d(3, affine=True).load_state_dict(torch.nn.LazyInstanceNorm2d().state_dict())
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.InstanceNorm2d(3, affine=True).load_state_dict(nn.LazyInstanceNorm2d().state_dict())


def test_casts_before_the_first_forward_hold():
    m = nn.LazyBatchNorm2d().double()
    assert is_lazy(m.weight) and is_lazy(m.running_mean) and m.weight.dtype is lamina.float64
    assert m.running_mean.dtype is lamina.float64 and m.num_batches_tracked.dtype is lamina.int64
    m(lamina.randn(2, 3, 2, 2, dtype=lamina.float64))
    assert m.weight.dtype is m.running_var.dtype is lamina.float64
    assert type(m.weight) is nn.Parameter and not is_lazy(m.running_var)


def test_copies_of_an_uninitialized_module():
    m = nn.LazyBatchNorm3d()
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert isinstance(c.weight, UninitializedParameter) and isinstance(c.running_mean, UninitializedBuffer)
        assert c.weight is not m.weight
        c(lamina.randn(2, 3, 2, 2, 2))
        assert type(c) is nn.BatchNorm3d
    assert type(m) is nn.LazyBatchNorm3d


def test_too_few_dims_raises():
    with pytest.raises(IndexError):
        torch.nn.LazyBatchNorm1d()(torch.zeros(3))
    with pytest.raises(IndexError, match="LazyBatchNorm1d: expected an input with at least 2 dims"):
        nn.LazyBatchNorm1d()(lamina.zeros(3))
