"""`import lamina` reads no entry point and imports no plugin (checked in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from plugin_factory import Sandbox, classes_module

PROBE = textwrap.dedent("""
    import importlib, importlib.metadata, sys
    import importlib_metadata

    def scanned(*args, **kwargs):
        raise SystemExit("entry points were scanned during import")

    saved = {}
    for module in (importlib.metadata, importlib_metadata):
        for name in ("distributions", "entry_points"):
            saved[module, name] = getattr(module, name)
            setattr(module, name, scanned)

    import lamina
    import lamina.plugins
    for sub in ("nn", "nn.functional", "nn.init", "optim", "optim.lr_scheduler"):
        try:
            importlib.import_module("lamina." + sub)
        except ModuleNotFoundError as exc:
            if not ("lamina." + sub).startswith(exc.name or "?"):  # not written yet: fine
                raise
    # namespace() (called by lamina.nn & co. at import) does not even load the index machinery
    index_loaded_at_import = "lamina.plugins._registry" in sys.modules
    from lamina.plugins import _registry

    assert _registry.scan_count == 0, _registry.scan_count
    assert not index_loaded_at_import
    plugin_modules = [m for m in sys.modules if m.startswith("lamina_marker")]
    assert not plugin_modules, plugin_modules

    for (module, name), value in saved.items():
        setattr(module, name, value)
    # the marker plugin was discoverable all along: the check above could have failed
    assert "MarkerLayer" in lamina.plugins.names("lamina.layers")
    assert _registry.scan_count == 1
    assert "lamina_marker" not in sys.modules
    print("clean")
""")


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


def test_import_lamina_does_no_scan_and_imports_no_plugin(sandbox):
    root = sandbox.dist("lamina-marker", on_path=False,
                        entry_points={"lamina.layers": {"MarkerLayer": "lamina_marker:MarkerLayer"},
                                      "lamina.backends.cpu": {"marker": "lamina_marker:MarkerLayer"},
                                      "lamina.hooks": {"marker": "lamina_marker"}},
                        modules={"lamina_marker": classes_module("MarkerLayer")})
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in sys.path if p])
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("clean")
