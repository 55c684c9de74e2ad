"""``probe()``: is CUDA usable here, and if not, why. Cheap, cached, never raises.

Each step initialises no more than the question needs: ``find_spec`` (no import) says whether
CuPy is installed; loading the driver library (no CUDA call) says whether an NVIDIA driver is
present; only then is CuPy imported and ``getDeviceCount()`` asked, the first real CUDA call.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
import threading

_INSTALL = "install CuPy for your CUDA version: pip install 'lamina-backend-cuda[cuda12]' (or '[cuda13]')"

_lock = threading.Lock()
_cached: list[tuple[bool, str] | None] = [None]


def probe(refresh: bool = False) -> tuple[bool, str]:
    """(usable, reason when not). The answer is cached for the process; ``refresh=True`` asks again."""
    with _lock:
        if _cached[0] is None or refresh:
            try:
                _cached[0] = _probe()
            except Exception as e:  # noqa: BLE001  (a probe never raises)
                _cached[0] = (False, f"probing CUDA raised {type(e).__name__}: {e}")
        return _cached[0]


def _probe() -> tuple[bool, str]:
    if "cupy" not in sys.modules and cupy_spec() is None:
        return False, f"CuPy is not installed; {_INSTALL}"
    ok, why = driver_library()
    if not ok:
        return False, why
    try:
        import cupy
    except Exception as e:  # noqa: BLE001  (broken wheel, CUDA libraries of the wrong version, ...)
        return False, f"CuPy is installed but failed to import ({type(e).__name__}: {e})"
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # noqa: BLE001  (CUDARuntimeError and friends)
        return False, runtime_reason(e)
    if n < 1:
        return False, "no CUDA device found: the driver reports 0 devices (check CUDA_VISIBLE_DEVICES)"
    return True, ""


def cupy_spec():
    """The import spec of CuPy, or None (does not import it)."""
    try:
        return importlib.util.find_spec("cupy")
    except (ImportError, ValueError):
        return None


def driver_library() -> tuple[bool, str]:
    """Whether the NVIDIA driver's CUDA library can be loaded (Linux and Windows names)."""
    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")
    errors = []
    for name in names:
        try:
            ctypes.CDLL(name)
            return True, ""
        except OSError as e:
            errors.append(str(e))
    return False, (f"no NVIDIA driver: the CUDA driver library ({' or '.join(names)}) could not be loaded "
                   f"({errors[0]}); install the NVIDIA driver, or run on a machine with a GPU")


_RUNTIME_HINTS = {
    "cudaErrorNoDevice": "no CUDA device is visible (check CUDA_VISIBLE_DEVICES and the driver)",
    "cudaErrorInsufficientDriver": "the NVIDIA driver is older than the CUDA runtime CuPy was built for "
                                   "(upgrade the driver, or install the CuPy wheel for your CUDA version)",
    "cudaErrorInitializationError": "the CUDA driver failed to initialise",
    "cudaErrorDevicesUnavailable": "every CUDA device is busy or in exclusive/prohibited compute mode",
}


def runtime_reason(e: BaseException) -> str:
    """A reason for a failed ``getDeviceCount()``, naming the CUDA error."""
    text = f"{type(e).__name__}: {e}"
    for code, hint in _RUNTIME_HINTS.items():
        if code in text:
            return f"{hint} ({text})"
    return f"CUDA runtime error while counting devices ({text})"
