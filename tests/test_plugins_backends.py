"""Backends (with probe) and kernel packs."""

from __future__ import annotations

import sys

import pytest
from lamina import plugins
from lamina.errors import PluginConflictError, PluginLoadError, PluginNotFoundError
from plugin_factory import Sandbox, backend_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


@pytest.fixture
def backends(sandbox):
    sandbox.dist("lamina-backend-one",
                 entry_points={"lamina.backends.cpu": {"one": "lamina_backend_one:One"}},
                 modules={"lamina_backend_one": backend_module("One")})
    sandbox.dist("acme-backend", entry_points={"lamina.backends.cpu": {"acme.two": "acme_backend:Two"},
                                               "lamina.backends.cuda": {"acme.gpu": "acme_backend:Gpu"}},
                 modules={"acme_backend": backend_module("Two", ok=False, reason="no accelerator")
                          + backend_module("Gpu", raises=True).split("\n", 1)[1]})
    sandbox.dist("lamina-backend-broken", entry_points={"lamina.backends.cpu": {"broken": "lamina_bb:B"}},
                 modules={"lamina_bb": "raise ImportError('missing native library')\n"})
    return sandbox


def test_backend_classes_first_party_first_errors_included(backends):
    found = plugins.load_backend_classes("cpu")
    assert [name for name, _ in found] == ["broken", "one", "acme.two"]
    assert isinstance(found[0][1], PluginLoadError) and "missing native library" in str(found[0][1])
    assert found[1][1].__name__ == "One" and found[2][1].__name__ == "Two"
    assert "lamina_backend_one" in sys.modules


def test_backend_classes_only_for_the_device_type(backends):
    assert [name for name, _ in plugins.load_backend_classes("cuda")] == ["acme.gpu"]
    assert plugins.load_backend_classes("tpu") == []
    assert "lamina_backend_one" not in sys.modules


def test_lamina_backends_chooses_one(backends):
    backends.env(LAMINA_BACKENDS="cpu=acme.two, cuda=nothing")
    assert [name for name, _ in plugins.load_backend_classes("cpu")] == ["acme.two", "broken", "one"]
    (name, err), (other, _) = plugins.load_backend_classes("cuda")
    assert name == "nothing" and isinstance(err, PluginNotFoundError)
    assert "acme.gpu" in str(err) and other == "acme.gpu"


def test_block_list_hides_a_backend(backends):
    backends.env(LAMINA_DISABLE_PLUGINS="lamina-backend-broken")
    assert [name for name, _ in plugins.load_backend_classes("cpu")] == ["one", "acme.two"]


def test_strict_mode_raises(backends):
    backends.env(LAMINA_STRICT_PLUGINS="1")
    with pytest.raises(PluginLoadError, match="missing native library"):
        plugins.load_backend_classes("cpu")


def test_probe_never_raises():
    class Good:
        @staticmethod
        def probe():
            return True, "fine"

    class Exploding:
        @classmethod
        def probe(cls):
            raise OSError("driver gone")

    class Odd:
        @staticmethod
        def probe():
            return "yes"

    assert plugins.probe_backend(Good) == (True, "fine")
    assert plugins.probe_backend(Exploding) == (False, "probe() raised OSError: driver gone")
    assert plugins.probe_backend(Odd)[0] is False
    assert plugins.probe_backend(object)[1].endswith("has no probe() method")


def test_status_probes_backends(backends):
    probes = {n.name: (n.state, n.probe) for d in plugins.status() for n in d.names}
    assert probes["one"] == ("loaded", (True, "ready"))
    assert probes["acme.two"] == ("loaded", (False, "no accelerator"))
    assert probes["acme.gpu"] == ("loaded", (False, "probe() raised RuntimeError: probe exploded"))
    assert probes["broken"][0] == "failed"


def test_kernel_packs(sandbox):
    pack = "def register(registry):\n    registry.append(__name__)\n"
    sandbox.dist("lamina-fast", entry_points={"lamina.kernels.cpu": {"fast": "lamina_fast:register"}},
                 modules={"lamina_fast": pack})
    sandbox.dist("acme-fast", entry_points={"lamina.kernels.cpu": {"fast": "acme_fast:register"},
                                            "lamina.kernels.cuda": {"gpu": "acme_fast:register"}},
                 modules={"acme_fast": pack})
    sandbox.dist("acme-bad", entry_points={"lamina.kernels.cpu": {"bad": "acme_bad:register"}},
                 modules={"acme_bad": "raise RuntimeError('bad pack')\n"})
    registry: list[str] = []
    for register in plugins.kernel_packs("cpu"):  # same label from two dists: both used, no conflict
        register(registry)
    assert registry == ["lamina_fast", "acme_fast"]
    failed = [n for d in plugins.status() for n in d.names if n.state == "failed"]
    assert [(n.group, n.name) for n in failed] == [("lamina.kernels.cpu", "bad")]
    assert len(plugins.kernel_packs("cuda")) == 1


def test_kernel_pack_registered_in_process(sandbox):
    plugins.register("lamina.kernels.cpu", "mine", print)
    assert plugins.kernel_packs("cpu") == [print]


def test_backend_offered_twice_needs_a_preference(sandbox):
    for dist, module in (("lamina-backend-one", "lamina_b1"), ("lamina-backend-alt", "lamina_b2")):
        sandbox.dist(dist, entry_points={"lamina.backends.cpu": {"numpy": f"{module}:Numpy"}},
                     modules={module: backend_module("Numpy")})
    (name, err), = plugins.load_backend_classes("cpu")
    assert name == "numpy" and isinstance(err, PluginConflictError)
    plugins.prefer("numpy", "lamina-backend-alt")
    (name, cls), = plugins.load_backend_classes("cpu")  # prefer() dropped the cached list
    assert cls.__module__ == "lamina_b2"
