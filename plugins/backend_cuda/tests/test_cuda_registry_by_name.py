"""Kernels registered by op name (how this pack serves other plugins' ops without importing them):
a kernel waits until its op's class exists, joins it then, is built by its factory at the first call
it supports (once), and is reported while pending; broken factories and shared names are loud. The
ops here are throw-away ``Function`` subclasses with names unique to each test."""

from __future__ import annotations

import itertools

import lamina
import numpy as np
import pytest
from _cuda_standin import standin_cuda
from lamina.autograd import Function
from lamina_backend_cuda import kernels as pack
from lamina_backend_cuda.backend import CupyBackend

kernels = lamina.kernels
_count = itertools.count()


def _name(stem: str) -> str:
    return f"ByName{stem}{next(_count)}"


def _op(name: str) -> type:
    """An op ``name``: y = x + 1 (the reference)."""
    return type(name, (Function,), {"forward": staticmethod(lambda ctx, x: x + 1),
                                     "backward": staticmethod(lambda ctx, dy: dy)})


def _factory(made: list):
    def make(op):
        made.append(op)
        return type("Fast" + op.__name__, (op,), {"forward": staticmethod(lambda ctx, x: x * 10)})
    return make


def _big(arrays, kwargs):
    return arrays[0].size > 1


def test_a_kernel_waits_for_its_op_then_is_built_once_at_its_first_supported_call():
    name, made = _name("Waits"), []
    k = kernels.register(name, "cpu", _factory(made), priority=5, supports=_big, name="pack:Fast")
    try:
        assert k.op is None and k in kernels.pending("cpu") and k not in kernels.pending("cuda")
        assert kernels.candidates(name, "cpu") == [k] and "(pending)" in repr(k)
        with pytest.raises(KeyError, match="pack:Fast .cpu. wait for it"):
            kernels.explain(name, lamina.tensor([1.0]))
        op = _op(name)                                     # the op's class statement: the kernel joins it
        assert k.op is op and k not in kernels.pending() and kernels.candidates(op, "cpu") == [k]
        assert made == [] and k.impl is None
        assert op.apply(lamina.tensor([1.0])).tolist() == [2.0]     # not supported: the reference, nothing built
        assert made == []
        assert op.apply(lamina.tensor([1.0, 2.0])).tolist() == [10.0, 20.0]
        assert op.apply(lamina.tensor([3.0, 4.0])).tolist() == [30.0, 40.0]
        assert made == [op] and issubclass(k.impl, op) and k.impl._kernel_of is op
        assert kernels.explain(op, lamina.tensor([1.0, 2.0])).endswith("-> pack:Fast")
        assert kernels.find_op(name) is op
    finally:
        kernels.unregister(k)
    assert op.apply(lamina.tensor([1.0, 2.0])).tolist() == [2.0, 3.0]


def test_registering_by_name_after_the_op_exists_joins_at_once():
    name, made = _name("After"), []
    op = _op(name)
    k = kernels.register(name, "cpu", _factory(made), name="pack:Late")
    try:
        assert k.op is op and kernels.candidates(name, "cpu") == [k] and op in kernels.kernel_ops
        assert op.apply(lamina.tensor([2.0])).tolist() == [20.0] and made == [op]
    finally:
        kernels.unregister(k)
    assert op not in kernels.kernel_ops


def test_an_unregistered_pending_kernel_never_joins():
    name, made = _name("Dropped"), []
    k = kernels.register(name, "cpu", _factory(made))
    kernels.unregister(k)
    assert k not in kernels.pending()
    op = _op(name)
    assert kernels.candidates(op, "cpu") == [] and op not in kernels.kernel_ops
    assert op.apply(lamina.tensor([1.0])).tolist() == [2.0] and made == []


@pytest.mark.parametrize("make", [lambda op: 1 / 0, lambda op: float], ids=["raises", "not_a_subclass"])
def test_a_broken_factory_costs_only_its_kernel(make):
    name = _name("Broken")
    k = kernels.register(name, "cpu", make, name="pack:Broken")
    op = _op(name)
    with pytest.warns(RuntimeWarning, match="pack:Broken .* could not be built"):
        y = op.apply(lamina.tensor([1.0]))
    assert y.tolist() == [2.0] and k.error and kernels.candidates(op, "cpu") == []
    assert op.apply(lamina.tensor([1.0])).tolist() == [2.0]     # no second warning: it is unregistered


