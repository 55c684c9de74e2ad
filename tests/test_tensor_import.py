"""``import lamina`` is light: no plugin imported, no entry points read, no heavy optional deps, and
none of the parts that load on first use (the entry-point reader, pluggy, ``nn``, ``optim``, ...)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import numpy
before = set(sys.modules)
import lamina
reg = sys.modules.get("lamina.plugins._registry")
print(json.dumps({
    "new": sorted(set(sys.modules) - before),
    "modules": sorted(m for m in sys.modules if m.startswith(("lamina_", "torch", "cupy", "pytest", "scipy"))),
    "scans": getattr(reg, "scan_count", 0),
}))
"""

# what a script that only makes tensors never pays for: the entry-point reader, pluggy, the nn and
# optim layers, the file formats, the CLI and the kit (each is imported the first time it is used)
LOADED_ON_FIRST_USE = ("importlib.metadata", "importlib_metadata", "pluggy", "lamina.nn", "lamina.optim",
                       "lamina.serialization", "lamina.utils", "lamina.hooks", "lamina.cli", "lamina.testing")


def _probe() -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert run.returncode == 0, f"the probe failed:\n{run.stderr}"
    return json.loads(run.stdout)


def test_import_lamina_imports_no_plugin_and_reads_no_entry_points():
    r = _probe()
    assert r["modules"] == [], f"import lamina imported {r['modules']}"
    assert r["scans"] == 0


def test_import_lamina_loads_only_the_core_and_the_standard_library():
    """After NumPy, its one required import, ``import lamina`` adds lamina's eager core modules and standard
    library modules, nothing else: no third-party package and nothing meant to load on first use."""
    new = _probe()["new"]
    assert "lamina" in new
    third_party = sorted({m.partition(".")[0] for m in new} - {"lamina"} - set(sys.stdlib_module_names))
    assert third_party == [], f"import lamina imported third-party modules {third_party}"
    early = [m for m in new if any(m == lazy or m.startswith(lazy + ".") for lazy in LOADED_ON_FIRST_USE)]
    assert early == [], f"import lamina imported {early}, which should load on first use"


def test_first_tensor_loads_the_cpu_backend_lazily():
    code = ("import sys, lamina; assert 'lamina_backend_cpu' not in sys.modules; "
            "x = lamina.ones(2); assert 'lamina_backend_cpu' in sys.modules; print(x.sum().item())")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "2.0"
