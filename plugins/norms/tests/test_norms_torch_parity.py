"""PyTorch parity: same weights and inputs, outputs and every gradient, several train/eval steps
(running statistics included), reprs, state_dict keys and the old-checkpoint rule."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = lamina.nn

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-7)}

CONFIGS = [
    ("BatchNorm1d", (4,), {}, (6, 4)),
    ("BatchNorm1d", (4,), {"momentum": None}, (5, 4, 7)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 6)),
    ("BatchNorm2d", (3,), {"momentum": None, "affine": False}, (4, 3, 5, 6)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), {"momentum": 0.3, "eps": 1e-3}, (2, 3, 4, 4)),
    ("BatchNorm3d", (2,), {}, (3, 2, 2, 3, 4)),
    ("BatchNorm2d", (3,), {"bias": False}, (4, 3, 2, 3)),
    ("GroupNorm", (2, 4), {"bias": False}, (3, 4, 5)),
    ("InstanceNorm1d", (3,), {"affine": True, "bias": False}, (4, 3, 7)),
    ("SyncBatchNorm", (3,), {}, (4, 3, 5)),
    ("InstanceNorm1d", (3,), {}, (4, 3, 7)),
    ("InstanceNorm1d", (3,), {"affine": True}, (3, 7)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (4, 3, 5, 6)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": None}, (2, 3, 4, 4)),
    ("InstanceNorm3d", (2,), {"affine": True, "track_running_stats": True}, (2, 2, 3, 3, 2)),
    ("LayerNorm", ((5, 6),), {}, (3, 4, 5, 6)),
    ("LayerNorm", (6,), {"bias": False, "eps": 1e-3}, (3, 6)),
    ("LayerNorm", (6,), {"elementwise_affine": False}, (2, 3, 6)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4, 5)),
    ("GroupNorm", (3, 6), {"affine": False}, (3, 6, 4)),
    ("GroupNorm", (6, 6), {"eps": 1e-3}, (2, 6, 3)),
    ("RMSNorm", ((4, 5),), {}, (3, 4, 5)),
    ("RMSNorm", (5,), {"eps": 1e-6, "elementwise_affine": False}, (3, 5)),
    ("LocalResponseNorm", (3,), {"alpha": 0.1, "k": 2.0}, (2, 6, 4, 3)),
    ("LocalResponseNorm", (2,), {}, (2, 5, 7)),
]


def _pair(name, args, kwargs, dtype):
    tdt = getattr(torch, dtype)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    tm = tm.to(tdt)
    lm = getattr(nn, name)(*args, **kwargs, **({} if name == "LocalResponseNorm" else {"dtype": getattr(lamina,
                                                                                                      dtype)}))
    rng = np.random.default_rng(1)
    with torch.no_grad():  # random affine parameters, copied into lamina
        for p in tm.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5 + 1.0))
    lm.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, lm


def _compare(lm, tm, x_np, dy_np, dtype):
    x = lamina.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = lm(x), tm(tx)
    np.testing.assert_allclose(y.detach().array, ty.detach().numpy(), **TOL[dtype])
    y.backward(lamina.tensor(dy_np))
    ty.backward(torch.tensor(dy_np))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), **TOL[dtype])
    tparams = dict(tm.named_parameters())
    for n, p in lm.named_parameters():
        np.testing.assert_allclose(p.grad.array, tparams[n].grad.numpy(), **TOL[dtype], err_msg=n)
        p.grad = None
        tparams[n].grad = None
    tstate = tm.state_dict()
    for k, v in lm.state_dict().items():
        np.testing.assert_allclose(v.array, tstate[k].numpy(), **TOL[dtype], err_msg=k)


@pytest.mark.parametrize("name,args,kwargs,shape", CONFIGS, ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CONFIGS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_train_eval_steps(name, args, kwargs, shape, dtype):
    tm, lm = _pair(name, args, kwargs, dtype)
    assert repr(lm) == repr(tm)
    assert list(lm.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(2)
    for step in range(4):  # three training steps (running stats move), then eval
        if step == 3:
            lm.eval()
            tm.eval()
        x = (rng.standard_normal(shape) * 2.0 + 0.7).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        _compare(lm, tm, x, dy, dtype)


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1), (0.5, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normalize_parity(p, dim, dtype):
    x_np = np.random.default_rng(3).standard_normal((4, 5)).astype(dtype)
    x_np[1] = 0.0  # a zero row: the eps clamp
    dy = np.random.default_rng(4).standard_normal((4, 5)).astype(dtype)
    x, tx = lamina.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = nn.functional.normalize(x, p, dim), torch.nn.functional.normalize(tx, p, dim)
    np.testing.assert_allclose(y.detach().array, ty.detach().numpy(), **TOL[dtype])
    y.backward(lamina.tensor(dy))
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("fn,args", [
    ("batch_norm", lambda T: (T(np.zeros(3)), T(np.ones(3)), T(np.full(3, 2.0)), T(np.full(3, 0.5)), True, 0.2)),
    ("instance_norm", lambda T: (T(np.zeros(3)), T(np.ones(3)), None, None, True, 0.4)),
    ("layer_norm", lambda T: ((5,), T(np.full(5, 1.5)), T(np.full(5, 0.1)))),
    ("group_norm", lambda T: (3, None, T(np.full(3, -1.0)))),
    ("rms_norm", lambda T: ((5,), T(np.full(5, 2.0)))),
    ("local_response_norm", lambda T: (2,)),
])
def test_functional_parity(fn, args):
    x_np = np.random.default_rng(5).standard_normal((4, 3, 5))
    la = args(lambda a: lamina.tensor(a))
    ta = args(lambda a: torch.tensor(a))
    y = getattr(nn.functional, fn)(lamina.tensor(x_np), *la)
    ty = getattr(torch.nn.functional, fn)(torch.tensor(x_np), *ta)
    np.testing.assert_allclose(y.array, ty.numpy(), rtol=1e-7, atol=1e-7)
    for a, b in zip(la, ta):  # running statistics updated alike
        if isinstance(a, lamina.Tensor):
            np.testing.assert_allclose(a.array, b.numpy(), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_default_eps_is_dtype_epsilon(dtype):
    x_np = np.full((2, 4), 1e-5, dtype=dtype)  # tiny inputs make eps visible
    y = nn.functional.rms_norm(lamina.tensor(x_np), (4,))
    ty = torch.nn.functional.rms_norm(torch.tensor(x_np), (4,))
    np.testing.assert_allclose(y.array, ty.numpy(), **TOL[dtype])


def test_lazy_batchnorm_becomes_batchnorm():
    lm = nn.LazyBatchNorm2d(momentum=None)
    assert repr(lm) == repr(torch.nn.LazyBatchNorm2d(momentum=None))
    w = lm.weight
    y = lm(lamina.randn(4, 5, 3, 3))
    assert type(lm) is nn.BatchNorm2d and lm.num_features == 5 and lm.weight is w
    assert tuple(w.shape) == (5,) and tuple(y.shape) == (4, 5, 3, 3)
    assert repr(lm) == repr(torch.nn.BatchNorm2d(5, momentum=None))
    fresh, tfresh = nn.LazyBatchNorm2d(), torch.nn.LazyBatchNorm2d()
    fresh.load_state_dict(lm.state_dict())
    tfresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    # as PyTorch: loading materializes the tensors; the class changes at the next forward
    assert type(fresh).__name__ == type(tfresh).__name__ == "LazyBatchNorm2d"
    assert not fresh.has_uninitialized_params() and not tfresh.has_uninitialized_params()
    assert np.array_equal(fresh.running_var.array, lm.running_var.array)
    fresh(lamina.randn(2, 5, 3, 3))
    assert type(fresh) is nn.BatchNorm2d


def test_old_checkpoint_without_num_batches_tracked():
    lm = nn.BatchNorm2d(3)
    lm.num_batches_tracked.fill_(7)
    sd = {k: v for k, v in nn.BatchNorm2d(3).state_dict().items() if k != "num_batches_tracked"}
    result = lm.load_state_dict(sd)
    assert result.missing_keys == [] and lm.num_batches_tracked.item() == 7
    assert lm.num_batches_tracked.dtype is lamina.int64 and lm.num_batches_tracked.ndim == 0
    seq = nn.Sequential(nn.BatchNorm1d(2))
    seq.load_state_dict({"0.weight": lamina.ones(2), "0.bias": lamina.zeros(2), "0.running_mean": lamina.zeros(2),
                         "0.running_var": lamina.ones(2)})


def test_instance_norm_rejects_stale_running_stats():
    m = nn.InstanceNorm2d(3)
    with pytest.raises(RuntimeError, match=r"Unexpected running stats buffer\(s\) \['running_mean'"):
        m.load_state_dict({"running_mean": lamina.zeros(3)})


def test_reset_and_buffers():
    m = nn.BatchNorm1d(3)
    m(lamina.randn(5, 3) * 3 + 1)
    assert m.num_batches_tracked.item() == 1 and not np.allclose(m.running_mean.array, 0)
    v = m.running_mean._version
    m.reset_running_stats()
    assert np.all(m.running_mean.array == 0) and np.all(m.running_var.array == 1)
    assert m.num_batches_tracked.item() == 0 and m.running_mean._version > v
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert nn.BatchNorm1d(3, track_running_stats=False).running_mean is None


@pytest.mark.parametrize("make,x_shape,error,match", [
    (lambda: nn.BatchNorm2d(3), (4, 3, 5), ValueError, r"BatchNorm2d: expected 4D input \(got 3D input\)"),
    (lambda: nn.BatchNorm2d(3), (4, 2, 5, 5), ValueError, r"BatchNorm2d: expected input with 3 channels, got 2"),
    (lambda: nn.BatchNorm1d(3), (1, 3), ValueError, r"batch_norm: expected more than 1 value per channel when "
                                                    r"training, got input size \[1, 3\]"),
    (lambda: nn.InstanceNorm1d(3, affine=True), (2, 4, 5), ValueError, r"InstanceNorm1d: expected input's size at "
                                                                       r"dim=1 to match num_features \(3\), got 4"),
    (lambda: nn.InstanceNorm2d(3), (2, 3, 1, 1), ValueError, r"instance_norm: expected more than 1 spatial element"),
    (lambda: nn.GroupNorm(4, 6), None, ValueError, r"GroupNorm: num_channels must be divisible by num_groups, "
                                                   r"got num_channels=6 and num_groups=4"),
    (lambda: nn.LayerNorm(4), (3, 5), RuntimeError, r"layer_norm: expected input with shape \[\*, 4\] "
                                                    r"\(normalized_shape=\[4\]\), got \[3, 5\]"),
    (lambda: nn.LocalResponseNorm(2), (3, 4), ValueError, r"local_response_norm: expected 3D or higher"),
])
def test_errors_name_the_layer(make, x_shape, error, match):
    with pytest.raises(error, match=match):
        make()(lamina.randn(*x_shape))


def test_instance_norm_mismatch_warns_without_affine():
    with pytest.warns(UserWarning, match="InstanceNorm1d: input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(3)(lamina.randn(2, 4, 5))


def test_float32_stays_float32_and_no_grad_records_nothing():
    for m in (nn.BatchNorm2d(3), nn.LayerNorm(4), nn.GroupNorm(1, 3), nn.RMSNorm(4), nn.InstanceNorm2d(3)):
        x = lamina.randn(2, 3, 4, 4, requires_grad=True)
        y = m(x)
        assert y.dtype is lamina.float32 and y.grad_fn is not None
        assert all(b.dtype in (lamina.float32, lamina.int64) for b in m.buffers())
        with lamina.no_grad():
            assert m(x).grad_fn is None


def test_convert_sync_batchnorm():
    model = nn.Sequential(nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(2)))
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(conv[0]) is nn.SyncBatchNorm and type(conv[1][0]) is nn.SyncBatchNorm
    assert conv[0].weight is model[0].weight
