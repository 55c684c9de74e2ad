"""Exporter registration: lamina-onnx's own tables are entry points; a third-party distribution adds
an exporter for its own module through the same group; conflicts and in-process registration."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import lamina
import pytest
from _onnx_check import export_bytes, op_types, roundtrip
from lamina import nn, plugins
from lamina.autograd import Function
from lamina.onnx import GROUP, OnnxExporterError, UnsupportedOperatorError, class_key, register_exporter

ACME_LAYERS = '''
import lamina
from lamina import nn


class CumGate(nn.Module):
    """y = x * cumprod(sigmoid(x)) along the last dim: cumprod has no first-party exporter."""

    def forward(self, x):
        return x * x.sigmoid().cumprod(-1)
'''

ACME_EXPORTERS = '''
def export_cum_gate(g, call):
    x, y = call.inputs[0], call.outputs[0]
    s = g.add_node("Sigmoid", [x.name])[0]
    logs = g.add_node("CumSum", [g.add_node("Log", [s])[0], g.constant(-1)])[0]
    g.add_node("Mul", [x.name, g.add_node("Exp", [logs])[0]], [y.name])


def export_relu_again(g, call):
    g.add_node("Relu", [call.inputs[0].name], call.output_names)


EXPORTERS = {"acme_layers.CumGate": export_cum_gate}
CLASHING = {"lamina.ops.unary.Relu": export_relu_again}
'''


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install a throw-away distribution ``acme-onnx`` (modules + dist-info) on sys.path."""

    def install(entry_points: dict[str, str]) -> None:
        (tmp_path / "acme_layers.py").write_text(textwrap.dedent(ACME_LAYERS))
        (tmp_path / "acme_onnx.py").write_text(textwrap.dedent(ACME_EXPORTERS))
        info = tmp_path / "acme_onnx-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-onnx\nVersion: 1.0\n")
        lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")
        (info / "RECORD").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path))
        plugins.refresh()

    yield install
    monkeypatch.undo()
    for name in ("acme_layers", "acme_onnx"):
        sys.modules.pop(name, None)
    plugins.refresh()


def test_every_first_party_key_names_a_module_or_function_class_or_an_observed_op_function():
    from lamina_onnx import _registry

    table = _registry.load()
    assert len(table) > 100
    functions = []
    for key in table:
        module, _, qualname = key.rpartition(".")
        cls = getattr(importlib.import_module(module), qualname)
        if isinstance(cls, type):
            assert issubclass(cls, (nn.Module, Function)), key
        else:  # a non-differentiable op the core reports through notify_observers (lamina.gt)
            assert module.startswith("lamina.ops.") and callable(cls), key
            functions.append(qualname)
        assert class_key(cls) == key
    assert {"gt", "logical_and", "argmax", "any"} <= set(functions)


def test_first_party_tables_come_from_the_entry_point_group():
    labels = {e.name: e.value for e in plugins.entries(GROUP) if e.distribution == "lamina-onnx"}
    assert labels["layers"] == "lamina_onnx.exporters.layers:EXPORTERS"
    assert {"elementwise", "shape", "reduction", "activation", "layers", "norms", "recurrent", "attention",
            "logic"} <= set(labels)


def test_a_third_party_exporter_for_its_own_module_is_found_through_the_entry_point(third_party):
    third_party({"acme.exporters": "acme_onnx:EXPORTERS"})
    acme = importlib.import_module("acme_layers")
    lamina.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), acme.CumGate())
    proto = roundtrip(model, lamina.randn(3, 4), run_args=lamina.randn(6, 4), input_names=["x"],
                      dynamic_axes={"x": [0]})
    assert op_types(proto) == ["Gemm", "Sigmoid", "Log", "CumSum", "Exp", "Mul"]


def test_without_the_third_party_table_its_module_is_traced_and_the_missing_op_named(third_party):
    third_party({})
    acme = importlib.import_module("acme_layers")
    model = nn.Sequential(nn.Linear(4, 4), acme.CumGate())
    with pytest.raises(UnsupportedOperatorError, match=r"no ONNX exporter for op 'Cumprod' \(in module '1'\)"):
        export_bytes(model, lamina.randn(3, 4))


def test_two_tables_exporting_one_key_raise_naming_both(third_party):
    third_party({"acme.clashing": "acme_onnx:CLASHING"})
    with pytest.raises(OnnxExporterError, match=r"two exporters for 'lamina.ops.unary.Relu': lamina-onnx's entry "
                                                 r"point 'elementwise'.* and acme-onnx's entry point 'acme.clashing'"):
        export_bytes(nn.ReLU(), lamina.randn(2))


def test_a_table_that_is_not_a_dict_is_refused(third_party):
    third_party({"acme.bad": "acme_onnx:export_cum_gate"})
    with pytest.raises(OnnxExporterError, match="'acme.bad'.*must be a dict"):
        export_bytes(nn.ReLU(), lamina.randn(2))


class Doubler(nn.Module):
    def forward(self, x):
        return x * 2


class Tripler(Doubler):
    def forward(self, x):  # overrides forward: not exported by Doubler's exporter
        return x * 3


class QuietDoubler(Doubler):
    """Inherits forward: exported by Doubler's exporter."""


def test_in_process_registration_and_the_mro_rule(monkeypatch):
    from lamina_onnx import _registry

    monkeypatch.setattr(_registry, "_in_process", {})

    def export_doubler(g, call):
        g.add_node("Add", [call.inputs[0].name, call.inputs[0].name], call.output_names)

    register_exporter(Doubler, export_doubler)
    assert op_types(roundtrip(Doubler(), lamina.randn(2, 3))) == ["Add"]
    assert op_types(roundtrip(QuietDoubler(), lamina.randn(2, 3))) == ["Add"]
    assert op_types(roundtrip(Tripler(), lamina.randn(2, 3))) == ["Mul"]
    with pytest.raises(OnnxExporterError, match="already registered; pass replace=True"):
        register_exporter(Doubler, export_doubler)
    register_exporter("lamina.ops.unary.Relu", lambda g, call: g.add_node("Sigmoid", [call.inputs[0].name],
                                                                          call.output_names), replace=True)
    assert op_types(export_and_load(nn.ReLU())) == ["Sigmoid"]
    with pytest.raises(TypeError, match="expected a class or key string and a callable"):
        register_exporter(Doubler, "not callable")


def export_and_load(model):
    import onnx

    return onnx.load_from_string(export_bytes(model, lamina.randn(2, 3)))


def test_an_exporter_must_write_the_outputs_that_are_read(monkeypatch):
    from lamina_onnx import _registry

    monkeypatch.setattr(_registry, "_in_process", {})
    register_exporter(Doubler, lambda g, call: None)
    with pytest.raises(OnnxExporterError, match=r"reads output 0 of op 'Doubler' \(in module '0'\), which its "
                                                "exporter does not produce"):
        export_bytes(nn.Sequential(Doubler(), nn.ReLU()), lamina.randn(2, 3))
