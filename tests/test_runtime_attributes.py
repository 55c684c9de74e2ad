"""Process-wide switches (``lamina.runtime``) and what a tensor says about itself (``AttributeMethods``),
against torch where torch answers on a CPU build."""

from __future__ import annotations

import pickle
import warnings

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_deterministic_switches_round_trip_like_torch():
    for mod in (lamina, torch):
        try:
            mod.use_deterministic_algorithms(True, warn_only=True)
            got = (mod.are_deterministic_algorithms_enabled(), mod.is_deterministic_algorithms_warn_only_enabled(),
                   mod.get_deterministic_debug_mode())
            mod.set_deterministic_debug_mode("error")
            got += (mod.get_deterministic_debug_mode(), mod.is_deterministic_algorithms_warn_only_enabled())
            mod.set_deterministic_debug_mode(0)
            got += (mod.are_deterministic_algorithms_enabled(),)
        finally:
            mod.use_deterministic_algorithms(False)
        assert got == (True, True, 1, 2, False, False), mod.__name__
    with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
        lamina.set_deterministic_debug_mode("sometimes")


def test_matmul_precision_is_validated_and_reported():
    try:
        lamina.set_float32_matmul_precision("high")
        assert lamina.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="expected one of"):
            lamina.set_float32_matmul_precision("low")
    finally:
        lamina.set_float32_matmul_precision("highest")


def test_warn_always_flush_denormal_and_anomaly_switches():
    lamina.set_warn_always(True)
    assert lamina.is_warn_always_enabled()
    lamina.set_warn_always(False)
    assert not lamina.is_warn_always_enabled()
    assert lamina.set_flush_denormal(True) is False
    lamina.set_anomaly_enabled(True, check_nan=False)
    try:
        assert lamina.is_anomaly_enabled() and not lamina.is_anomaly_check_nan_enabled()
    finally:
        lamina.set_anomaly_enabled(False)
    assert not lamina.is_anomaly_enabled()


def test_inference_mode_is_reported_and_nests():
    assert not lamina.is_inference_mode_enabled()
    with lamina.inference_mode():
        assert lamina.is_inference_mode_enabled() and not lamina.is_grad_enabled()
        with lamina.inference_mode(False):
            assert not lamina.is_inference_mode_enabled()
        assert lamina.is_inference_mode_enabled()
    assert not lamina.is_inference_mode_enabled() and lamina.is_grad_enabled()


