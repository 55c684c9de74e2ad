"""CuPy/CUDA failures map to lamina errors: allocation failures to OutOfMemoryError with the bytes."""

from __future__ import annotations

import re

import lamina
import pytest
from lamina_backend_cuda import _errors


class FakeCupyOOM(MemoryError):
    """Shaped like cupy.cuda.memory.OutOfMemoryError (keeps the requested size in ``_size``)."""

    def __init__(self, size):
        self._size = size
        super().__init__(f"Out of memory allocating {size:,} bytes (allocated so far: 0 bytes).")


class CUDARuntimeError(RuntimeError):
    pass


@pytest.mark.parametrize("exc, nbytes, want", [
    (FakeCupyOOM(3 * 2**30), None, r"tried to allocate 3221225472 bytes \(3.00 GiB\) on cuda:1"),
    (FakeCupyOOM(512), 512, r"tried to allocate 512 bytes \(512 B\) on cuda:1"),
    (CUDARuntimeError("cudaErrorMemoryAllocation: out of memory"), 4096, r"4096 bytes \(4.00 KiB\)"),
    (RuntimeError("CUBLAS_STATUS_ALLOC_FAILED"), 2**20, r"1048576 bytes \(1.00 MiB\)"),
])
def test_allocation_failures_become_out_of_memory(exc, nbytes, want):
    err = _errors.translate(exc, nbytes, "cuda:1")
    assert isinstance(err, lamina.OutOfMemoryError) and isinstance(err, MemoryError)
    assert re.search(want, str(err)), str(err)
    assert "empty_cache" in str(err)


@pytest.mark.parametrize("exc", [ValueError("shape mismatch"), CUDARuntimeError("cudaErrorIllegalAddress")])
def test_other_errors_pass_through(exc):
    assert _errors.translate(exc, 10, "cuda:0") is exc


def test_guarded_malloc_raises_out_of_memory_and_tracks_success():
    sizes, peaks = [], []

    def malloc(n):
        sizes.append(n)
        if n > 100:
            raise FakeCupyOOM(n)
        return f"ptr{n}"

    alloc = _errors.guarded_malloc(malloc, lambda: "cuda:0", lambda: peaks.append(sizes[-1]))
    assert alloc(10) == "ptr10" and peaks == [10]
    with pytest.raises(lamina.OutOfMemoryError, match=r"tried to allocate 1000 bytes .* on cuda:0") as e:
        alloc(1000)
    assert isinstance(e.value.__cause__, FakeCupyOOM) and peaks == [10]


def test_guarded_malloc_lets_other_errors_through():
    def malloc(n):
        raise CUDARuntimeError("cudaErrorLaunchFailure")

    with pytest.raises(CUDARuntimeError):
        _errors.guarded_malloc(malloc, lambda: "cuda:0")(8)
