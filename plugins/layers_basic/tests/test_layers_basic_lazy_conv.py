"""LazyConv1d/2d/3d and LazyConvTranspose1d/2d/3d against PyTorch: UninitializedParameters until the first
forward, in_channels from the input, then the non-lazy class with the same Parameter objects; repr, state_dict,
load_state_dict, casts, copies, errors; forward values and gradients with the same weights."""

from __future__ import annotations

import copy
import pickle

import lamina
import lamina.nn as nn
import numpy as np
import pytest
from lamina.nn.parameter import UninitializedParameter, is_lazy

torch = pytest.importorskip("torch")

CASES = [("LazyConv1d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, (2, 3, 7)),
         ("LazyConv1d", {"out_channels": 4, "kernel_size": 2, "groups": 2, "bias": False}, (4, 6)),
         ("LazyConv2d", {"out_channels": 6, "kernel_size": (2, 3), "stride": 2, "groups": 3}, (2, 3, 5, 6)),
         ("LazyConv2d", {"out_channels": 2, "kernel_size": 3, "padding": "same", "padding_mode": "reflect"},
          (1, 2, 4, 5)),
         ("LazyConv3d", {"out_channels": 2, "kernel_size": 2, "dilation": (1, 2, 1)}, (1, 2, 3, 5, 3)),
         ("LazyConvTranspose1d", {"out_channels": 3, "kernel_size": 3, "stride": 2, "output_padding": 1}, (2, 4, 5)),
         ("LazyConvTranspose2d", {"out_channels": 4, "kernel_size": 2, "groups": 2, "bias": False}, (2, 4, 3, 3)),
         ("LazyConvTranspose3d", {"out_channels": 2, "kernel_size": 2, "stride": (1, 2, 1)}, (3, 2, 3, 2))]


@pytest.mark.parametrize("name, kw, shape", CASES)
def test_lazy_conv_matches_torch(name, kw, shape):
    lm, tm = getattr(nn, name)(**kw, dtype=lamina.float64), getattr(torch.nn, name)(**kw, dtype=torch.float64)
    assert repr(lm) == repr(tm)
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert all(isinstance(v, UninitializedParameter) for v in lm.state_dict().values())
    params = list(lm.parameters())
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    lm(lamina.tensor(x))
    tm(torch.tensor(x))
    assert type(lm).__name__ == type(tm).__name__ == name.replace("Lazy", "")
    assert repr(lm) == repr(tm) and lm.in_channels == tm.in_channels
    assert all(p is q for p, q in zip(params, lm.parameters()))
    for (k, p), (_, q) in zip(lm.named_parameters(), tm.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape) and p.dtype is lamina.float64, k
        w = lm.weight
        bound = 1 / np.sqrt(w.shape[1] * np.prod(w.shape[2:]))  # Conv's kaiming_uniform(a=sqrt(5)) and bias bound
        assert 0 < np.abs(p.detach().numpy()).max() <= bound + 1e-12
        with torch.no_grad():
            q.copy_(torch.tensor(p.detach().numpy()))
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ly, ty = lm(lx), tm(tx)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(5).standard_normal(tuple(ty.shape))
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    for (k, p), (_, q) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=k)


def test_load_state_dict_sizes_an_uninitialized_conv():
    src = nn.Conv2d(6, 4, 3, groups=2)
    lm, tm = nn.LazyConv2d(4, 3, groups=2), torch.nn.LazyConv2d(4, 3, groups=2)
    assert str(lm.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in src.state_dict().items()})
    assert type(lm).__name__ == type(tm).__name__ == "LazyConv2d"
    assert not lm.has_uninitialized_params() and not tm.has_uninitialized_params()
    np.testing.assert_array_equal(lm.weight.detach().numpy(), src.weight.detach().numpy())
    x = lamina.randn(1, 6, 5, 5)
    np.testing.assert_allclose(lm(x).detach().numpy(), src(x).detach().numpy(), rtol=1e-6)
    assert type(lm) is nn.Conv2d


def test_uninitialized_into_initialized_raises_as_torch():
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        torch.nn.Conv1d(2, 3, 2).load_state_dict(torch.nn.LazyConv1d(3, 2).state_dict())
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.Conv1d(2, 3, 2).load_state_dict(nn.LazyConv1d(3, 2).state_dict())
    a = nn.LazyConv1d(3, 2)
    assert str(a.load_state_dict(nn.LazyConv1d(3, 2).state_dict())) == "<All keys matched successfully>"
    assert a.has_uninitialized_params()


def test_cast_copy_and_pickle_before_the_first_forward():
    m = nn.LazyConvTranspose2d(2, 3).double()
    assert is_lazy(m.weight) and m.weight.dtype is lamina.float64
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert is_lazy(c.weight) and c.weight is not m.weight
        c(lamina.randn(1, 4, 3, 3, dtype=lamina.float64))
        assert type(c) is nn.ConvTranspose2d and c.weight.dtype is lamina.float64 and c.in_channels == 4
    assert type(m) is nn.LazyConvTranspose2d


def test_uninitialized_parameter_api():
    p, t = UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(t) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        _ = t.shape
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        _ = p.shape
    p.materialize((2, 3), dtype=lamina.float64)
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.dtype is lamina.float64 and p.requires_grad


@pytest.mark.parametrize("name, shape, etype", [("LazyConv2d", (3, 4), RuntimeError),
                                                ("LazyConv1d", (2, 3, 4, 5), RuntimeError)])
def test_wrong_rank_raises_as_torch(name, shape, etype):
    with pytest.raises(etype, match=r"Expected \dD \(unbatched\) or \dD \(batched\) input to " + name):
        getattr(torch.nn, name)(2, 2)(torch.zeros(shape))
    with pytest.raises(etype, match=r"Expected \dD \(unbatched\) or \dD \(batched\) input to " + name):
        getattr(nn, name)(2, 2)(lamina.zeros(shape))


def test_groups_must_divide_in_channels():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        torch.nn.LazyConv1d(4, 2, groups=2)(torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 2, groups=2)(lamina.zeros(1, 3, 5))

