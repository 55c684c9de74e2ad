"""``import lamina`` is light: fast, no plugin imported, no entry points read, no heavy optional deps."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
import lamina
t2 = time.perf_counter()
reg = sys.modules.get("lamina.plugins._registry")
print(json.dumps({
    "numpy_s": t1 - t0, "lamina_s": t2 - t1,
    "modules": sorted(m for m in sys.modules if m.startswith(("lamina_", "torch", "cupy", "pytest", "scipy"))),
    "scans": getattr(reg, "scan_count", 0),
}))
"""


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_import_lamina_imports_no_plugin_and_reads_no_entry_points():
    r = _probe()
    assert r["modules"] == [], f"import lamina imported {r['modules']}"
    assert r["scans"] == 0


def test_import_lamina_is_fast():
    """lamina's own import time (NumPy, its dependency, imported first) stays under 0.15 s.

    The best of three fresh interpreters is used, so a busy machine does not fail the test.
    """
    times = [_probe()["lamina_s"] for _ in range(3)]
    assert min(times) < 0.15, f"import lamina took {min(times):.3f} s (best of 3, after numpy)"


def test_first_tensor_loads_the_cpu_backend_lazily():
    code = ("import sys, lamina; assert 'lamina_backend_cpu' not in sys.modules; "
            "x = lamina.ones(2); assert 'lamina_backend_cpu' in sys.modules; print(x.sum().item())")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "2.0"
