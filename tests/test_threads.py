"""One thread setting: ``lamina.set_num_threads`` / ``get_num_threads`` (and the inter-op pair) as in
PyTorch. The default is ``LAMINA_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the usable cores; the
count reaches every backend through ``Backend.set_num_threads``; ``Backend.chunks`` cuts a range in
a way fixed by its length alone. Backends here are fakes, so the real CPU backend's BLAS is untouched
(plugins/backend_cpu/tests/test_threads_cpu.py checks that one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import lamina
import numpy as np
import pytest
from lamina.backends import Backend, _device, _protocol, threads


class Recorder(Backend):
    name, device_type, xp = "recorder", "fake", np

    def __init__(self) -> None:
        self.counts: list[int] = []

    def set_num_threads(self, n: int) -> None:
        self.counts.append(n)


@pytest.fixture
def fresh(monkeypatch):
    """No count set, no environment variables, one fake backend loaded (restored afterwards)."""
    saved = _protocol.THREADS[0], threads._INTEROP[0]
    _protocol.THREADS[0] = threads._INTEROP[0] = None
    for var in ("LAMINA_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    recorder = Recorder()
    monkeypatch.setattr(_device, "_backends", {"fake": recorder})
    yield recorder
    _protocol.THREADS[0], threads._INTEROP[0] = saved


@pytest.mark.parametrize("env, expected", [
    ({"LAMINA_NUM_THREADS": "3", "OMP_NUM_THREADS": "1"}, 3),
    ({"OMP_NUM_THREADS": "5"}, 5),
    ({"OMP_NUM_THREADS": "4,2"}, 4),           # OpenMP's nested list: the outer level
    ({"OMP_NUM_THREADS": ""}, None),           # empty is unset
    ({}, None),
], ids=["lamina-first", "omp", "omp-list", "omp-empty", "none"])
def test_the_default_comes_from_the_environment(fresh, monkeypatch, env, expected):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert lamina.get_num_threads() == (expected or len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("var, value", [("LAMINA_NUM_THREADS", "0"), ("LAMINA_NUM_THREADS", "two"),
                                        ("OMP_NUM_THREADS", "-1")])
def test_a_bad_environment_value_names_the_variable(fresh, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=rf"{var}: expected a positive integer number of threads, got '{value}'"):
        lamina.get_num_threads()


def test_set_get_round_trip_reaches_every_loaded_backend(fresh, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    lamina.set_num_threads(3)
    assert lamina.get_num_threads() == 3 and fresh.counts == [3]
    lamina.set_num_threads(np.int64(2))        # any integer, as torch accepts
    assert lamina.get_num_threads() == 2 and fresh.counts == [3, 2]


def test_a_backend_loaded_later_gets_an_explicit_count_only(fresh, monkeypatch):
    later = []
    monkeypatch.setattr(_device, "_load", lambda device_type: later.append(Recorder()) or later[-1])
    monkeypatch.setenv("OMP_NUM_THREADS", "2")      # BLAS reads this itself: nothing is pushed
    assert _device.get_backend("fake2").counts == []
    monkeypatch.setenv("LAMINA_NUM_THREADS", "3")
    assert _device.get_backend("fake3").counts == [3]
    lamina.set_num_threads(4)
    assert _device.get_backend("fake4").counts == [4]
    assert [b.counts for b in later] == [[4], [3, 4], [4]]


BAD = [(0, "expects a positive integer"), (-2, "expects a positive integer"), (1.5, "expects an int, but got float"),
       ("2", "expects an int, but got str"), (True, "expects an int, but got bool")]


@pytest.mark.parametrize("value, message", BAD, ids=[repr(v) for v, _ in BAD])
@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
def test_bad_counts_raise_like_torch(fresh, name, value, message):
    with pytest.raises(RuntimeError, match=f"^{name} {message}"):
        getattr(lamina, name)(value)
    assert fresh.counts == [] and _protocol.THREADS[0] is None and threads._INTEROP[0] is None
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=f"^{name} {message}"):
        getattr(torch, name)(value)


def test_interop_is_recorded_once_as_in_torch(fresh):
    assert lamina.get_num_interop_threads() == len(os.sched_getaffinity(0))
    lamina.set_num_interop_threads(3)
    assert lamina.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads after parallel work has started "
                                           "or set_num_interop_threads called"):
        lamina.set_num_interop_threads(2)
    assert lamina.get_num_interop_threads() == 3 and fresh.counts == []


@pytest.mark.parametrize("n, grain", [(0, 1), (1, 1), (7, 1), (7, 3), (64, 1), (65, 1), (1000, 1), (1000, 40)])
def test_chunks_cover_the_range_in_a_fixed_cut(n, grain):
    pieces = Backend.chunks(n, grain)
    assert [i for a, b in pieces for i in range(a, b)] == list(range(n))
    assert len(pieces) <= _protocol.MAX_CHUNKS
    assert all(b - a >= grain for a, b in pieces[:-1])


def test_the_protocol_default_runs_the_whole_range_once_inline():
    calls = []
    assert Backend().parallel_for(10, lambda a, b: calls.append((a, b)) or b - a, grain=2) == [10]
    assert calls == [(0, 10)] and Backend().parallel_for(0, lambda a, b: 1 / 0) == []


_PROBE = ("import json, os; os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1]); import lamina; "
          "print(json.dumps([lamina.get_num_threads(), lamina.get_num_interop_threads()]))")


@pytest.mark.parametrize("env, expected", [({}, [1, 1]), ({"OMP_NUM_THREADS": "3"}, [3, 1]),
                                           ({"LAMINA_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, [2, 1])],
                         ids=["cores", "omp", "lamina"])
def test_a_fresh_process_reads_its_environment_and_affinity(env, expected):
    """Pinned to one core, a new process counts one usable core unless a variable says otherwise."""
    base = {k: v for k, v in os.environ.items() if k not in ("LAMINA_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == expected


def test_clip_grad_norm_is_the_same_on_one_and_two_threads():
    """The 2-norm sums BLAS dots over fixed pieces (OpenBLAS splits only longer dots among threads)."""
    gen = np.random.default_rng(0)
    before = lamina.get_num_threads()
    out = []
    try:
        for n in (1, 2):
            lamina.set_num_threads(n)
            params = [lamina.zeros(s, requires_grad=True) for s in ((1000, 300), (70001,), (3,))]
            for p, g in zip(params, (gen.standard_normal(p.shape).astype(np.float32) for p in params)):
                p.grad = lamina.from_numpy(g)
            gen = np.random.default_rng(0)
            total = lamina.nn.utils.clip_grad_norm_(params, 0.25)
            out.append([total.numpy()] + [p.grad.numpy().copy() for p in params])
    finally:
        lamina.set_num_threads(before)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    flat = np.concatenate([g.reshape(-1) for g in out[0][1:]])
    assert np.isclose(np.sqrt((flat.astype(np.float64) ** 2).sum()), 0.25, rtol=1e-5)  # clipped to max_norm
