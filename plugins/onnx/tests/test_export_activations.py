"""Every activation module of lamina-layers-basic exported and run in onnxruntime, at opsets 17 and 20
(GELU is one op from opset 20, a formula before)."""

from __future__ import annotations

import lamina
import pytest
from _onnx_check import op_types, roundtrip
from lamina import nn

ACTIVATIONS = [
    nn.ReLU(), nn.ReLU(inplace=True), nn.Hardtanh(-2.0, 3.0), nn.ReLU6(), nn.LeakyReLU(0.1), nn.PReLU(),
    nn.PReLU(4), nn.RReLU(), nn.ELU(0.5), nn.CELU(0.7), nn.SELU(), nn.GELU(), nn.GELU("tanh"), nn.SiLU(),
    nn.Mish(), nn.Hardswish(), nn.Hardsigmoid(), nn.Threshold(0.1, 20.0), nn.Sigmoid(), nn.Tanh(),
    nn.Softplus(), nn.Softplus(2.0, 1.0), nn.Softsign(), nn.Softshrink(0.3), nn.Hardshrink(0.4), nn.Tanhshrink(),
    nn.LogSigmoid(), nn.GLU(1), nn.Softmax(1), nn.LogSoftmax(-1), nn.Softmin(1), nn.Softmax2d(),
]


class Wrapped(nn.Module):
    """A linear layer first, so the activation's input is an op output (in-place activations need one)."""

    def __init__(self, act: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.act = act

    def forward(self, x):
        return self.act(self.conv(x))


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_activation_matches_lamina(act, opset):
    lamina.manual_seed(0)
    model = Wrapped(act)
    x = lamina.randn(2, 4, 3, 3) * 3
    roundtrip(model, x, run_args=lamina.randn(5, 4, 3, 3) * 3, opset_version=opset, input_names=["x"],
              dynamic_axes={"x": {0: "batch"}})


def test_gelu_is_one_op_from_opset_20_and_a_formula_before():
    assert "Gelu" in op_types(roundtrip(nn.GELU(), lamina.randn(2, 3), opset_version=20))
    assert "Gelu" not in op_types(roundtrip(nn.GELU(), lamina.randn(2, 3), opset_version=17))


def test_functional_activations_between_modules_are_recorded_as_ops():
    import lamina.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return F.softmax(F.gelu(self.fc(x)) + F.silu(x) * F.relu(x), dim=-1)

    lamina.manual_seed(0)
    roundtrip(Net(), lamina.randn(3, 4))
