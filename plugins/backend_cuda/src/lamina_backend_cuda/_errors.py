"""CuPy/CUDA failures -> lamina errors. An allocation failure becomes ``lamina.OutOfMemoryError``
(a ``MemoryError``) that names the bytes requested and the device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina import OutOfMemoryError

#: substrings of CUDA / cuBLAS / cuDNN errors that mean "out of device memory"
_OOM_CODES = ("cudaErrorMemoryAllocation", "CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED",
              "CUFFT_ALLOC_FAILED", "CUSOLVER_STATUS_ALLOC_FAILED", "CUDA_ERROR_OUT_OF_MEMORY")


def _human(nbytes: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def is_oom(e: BaseException) -> bool:
    """True for CuPy's OutOfMemoryError (a MemoryError) and CUDA library errors meaning 'no memory'."""
    if isinstance(e, MemoryError):
        return True
    text = f"{type(e).__name__}: {e}"
    return any(code in text for code in _OOM_CODES)


def out_of_memory(nbytes: int | None, device: str, cause: BaseException | None = None) -> OutOfMemoryError:
    """The lamina error for a failed allocation of ``nbytes`` on ``device``."""
    if nbytes is None:
        nbytes = int(getattr(cause, "_size", 0) or 0)
    msg = f"CUDA out of memory: tried to allocate {nbytes} bytes ({_human(nbytes)}) on {device}"
    if cause is not None:
        msg += f" ({type(cause).__name__}: {cause})"
    return OutOfMemoryError(msg + ". Free tensors you no longer need, call lamina.cuda.empty_cache(), "
                                  "or use a smaller batch.")


def translate(e: BaseException, nbytes: int | None, device: str) -> BaseException:
    """``e`` as a lamina error when it is an allocation failure; otherwise ``e`` itself."""
    if isinstance(e, OutOfMemoryError) or not is_oom(e):
        return e
    return out_of_memory(nbytes, device, e)


def guarded_malloc(malloc: Callable[[int], Any], device_of: Callable[[], str],
                   on_success: Callable[[], None] | None = None) -> Callable[[int], Any]:
    """Wrap a CuPy allocator (``pool.malloc``) so every failed allocation raises OutOfMemoryError."""

    def _malloc(nbytes: int) -> Any:
        try:
            mem = malloc(nbytes)
        except Exception as e:  # noqa: BLE001  (MemoryError and CUDARuntimeError both arrive here)
            err = translate(e, nbytes, device_of())
            if err is e:
                raise
            raise err from e
        if on_success is not None:
            on_success()
        return mem

    return _malloc
