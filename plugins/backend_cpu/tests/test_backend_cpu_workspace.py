"""The CPU backend's scratch pool (``NumpyBackend.workspace``): an array is handed out again only when
nothing references it, per (tag, shape, dtype, zeros) and per thread, and free arrays fit the byte cap;
a backend without a pool (the protocol's default) allocates every time."""

from __future__ import annotations

import threading

import lamina
import numpy as np
import pytest
from lamina.backends import Backend
from lamina_backend_cpu import NumpyBackend

SHAPE = (64, 1024)          # 256 KiB of float32: above the pooling threshold
F32 = np.float32


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.fixture
def backend():
    return NumpyBackend()   # a fresh pool per test


def test_a_free_array_is_handed_out_again(backend):
    a = backend.workspace(SHAPE, F32, "t")
    a[...] = 7
    where = _address(a)
    del a
    b = backend.workspace(SHAPE, F32, "t")
    assert _address(b) == where and (b == 7).all()   # the same buffer, with what its last user left


@pytest.mark.parametrize("hold, look", [(lambda a: a[3:, ::2], lambda h: h),      # a view holds its base
                                        (lambda a: [a], lambda h: h[0]),
                                        (lambda a: lamina.from_numpy(a), lambda h: h.numpy())],
                         ids=["view", "list", "tensor"])
def test_an_array_still_referenced_is_never_handed_out(backend, hold, look):
    a = backend.workspace(SHAPE, F32, "t")
    a[...] = 1
    held = hold(a)
    del a
    b = backend.workspace(SHAPE, F32, "t")
    b[...] = 2
    assert not np.shares_memory(look(held), b) and (look(held) == 1).all()


def test_saved_for_backward_is_not_reused_until_the_graph_is_gone(backend):
    a = backend.workspace(SHAPE, F32, "t")
    a[...] = 3
    where = _address(a)
    x = lamina.from_numpy(a).requires_grad_()
    y = (x * x).sum()        # Mul saves x's array
    del a, x
    assert _address(backend.workspace(SHAPE, F32, "t")) != where
    y.backward()
    del y
    assert _address(backend.workspace(SHAPE, F32, "t")) == where


@pytest.mark.parametrize("other", [dict(shape=(64, 1025)), dict(dtype=np.float64), dict(tag="u"),
                                   dict(zeros=True)])
def test_reuse_needs_the_same_tag_shape_dtype_and_zeros(backend, other):
    a = backend.workspace(SHAPE, F32, "t")
    where = _address(a)
    del a
    kw = {"shape": SHAPE, "dtype": F32, "tag": "t", "zeros": False} | other
    b = backend.workspace(kw.pop("shape"), kw.pop("dtype"), **kw)
    assert _address(b) != where


def test_zeros_arrays_start_zero_and_keep_what_users_leave(backend):
    a = backend.workspace(SHAPE, F32, "pad", zeros=True)
    assert (a == 0).all()
    a[1:-1, 1:-1] = 5        # an interior write; the border stays zero
    del a
    b = backend.workspace(SHAPE, F32, "pad", zeros=True)
    assert (b[0] == 0).all() and (b[-1] == 0).all() and (b[1:-1, 1:-1] == 5).all()


def test_two_live_requests_get_distinct_arrays(backend):
    arrays = [backend.workspace(SHAPE, F32, "t") for _ in range(4)]
    for i, a in enumerate(arrays):
        a[...] = i
    assert [float(a[0, 0]) for a in arrays] == [0.0, 1.0, 2.0, 3.0]


def test_free_arrays_fit_the_byte_cap(backend):
    backend.scratch.limit = 4 * 256 * 1024
    for tag in range(12):                       # twelve free 256 KiB arrays: only four may stay pooled
        backend.workspace(SHAPE, F32, tag)
        assert backend.scratch.nbytes <= backend.scratch.limit
    live = [backend.workspace(SHAPE, F32, ("live", k)) for k in range(6)]   # in use: kept, beyond the cap
    assert backend.scratch.nbytes == 6 * 256 * 1024
    assert all(not np.shares_memory(a, b) for i, a in enumerate(live) for b in live[i + 1:])
    del live
    backend.workspace(SHAPE, F32, "after")     # the next allocation drops free arrays down to the cap
    assert backend.scratch.nbytes <= backend.scratch.limit


def test_an_array_larger_than_the_cap_or_below_the_threshold_is_not_pooled(backend):
    backend.scratch.limit = 128 * 1024
    big = backend.workspace(SHAPE, F32, "t")
    small = backend.workspace((8,), F32, "t")
    assert backend.scratch.nbytes == 0
    big[...] = 1
    del big, small
    assert backend.scratch.nbytes == 0
    assert (backend.workspace(SHAPE, F32, "t", zeros=True) == 0).all()


def test_each_thread_has_its_own_pool(backend):
    a = backend.workspace(SHAPE, F32, "t")
    where = _address(a)
    del a
    seen = []
    t = threading.Thread(target=lambda: seen.append(_address(backend.workspace(SHAPE, F32, "t"))))
    t.start()
    t.join()
    assert seen and seen[0] != where
    assert _address(backend.workspace(SHAPE, F32, "t")) == where


def test_the_cpu_device_serves_workspace_from_its_pool():
    be = lamina.device("cpu").backend
    assert isinstance(be, NumpyBackend)
    a = be.workspace(SHAPE, F32, "test_the_cpu_device")
    where = _address(a)
    del a
    assert _address(be.workspace(SHAPE, F32, "test_the_cpu_device")) == where


class _Plain(Backend):
    name, device_type, xp, array_type = "plain", "plain", np, np.ndarray


def test_the_protocol_default_allocates_every_time():
    be = _Plain()
    a, b = be.workspace(SHAPE, F32, "t"), be.workspace(SHAPE, F32, "t")
    assert a.shape == SHAPE and a.dtype == F32 and not np.shares_memory(a, b)
    z = be.workspace(SHAPE, F32, "t", zeros=True)
    assert (z == 0).all()
    z[...] = 5
    del z
    assert (be.workspace(SHAPE, F32, "t", zeros=True) == 0).all()   # a pool would hand the 5s back


def test_the_pool_keeps_what_the_default_would_clear(backend):
    """The same sequence on the pooled backend: the reused zeros array still holds the 5s (the contract)."""
    z = backend.workspace(SHAPE, F32, "t", zeros=True)
    z[...] = 5
    del z
    assert (backend.workspace(SHAPE, F32, "t", zeros=True) == 5).all()
