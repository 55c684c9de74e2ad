"""probe() reasons for each failure mode, import hygiene, and what a user sees without a GPU."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import lamina
import pytest
from lamina_backend_cuda import _probe


@pytest.fixture
def fresh(monkeypatch):
    """Probe from scratch with CuPy and the driver library as each test sets them up."""
    monkeypatch.setattr(_probe, "_cached", [None])
    yield monkeypatch
    _probe._cached[0] = None


def _fake_cupy(count):
    class CUDARuntimeError(RuntimeError):
        pass

    def get_device_count():
        if isinstance(count, str):
            raise CUDARuntimeError(count)
        return count

    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


def _driver_ok():
    return True, ""


@pytest.mark.parametrize("setup, ok, reason", [
    ("no_cupy", False, r"CuPy is not installed; install CuPy .*lamina-backend-cuda\[cuda12\]"),
    ("no_driver", False, r"no NVIDIA driver: the CUDA driver library .* could not be loaded"),
    ("broken_import", False, r"CuPy is installed but failed to import \(ImportError: libnvrtc"),
    ("cudaErrorNoDevice: no CUDA-capable device is detected", False, r"no CUDA device is visible"),
    ("cudaErrorInsufficientDriver: CUDA driver version is insufficient", False,
     r"the NVIDIA driver is older than the CUDA runtime .*\(CUDARuntimeError: cudaErrorInsufficientDriver"),
    ("cudaErrorUnknown: oops", False, r"CUDA runtime error while counting devices \(CUDARuntimeError"),
    (0, False, r"no CUDA device found: the driver reports 0 devices"),
    (2, True, r"^$"),
])
def test_probe_reason_for_each_failure_mode(fresh, setup, ok, reason):
    if setup == "no_cupy":
        fresh.delitem(sys.modules, "cupy", raising=False)
        fresh.setattr(_probe, "cupy_spec", lambda: None)
    elif setup == "no_driver":
        fresh.setattr(_probe, "cupy_spec", lambda: object())
        fresh.setattr(_probe.ctypes, "CDLL", _raise_oserror)
    elif setup == "broken_import":
        fresh.setattr(_probe, "driver_library", _driver_ok)
        fresh.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
        fresh.setattr(_probe, "cupy_spec", lambda: object())
        real_import = __builtins__["__import__"] if isinstance(__builtins__, dict) else __builtins__.__import__

        def imp(name, *a, **k):
            if name == "cupy":
                raise ImportError("libnvrtc.so.12: cannot open shared object file")
            return real_import(name, *a, **k)

        fresh.setattr("builtins.__import__", imp)
    else:
        fresh.setattr(_probe, "driver_library", _driver_ok)
        fresh.setitem(sys.modules, "cupy", _fake_cupy(setup))
    got_ok, why = _probe.probe()
    assert got_ok is ok
    assert __import__("re").search(reason, why), why


def _raise_oserror(name):
    raise OSError(f"{name}: cannot open shared object file: No such file or directory")


def test_probe_is_cached_and_never_raises(fresh):
    calls = []

    def boom():
        calls.append(1)
        raise RuntimeError("unexpected")

    fresh.setattr(_probe, "_probe", boom)
    assert _probe.probe() == (False, "probing CUDA raised RuntimeError: unexpected")
    assert _probe.probe()[0] is False and len(calls) == 1
    _probe.probe(refresh=True)
    assert len(calls) == 2


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


needs_no_gpu = pytest.mark.skipif(lamina.cuda.is_available(), reason="a CUDA device is present")


def test_import_lamina_and_the_backend_module_import_no_cupy():
    r = _run("import sys, lamina, lamina_backend_cuda.backend, lamina_backend_cuda.kernels; "
             "print('cupy' in sys.modules, 'lamina_backend_cuda' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "False"


@needs_no_gpu
def test_without_a_gpu_to_cuda_raises_backend_unavailable_with_the_reason():
    assert lamina.cuda.is_available() is False
    why = lamina.cuda.unavailable_reason()
    assert "cupy:" in why and len(why) > 40
    assert lamina.cuda.device_count() == 0 and lamina.cuda.memory_allocated() == 0
    with pytest.raises(lamina.BackendUnavailableError, match="no usable backend for device type 'cuda': cupy: "):
        lamina.ones(3).to("cuda")


@needs_no_gpu
def test_default_device_cuda_without_a_gpu_raises_at_first_tensor():
    code = ("import lamina\n"
            "try:\n    lamina.ones(2)\nexcept lamina.BackendUnavailableError as e:\n    print('ERR', e)\n")
    r = _run(code, LAMINA_DEFAULT_DEVICE="cuda")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ERR no usable backend for device type 'cuda': cupy: "), r.stdout


@needs_no_gpu
def test_script_choosing_its_device_runs_on_cpu_without_a_gpu():
    code = ("import lamina\n"
            "device = 'cuda' if lamina.cuda.is_available() else 'cpu'\n"
            "x = lamina.randn(4, 3, device=device, requires_grad=True)\n"
            "(x * x).sum().backward()\n"
            "print(device, x.grad.device)\n")
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["cpu", "cpu"]
