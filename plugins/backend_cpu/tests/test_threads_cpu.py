"""The CPU backend's threads: BLAS follows ``lamina.set_num_threads`` (seen through threadpoolctl), the
kernel pool has as many threads as the count, runs inline at one thread and when nested, raises a
piece's error, and a kernel cut by sample (the im2col copy of convolution) gives the same bits on
one thread and on two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import lamina
import numpy as np
import pytest
from lamina_backend_cpu import NumpyBackend
from threadpoolctl import threadpool_info, threadpool_limits


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def backend():
    b = NumpyBackend()          # a pool of its own; BLAS limits are put back after the test
    with threadpool_limits(limits=None, user_api="blas"):
        yield b
    b.threads.resize(1)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_blas_follows_the_count(backend, n):
    backend.set_num_threads(n)
    assert blas_threads() == {n} and backend.threads.size == n


def test_the_pool_runs_pieces_on_as_many_threads_as_the_count(backend):
    backend.set_num_threads(3)
    meet = threading.Barrier(3, timeout=30)     # passes only if three pieces run at once
    seen: set[int] = set()

    def piece(start: int, stop: int) -> int:
        seen.add(threading.get_ident())
        if start < 3:
            meet.wait()
        return stop - start

    assert backend.parallel_for(9, piece) == [1] * 9
    assert len(seen) == 3 and threading.get_ident() in seen   # the caller works too


def test_one_thread_and_nested_calls_run_inline(backend):
    backend.set_num_threads(1)
    here = threading.get_ident()
    assert backend.parallel_for(5, lambda a, b: (a, threading.get_ident())) == [(i, here) for i in range(5)]
    assert backend.threads._executor is None
    backend.set_num_threads(2)

    def outer(start: int, stop: int) -> list:
        mine = threading.get_ident()
        return [ident == mine for ident in backend.parallel_for(4, lambda a, b: threading.get_ident())]

    assert backend.parallel_for(4, outer) == [[True] * 4] * 4


def test_a_piece_that_raises_raises_on_the_caller_and_the_pool_goes_on(backend):
    backend.set_num_threads(2)

    def piece(start: int, stop: int) -> int:
        if start == 5:
            raise KeyError(f"piece {start}")
        return start

    with pytest.raises(KeyError, match="piece 5"):
        backend.parallel_for(8, piece)
    assert backend.parallel_for(8, lambda a, b: a) == list(range(8))


def test_the_pool_starts_sized_to_get_num_threads(backend, monkeypatch):
    monkeypatch.setattr(lamina, "get_num_threads", lambda: 2)
    assert backend.threads.size is None
    backend.parallel_for(4, lambda a, b: None)
    assert backend.threads.size == 2 and backend.threads._executor is not None


def test_a_forked_child_starts_workers_of_its_own(backend):
    backend.set_num_threads(2)
    backend.parallel_for(4, lambda a, b: None)
    parents = backend.threads._executor
    backend.threads._pid = -1        # as after fork: the workers belong to another process
    try:
        assert backend.parallel_for(4, lambda a, b: a) == [0, 1, 2, 3]
        assert backend.threads._executor is not parents
    finally:
        parents.shutdown()


def _conv_step(seed: int) -> list[np.ndarray]:
    """Conv2d forward and backward big enough that the im2col copy is cut into 8 pieces of one sample."""
    lamina.manual_seed(seed)
    conv = lamina.nn.Conv2d(16, 8, 3, padding=1)
    x = lamina.randn(8, 16, 32, 32, requires_grad=True)
    y = conv(x)
    (y * y).sum().backward()
    return [y.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy()]


def test_convolution_is_bitwise_the_same_on_one_and_two_threads(monkeypatch):
    pool = lamina.device("cpu").backend.threads
    size, run, cuts = pool.size, pool.run, []
    monkeypatch.setattr(pool, "run", lambda pieces, fn: cuts.append(len(pieces)) or run(pieces, fn))
    try:
        pool.resize(1)
        one = _conv_step(0)
        pool.resize(2)
        two = _conv_step(0)
    finally:
        pool.resize(size or 1)
        pool.size = size     # None again: sized from lamina.get_num_threads() on next use
    assert 8 in cuts
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()


_PROBE = ("import json, lamina; from threadpoolctl import threadpool_info\n"
          "blas = lambda: sorted({l['num_threads'] for l in threadpool_info() if l['user_api'] == 'blas'})\n"
          "lamina.zeros(1); seen = [lamina.get_num_threads(), blas()]\n"
          "lamina.set_num_threads(2); seen += [blas(), lamina.device('cpu').backend.threads.size]\n"
          "print(json.dumps(seen))")


@pytest.mark.parametrize("env, expected", [
    ({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "3"}, [3, [1], [2], 2]),   # BLAS keeps its own variable
    ({"OPENBLAS_NUM_THREADS": "1", "LAMINA_NUM_THREADS": "3"}, [3, [3], [2], 2]),  # until lamina's is set
], ids=["omp", "lamina"])
def test_a_fresh_process_sets_blas_only_when_asked(env, expected):
    base = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == expected