def test_default_tensor_type_is_deprecated_and_sets_the_dtype():
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            lamina.set_default_tensor_type("torch.DoubleTensor")
        assert lamina.get_default_dtype() == lamina.float64 and lamina.ones(1).dtype == lamina.float64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(TypeError, match="only floating-point CPU types"):
                lamina.set_default_tensor_type("torch.LongTensor")
    finally:
        lamina.set_default_dtype(lamina.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool", "float16"])
def test_attributes_match_torch(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    x, t = lamina.tensor(a), torch.tensor(a)
    assert (x.is_cpu, x.is_meta, x.is_sparse, x.is_quantized, x.is_nested, x.is_xpu, x.is_mps) == (
        t.is_cpu, t.is_meta, t.is_sparse, t.is_quantized, t.is_nested, t.is_xpu, t.is_mps)
    assert (x.itemsize, x.nbytes, x.get_device(), x.is_signed(), x.dim_order(), x.output_nr) == (
        t.itemsize, t.nbytes, t.get_device(), t.is_signed(), t.dim_order(), t.output_nr)
    assert x.type() == t.type().replace("torch", "lamina") and lamina.typename(x) == x.type()
    assert repr(x.layout) == repr(t.layout).replace("torch", "lamina")
    assert lamina.is_signed(x) == torch.is_signed(t) and x.is_pinned() == t.is_pinned()


def test_layouts_pickle_by_reference():
    assert pickle.loads(pickle.dumps(lamina.strided)) is lamina.strided
    assert repr(lamina.sparse_coo) == "lamina.sparse_coo"


def test_data_ptr_follows_views_and_is_set_to():
    x = lamina.arange(12.0).reshape(3, 4)
    assert x[1].data_ptr() == x.data_ptr() + 4 * x.itemsize
    assert x.is_set_to(x.view(3, 4)) and not x.is_set_to(x.t())
    assert x.t().dim_order() == (1, 0)


def test_legacy_new_resize_apply_map_and_sum_to_size_match_torch():
    x, t = lamina.arange(6.0), torch.arange(6.0)
    assert x.new([1, 2]).tolist() == t.new([1, 2]).tolist() and x.new([1, 2]).dtype == lamina.float32
    assert tuple(x.new(2, 3).shape) == tuple(t.new(2, 3).shape) and tuple(x.new().shape) == (0,)
    v0 = x._version
    x.resize_(2, 3)
    t.resize_(2, 3)
    assert x.tolist() == t.tolist() and x._version > v0
    x.resize_(4)
    t.resize_(4)
    assert x.tolist() == t.tolist()
    x.resize_(5)  # grows: the old elements first
    assert x.tolist()[:4] == t.tolist()
    y, u = lamina.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    assert y.apply_(lambda v: v * 10 + 1).tolist() == u.apply_(lambda v: v * 10 + 1).tolist()
    z, w = lamina.ones(2, 3), torch.ones(2, 3)
    other = [[1.0, 2.0, 3.0]]
    assert z.map_(lamina.tensor(other), lambda p, q: p - q).tolist() == \
        w.map_(torch.tensor(other), lambda p, q: p - q).tolist()
    s = lamina.arange(24.0).reshape(2, 3, 4)
    r = torch.arange(24.0).reshape(2, 3, 4)
    for size in [(3, 1), (1, 3, 4), (4,), (2, 1, 1)]:
        assert s.sum_to_size(*size).tolist() == r.sum_to_size(*size).tolist()
    with pytest.raises(RuntimeError, match="is not expandable"):
        s.sum_to_size(5)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        lamina.ones(2, requires_grad=True).resize_(3)


def test_dlpack_exchange_shares_memory_with_numpy_and_torch():
    a = np.arange(4.0)
    x = lamina.from_dlpack(a)
    a[0] = 9.0
    assert x.tolist()[0] == 9.0
    t = torch.from_dlpack(x.detach())  # torch reads lamina's __dlpack__
    x[1] = 7.0
    assert t.tolist() == [9.0, 7.0, 2.0, 3.0]
    y = lamina.from_dlpack(lamina.to_dlpack(x))
    assert y.tolist() == x.tolist() and y.data_ptr() == x.data_ptr()
    with pytest.raises(RuntimeError, match="require gradient"):
        lamina.ones(2, requires_grad=True).__dlpack__()


def test_top_level_helpers_match_torch():
    x, t = lamina.tensor([[0.0, 1.5]]), torch.tensor([[0.0, 1.5]])
    assert lamina.is_nonzero(lamina.tensor([2])) == torch.is_nonzero(torch.tensor([2]))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        lamina.is_nonzero(x)
    assert lamina.is_same_size(x, x) and not lamina.is_inference(x) and not lamina.is_distributed(x)
    assert lamina.fill(x, 3.0).tolist() == torch.fill(t, 3.0).tolist()
    assert lamina.zero_(x.clone()).tolist() == torch.zero_(t.clone()).tolist()
    assert lamina.fill_(x.clone(), 2).tolist() == torch.fill_(t.clone(), 2).tolist()
    assert not lamina.is_storage(x) and lamina.typename(3) == torch.typename(3) == "int"
    assert lamina.typename(lamina.nn.Module()) == "lamina.nn.module.Module"


def test_storages_tell_whether_tensors_share_memory_like_torch():
    x, t = lamina.arange(6.0), torch.arange(6.0)
    for a, b in ((x, t), (x[2:], t[2:]), (x.view(2, 3).t(), t.view(2, 3).t())):
        assert a.untyped_storage().nbytes() == b.untyped_storage().nbytes()
        assert (a.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()) == (
            b.untyped_storage().data_ptr() == t.untyped_storage().data_ptr())
    assert x.clone().untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    assert x.untyped_storage().tolist() == t.untyped_storage().tolist()
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        s = x[1:].storage()
    assert (s.size(), s.element_size(), s.tolist()) == (6, 4, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def test_set_as_subclass_and_module_load():
    x = lamina.arange(6.0)
    y = lamina.zeros(2)
    assert y.set_(x) is y and y.data_ptr() == x.data_ptr() and y.tolist() == x.tolist()
    w = lamina.zeros(1).set_(x, 1, (2, 2), (2, 1))
    tw = torch.zeros(1).set_(torch.arange(6.0).untyped_storage(), 1, (2, 2), (2, 1))
    assert w.tolist() == tw.tolist()
    assert lamina.zeros(3).set_().shape == (0,)

    class Tagged(lamina.Tensor):
        pass

    a = lamina.ones(2, requires_grad=True)
    b = a.as_subclass(Tagged)
    assert type(b) is Tagged and b.requires_grad and b.data_ptr() == a.data_ptr()
    (b * 3).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    p = lamina.nn.Parameter(lamina.zeros(2))
    loaded = p.module_load(lamina.ones(2))
    assert loaded is not p and p.tolist() == [1.0, 1.0] and not loaded.requires_grad
    assert p.module_load(lamina.full((2,), 5.0), assign=True).tolist() == [5.0, 5.0]


def test_removed_and_accelerator_only_methods_fail_as_torch():
    x, t = lamina.ones(2), torch.ones(2)
    message = "Cannot access accelerator device when none is available."
    with pytest.raises(RuntimeError, match=message):
        t.pin_memory()
    if not lamina.cuda.is_available():
        with pytest.raises(RuntimeError, match=message):
            x.pin_memory()
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert x.volatile is False
    with pytest.raises(RuntimeError, match="reinforce\\(\\) was removed"):
        x.reinforce(1.0)
    with pytest.raises(Exception, match="xpu"):
        x.xpu()
    assert x.grad_dtype == lamina.float32 and x.name is None and not x.is_distributed()


def test_deprecated_resize_and_map2():
    x, t = lamina.arange(6.0), torch.arange(6.0)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        assert x.resize(2, 3).tolist() == t.resize(2, 3).tolist()
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        assert x.resize_as(lamina.zeros(3, 2)).shape == (3, 2)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="requested resize to 4"):
        x.resize(4)
    z, u = lamina.zeros(2), torch.zeros(2)
    f = lambda a, b, c: a + b * c  # noqa: E731
    assert z.map2_(lamina.ones(2), lamina.full((2,), 3.0), f).tolist() == \
        u.map2_(torch.ones(2), torch.full((2,), 3.0), f).tolist()
    assert lamina.resize_as_(lamina.zeros(4), lamina.zeros(2, 2)).shape == (2, 2)