def test_a_name_shared_by_two_ops_is_reported():
    name, made = _name("Shared"), []
    first = _op(name)
    k = kernels.register(name, "cpu", _factory(made))
    try:
        with pytest.warns(RuntimeWarning, match=f"several ops are named '{name}'"):
            _op(name)
        with pytest.warns(RuntimeWarning, match="give the others an op_name"):
            k2 = kernels.register(name, "cpu", _factory(made))
        kernels.unregister(k2)
        assert k.op is first
    finally:
        kernels.unregister(k)


def test_bad_registrations_are_refused():
    with pytest.raises(KeyError, match="no op named"):
        kernels.register(_name("Unknown"), "cpu", type("K", (Function,), {}))   # a class needs its op to exist
    op = _op(_name("Typed"))
    with pytest.raises(TypeError, match="subclass of"):
        kernels.register(op, "cpu", type("NotAKernel", (), {}))
    with pytest.raises(TypeError, match="kernel class or a factory"):
        kernels.register(op, "cpu", 42)


class _FakeCupy:
    """Looks like a contiguous float32 CuPy array to the supports predicates."""

    __module__ = "cupy._core.core"

    def __init__(self, shape):
        self.shape, self.dtype, self.ndim, self.size = shape, np.dtype("float32"), len(shape), int(np.prod(shape))
        self.flags = type("F", (), {"c_contiguous": True})()


def test_the_pack_kernels_join_the_other_plugins_ops_and_are_selected_for_cupy_arrays():
    from lamina_backend_cuda.kernels import conv
    from lamina_backend_cuda.testing_fused import target_op

    with standin_cuda():
        ConvNd = target_op("ConvNd")            # through lamina.nn.Conv2d: the plugin's own import
        assert ConvNd.__module__ == "lamina_layers_basic.conv"
        args = [_FakeCupy((2, 3, 8, 8)), _FakeCupy((4, 3, 3, 3)), None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1]
        impl = kernels.select(ConvNd, "cuda", args, {})
        assert impl is conv.conv_kernel(ConvNd) and impl.__name__ == "CudaConvNd"
        assert kernels.select(ConvNd, "cuda", [np.ones((2, 3, 8, 8))] + args[1:], {}) is ConvNd
        assert kernels.select(ConvNd, "cpu", args, {}) is ConvNd


def test_the_pack_reports_a_kernel_whose_op_never_appears(monkeypatch):
    from lamina_backend_cuda.testing_fused import DEFINED_BY, target_op

    ghost = _name("Ghost")
    rows = pack.table() + [(ghost, lambda op: op, None)]
    assert all(target_op(name) is not None for name in DEFINED_BY)   # every real target op exists here
    with standin_cuda():
        monkeypatch.setattr(pack, "table", lambda: rows)
        pack.register(kernels.registry)
        try:
            assert pack.skipped() == {pack.kernel_name(ghost): f"waiting for the op {ghost!r}: the plugin "
                                      "defining it is not installed or has not been imported yet"}
            assert [k.name for k in kernels.pending("cuda") if k.op_name == ghost] == [pack.kernel_name(ghost)]
        finally:
            monkeypatch.undo()
            pack.register(kernels.registry)
        assert not [k for k in kernels.pending("cuda") if k.op_name == ghost]


def test_the_cuda_backend_keeps_plain_allocation_for_workspace():
    """CuPy's memory pool already reuses device blocks: workspace allocates (here on the NumPy stand-in)."""
    be = CupyBackend(xp=np)
    z = be.workspace((64, 1024), np.float32, "t", zeros=True)
    z[...] = 5
    del z
    assert (be.workspace((64, 1024), np.float32, "t", zeros=True) == 0).all()
    a, b = be.workspace((64, 1024), np.float32, "t"), be.workspace((64, 1024), np.float32, "t")
    assert not np.shares_memory(a, b)
