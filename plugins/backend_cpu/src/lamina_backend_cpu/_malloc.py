"""Keep freed array memory in the process (glibc ``mallopt``), so a training step does not page-fault.

NumPy takes every array buffer from ``malloc``. glibc serves a request above its mmap threshold with a
fresh ``mmap`` and gives it back to the OS at ``free``; below it, memory freed at the top of the heap
beyond the trim threshold is returned with ``brk``. Either way the next step's arrays of the same size
are new pages, faulted in (and zeroed by the kernel) on first touch: in the small GPT train step
(``benchmarks/wl_models.py``) that was ~18,000 minor faults and ~35 ms of system time a step, about a
sixth of the step (PyTorch's: ~1,900 faults, 4 ms). With the mmap threshold fixed at 32 MiB (glibc's
largest; fixing it also turns off the dynamic threshold) and a trim threshold of 256 MiB, buffers up to
32 MiB are reused from the heap.

Nothing about results changes. It is done once, when the CPU backend is made, on glibc only, and not
when the user set any ``MALLOC_*`` tunable or ``LAMINA_MALLOC_TUNING=0`` in the environment.
"""

from __future__ import annotations

import ctypes
import os
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20     # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit; larger values are refused
TRIM_THRESHOLD = 256 << 20

_done: list[bool] = []


def wanted(environ: os._Environ | dict = os.environ) -> bool:
    """True unless opted out (``LAMINA_MALLOC_TUNING=0``) or the user tunes glibc malloc themselves."""
    if environ.get("LAMINA_MALLOC_TUNING", "1").strip() in ("0", "false", "no", "off"):
        return False
    return not any(k.startswith("MALLOC_") or k.startswith("GLIBC_TUNABLES") for k in environ)


def tune_malloc() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True when they were set (by this or an earlier call)."""
    if _done:
        return _done[0]
    ok = False
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and wanted():
        try:
            mallopt = ctypes.CDLL(None).mallopt
            mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
            ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        except (OSError, AttributeError):
            ok = False
    _done.append(ok)
    return ok
