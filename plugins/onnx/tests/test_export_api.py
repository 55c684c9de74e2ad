"""lamina.onnx.export's arguments, files and errors: what torch.onnx.export (dynamo=False) accepts."""

from __future__ import annotations

import collections
import io

import lamina
import lamina.nn.functional as F
import numpy as np
import onnx
import pytest
from _onnx_check import export_bytes, op_types, roundtrip, run_onnx
from lamina import nn
from lamina.onnx import OnnxExporterError, UnsupportedOperatorError


def small() -> nn.Module:
    lamina.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())


class Block(nn.Module):
    def __init__(self, fn) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.fc(x))


class Encoder(nn.Module):
    """encoder.layers.0 is a Block running ``fn``."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList([Block(fn)])

    def forward(self, x):
        return self.encoder.layers[0](x)


def test_export_writes_a_path_or_a_file_object_and_returns_none(tmp_path):
    model, x = small(), lamina.randn(2, 4)
    path = tmp_path / "m.onnx"
    assert lamina.onnx.export(model, (x,), str(path)) is None
    assert lamina.onnx.export(model, x, path) is None  # a bare tensor and a PathLike, as torch accepts
    buf = io.BytesIO()
    lamina.onnx.export(model, (x,), buf)
    assert path.read_bytes() == buf.getvalue()
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def test_default_opset_is_torch_2_13s_and_the_supported_range_is_honoured():
    model, x = small(), lamina.randn(2, 4)
    assert lamina.onnx.DEFAULT_OPSET == 20
    assert onnx.load_from_string(export_bytes(model, x)).opset_import[0].version == 20
    for opset in lamina.onnx.SUPPORTED_OPSETS:
        assert onnx.load_from_string(export_bytes(model, x, opset_version=opset)).opset_import[0].version == opset
    for bad in (16, 21):
        with pytest.raises(ValueError, match=r"opset_version must be one of \[17, 18, 19, 20\], got " + str(bad)):
            export_bytes(model, x, opset_version=bad)


def test_bad_arguments_raise_naming_the_argument():
    model, x = small(), lamina.randn(2, 4)
    with pytest.raises(NotImplementedError, match="dynamo=True.*pass dynamo=False"):
        lamina.onnx.export(model, (x,), io.BytesIO(), dynamo=True)
    with pytest.raises(TypeError, match="expected f to be a path or a binary file object, got None"):
        lamina.onnx.export(model, (x,))
    with pytest.raises(TypeError, match="expected model to be a lamina.nn.Module, got function"):
        lamina.onnx.export(lambda t: t, (x,), io.BytesIO())
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        lamina.onnx.export(model, (x,), io.BytesIO(), bogus=1)
    with pytest.raises(NotImplementedError, match="export_params=False"):
        lamina.onnx.export(model, (x,), io.BytesIO(), export_params=False)
    with pytest.raises(NotImplementedError, match="training='train'"):
        lamina.onnx.export(model, (x,), io.BytesIO(), training="train")
    with pytest.raises(ValueError, match=r"dynamic_axes\['x'\] has dims \[2\], but input 'x' has 2 dims"):
        lamina.onnx.export(model, (x,), io.BytesIO(), input_names=["x"], dynamic_axes={"x": [2]})
    with pytest.raises(TypeError, match=r"dynamic_axes\['x'\] must be a dict"):
        lamina.onnx.export(model, (x,), io.BytesIO(), input_names=["x"], dynamic_axes={"x": 0})
    with pytest.raises(ValueError, match="got 2 input_names for 1 input tensors"):
        lamina.onnx.export(model, (x,), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(TypeError, match="expected args to be a tuple of inputs or a Tensor, got int"):
        lamina.onnx.export(model, 3, io.BytesIO())


def test_input_names_default_to_the_forward_parameters_and_keyword_inputs_are_inputs():
    class Scaled(nn.Module):
        def forward(self, image, *, scale=None):
            return image * scale

    x, s = lamina.randn(2, 3), lamina.randn(2, 3)
    proto = roundtrip(Scaled(), (x, {"scale": s}))
    assert [i.name for i in proto.graph.input] == ["image", "scale"]
    proto = roundtrip(Scaled(), (x,), kwargs={"scale": s}, output_names=["y"])
    assert [o.name for o in proto.graph.output] == ["y"]


def test_an_op_without_exporter_names_the_op_and_the_module_path():
    model = Encoder(lambda h: h.cumprod(-1))
    with pytest.raises(UnsupportedOperatorError,
                       match=r"no ONNX exporter for op 'Cumprod' \(in module 'encoder.layers.0'\); register one for "
                             r"'lamina.ops.cumulative.Cumprod'"):
        export_bytes(model, lamina.randn(2, 4))
    assert issubclass(UnsupportedOperatorError, OnnxExporterError) and issubclass(OnnxExporterError, RuntimeError)


def test_an_unsupported_configuration_names_the_op_the_path_and_why():
    model = Encoder(lambda h: h.round(decimals=2))
    with pytest.raises(UnsupportedOperatorError,
                       match=r"cannot export op 'Round' \(in module 'encoder.layers.0'\): round\(decimals=2\)"):
        export_bytes(model, lamina.randn(2, 4))


def test_a_mask_made_outside_the_traced_ops_is_refused_not_baked_in():
    model = Encoder(lambda h: lamina.where(lamina.tensor(h.detach().numpy() > 0), h, h * 0.1))
    with pytest.raises(OnnxExporterError, match=r"op 'Where' \(in module 'encoder.layers.0'\) reads a tensor that "
                                                "depends on the inputs but was made outside lamina's traced ops"):
        export_bytes(model, lamina.randn(2, 4))
    roundtrip(Encoder(lambda h: lamina.where(h > 0, h, h * 0.1)), lamina.randn(2, 4))  # a comparison is traced


def test_a_constant_sized_by_a_dynamic_axis_is_refused():
    model = Block(lambda h: h + lamina.zeros(h.shape[0], 4))
    export_bytes(model, lamina.randn(2, 4))  # fine while the batch is static
    with pytest.raises(OnnxExporterError, match="made outside lamina's traced ops"):
        export_bytes(model, lamina.randn(2, 4), input_names=["x"], dynamic_axes={"x": [0]})


def test_a_python_number_computed_from_a_dynamic_size_is_refused():
    model = Block(lambda h: h * (1.0 / h.shape[0]))
    with pytest.raises(UnsupportedOperatorError, match=r"cannot export op 'Mul' \(in module '<root>'\): argument 1 "
                                                       r"is 0.5 in one trace and 0.2 in the other"):
        export_bytes(model, lamina.randn(2, 4), input_names=["x"], dynamic_axes={"x": [0]})


def test_control_flow_on_values_is_refused():
    def branch(h):
        return h * 2 if h[0, 0].item() > h[1, 1].item() else h - 1

    lamina.manual_seed(3)
    x = lamina.randn(2, 4)
    model = Block(branch)
    with pytest.raises(OnnxExporterError, match="depends on the inputs"):
        for seed in range(8):  # some shuffle of the values flips the branch
            lamina.manual_seed(seed)
            export_bytes(model, lamina.randn(2, 4) + x)


def test_in_place_ops_are_recorded():
    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            h = self.act(self.fc(x))
            h.mul_(2).add_(1)
            return h

    lamina.manual_seed(0)
    roundtrip(InPlace(), lamina.randn(3, 4), run_args=lamina.randn(6, 4), input_names=["x"],
              dynamic_axes={"x": [0]})


def test_an_in_place_change_the_tracer_cannot_see_is_refused():
    def hidden(h):
        with lamina.no_grad():
            h.mul_(2)
        return h + 1

    with pytest.raises(OnnxExporterError, match="changed in place by an operation the tracer cannot see"):
        export_bytes(Block(hidden), lamina.randn(2, 4))


def test_detach_and_data_aliases_are_the_same_value():
    roundtrip(Block(lambda h: h.detach() * 2 + h.data), lamina.randn(2, 4))


def test_shared_parameters_are_stored_once():
    lamina.manual_seed(0)
    fc = nn.Linear(4, 4)
    model = nn.Sequential(fc, nn.Tanh(), fc)
    proto = roundtrip(model, lamina.randn(2, 4))
    assert sorted(i.name for i in proto.graph.initializer) == ["0.bias", "0.weight"]


def test_verbose_prints_the_graph(capsys):
    export_bytes(small(), lamina.randn(2, 4), verbose=True)
    assert "Gemm" in capsys.readouterr().out


def test_a_model_returning_no_tensor_is_refused():
    class Nothing(nn.Module):
        def forward(self, x):
            return None

    with pytest.raises(OnnxExporterError, match="returned no tensor"):
        export_bytes(Nothing(), lamina.randn(2))


def test_constant_folding_computes_parameter_arithmetic_ahead():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lamina.ones(4))

        def forward(self, x):
            return x * (self.scale * 2 + 1).exp()

    assert op_types(roundtrip(Scaled(), lamina.randn(2, 4))) == ["Mul"]
    assert op_types(roundtrip(Scaled(), lamina.randn(2, 4), do_constant_folding=False)) == ["Mul", "Add", "Exp",
                                                                                             "Mul"]


def test_the_global_rng_is_left_as_it_was_and_both_passes_draw_the_same_numbers():
    class Jitter(nn.Module):
        """Draws from the global RNG in forward (a constant of the graph: the same in both passes)."""

        def forward(self, x):
            return x + 0.0 * lamina.randn(3)

    lamina.manual_seed(5)
    rng = lamina.get_rng_state()
    export_bytes(Jitter(), lamina.ones(2, 3))  # two passes drawing different numbers would be refused
    assert lamina.get_rng_state() == rng


def test_a_namedtuple_input_keeps_its_type_in_both_passes():
    """A PackedSequence-like namedtuple of tensors passed to forward: each field is a graph input."""
    Pair = collections.namedtuple("Pair", ["a", "b"])

    class Sum(nn.Module):
        def forward(self, pair):
            assert isinstance(pair, Pair)
            return pair.a * 2 + pair.b

    pair = Pair(lamina.randn(2, 3), lamina.randn(2, 3))
    data = export_bytes(Sum(), (pair,), input_names=["a", "b"], dynamic_axes={"a": [0], "b": [0]})
    more = Pair(lamina.randn(5, 3), lamina.randn(5, 3))
    (got,) = run_onnx(data, [more.a.numpy(), more.b.numpy()])
    np.testing.assert_allclose(got, (more.a * 2 + more.b).numpy(), rtol=1e-6)


def test_scalar_constants_stay_0_d_in_the_graph():
    """g.constant(0) is a 0-d initializer: Range (scalar start/limit/delta) runs in onnxruntime."""
    from lamina.autograd import Function
    from lamina_onnx import register_exporter, unregister_exporter
    from lamina_onnx._fold import to_tensors

    class Positions(Function):
        """y = x + arange(x.shape[-1]). x: (*, L) -> y: (*, L)"""

        @staticmethod
        def forward(ctx, x):
            return x + np.arange(x.shape[-1], dtype=x.dtype)

        @staticmethod
        def backward(ctx, dy):
            return dy

    def export_positions(g, call):
        x, y = call.inputs[0], call.outputs[0]
        length = g.add_node("Squeeze", [g.add_node("Shape", [x.name], start=-1)[0], g.constant([0])])[0]
        steps = g.add_node("Range", [g.constant(0), length, g.constant(1)])[0]
        g.add_node("Add", [x.name, g.cast(steps, np.int64, x.dtype)], [y.name])

    (tensor,) = to_tensors({"zero": np.asarray(np.int64(0))})
    assert list(tensor.dims) == []
    register_exporter(Positions, export_positions)
    try:
        roundtrip(Block(Positions.apply), lamina.randn(2, 4))
    finally:
        unregister_exporter(Positions)


@pytest.mark.parametrize("axes", [None, {"x": [0]}], ids=["static", "dynamic_batch"])
def test_dropout_in_forward_is_refused_naming_the_random_draw(axes):
    class Noisy(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5, training=True)

    class Attend(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x, dropout_p=0.5)

    with pytest.raises(UnsupportedOperatorError, match=r"op 'MaskAffineFn'.*dropout with training=True and p > 0"):
        export_bytes(Noisy(), lamina.randn(2, 4), input_names=["x"], dynamic_axes=axes)
    # with a dynamic batch the two passes draw masks of different sizes: the op's own refusal still comes first
    with pytest.raises(UnsupportedOperatorError, match=r"op 'ScaledDotProductAttention'.*dropout_p > 0 draws"):
        export_bytes(Attend(), lamina.randn(2, 2, 3, 4), input_names=["x"], dynamic_axes=axes)


def test_a_random_draw_sized_by_a_dynamic_axis_is_named_as_a_likely_cause():
    class Jitter(nn.Module):
        def forward(self, x):
            return x + lamina.rand(x.shape[0], 3)

    export_bytes(Jitter(), lamina.ones(2, 3))  # static batch: the same draw in both passes, a constant
    with pytest.raises(OnnxExporterError, match=r"op 'Add' .*made outside lamina's traced ops.*or a random draw in "
                                                r"forward sized by a dynamic axis \(dropout with p > 0"):
        export_bytes(Jitter(), lamina.ones(2, 3), input_names=["x"], dynamic_axes={"x": [0]})
