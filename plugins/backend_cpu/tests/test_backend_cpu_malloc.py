"""glibc malloc tuning of the CPU backend (``_malloc``): freed multi-megabyte buffers stay in the heap, so
allocating the same array again does not page-fault; opting out by environment is honoured."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from lamina_backend_cpu import NumpyBackend, _malloc

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's")


@pytest.mark.parametrize("env, expect", [({}, True), ({"LAMINA_MALLOC_TUNING": "0"}, False),
                                         ({"LAMINA_MALLOC_TUNING": "off"}, False),
                                         ({"LAMINA_MALLOC_TUNING": "1"}, True),
                                         ({"MALLOC_ARENA_MAX": "2"}, False), ({"MALLOC_TRIM_THRESHOLD_": "0"}, False),
                                         ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}, False)])
def test_opt_out_by_environment(env, expect):
    assert _malloc.wanted(env) is expect


@glibc
def test_a_freed_buffer_is_reused_without_page_faults():
    resource = pytest.importorskip("resource")
    NumpyBackend()                          # makes the backend: tunes malloc once per process
    if not _malloc.tune_malloc():
        pytest.skip("opted out by the environment")
    n = (2 << 20) // 4                      # 2 MiB of float32 (NumPy asks no huge pages below 4 MiB)
    [np.ones(n, np.float32) for _ in range(4)]          # the heap grows once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        arrays = [np.ones(n, np.float32) for _ in range(4)]   # first touch of every page; 8 MiB freed together
        del arrays
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 2000                    # untuned: the freed 8 MiB is trimmed each time, ~40,000 faults
