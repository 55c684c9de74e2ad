"""lamina.summary: rows, nesting, shapes, parameter totals and sizes on small known models."""

from __future__ import annotations

import lamina
import pytest
from lamina import nn


class Dense(nn.Module):
    """A core-only linear layer (no plugin needed). Shape: (N, i) -> (N, o)."""

    def __init__(self, i: int, o: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(o, i))
        self.bias = nn.Parameter(lamina.zeros(o)) if bias else None

    def forward(self, x):
        y = x @ self.weight.t()
        return y + self.bias if self.bias is not None else y


class Act(nn.Module):
    def forward(self, x):
        return x.relu()


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(Dense(6, 5), Act(), nn.Sequential(Dense(5, 4, bias=False), Act()))
        self.head = Dense(4, 3)
        self.register_buffer("scale", lamina.ones(3))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def rows(s):
    return [(r.name, r.type, r.depth, r.output_shape, r.num_params) for r in s.rows]


def test_rows_shapes_and_counts():
    lamina.manual_seed(0)
    model = Net()
    s = lamina.summary(model, input_size=(2, 6), verbose=0)
    assert rows(s) == [
        ("", "Net", 0, [2, 3], 5 * 6 + 5 + 4 * 5 + 3 * 4 + 3),
        ("body", "Sequential", 1, [2, 4], 35 + 20),
        ("body.0", "Dense", 2, [2, 5], 35),
        ("body.1", "Act", 2, [2, 5], 0),
        ("body.2", "Sequential", 2, [2, 4], 20),
        ("body.2.0", "Dense", 3, [2, 4], 20),
        ("body.2.1", "Act", 3, [2, 4], 0),
        ("head", "Dense", 1, [2, 3], 15),
    ]
    total = sum(p.numel() for p in model.parameters())
    assert s.total_params == total == 70 and s.trainable_params == 70 and s.non_trainable_params == 0
    assert s.params_bytes == 4 * total and s.input_bytes == 2 * 6 * 4
    leaf_out = (2 * 5 + 2 * 5 + 2 * 4 + 2 * 4 + 2 * 3) * 4
    assert s.forward_backward_bytes == 2 * leaf_out
    assert s.total_bytes == s.input_bytes + s.forward_backward_bytes + s.params_bytes


def test_table_text():
    lamina.manual_seed(0)
    text = str(lamina.summary(Net(), input_size=(2, 6), verbose=0))
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type", "(var_name))", "Output", "Shape", "Param", "#"]
    body = [ln for ln in lines if "─" in ln]
    assert body[0].startswith("├─Sequential (body)") and body[0].split()[-1] == "--"  # shown children hold them
    assert body[1].startswith("│    ├─Dense (0)") and body[1].endswith("35")
    assert body[4].startswith("│    │    ├─Dense (0)") and body[4].endswith("20")
    assert body[-1].startswith("├─Dense (head)") and "[2, 3]" in body[-1]
    for line in ("Total params: 70", "Trainable params: 70", "Non-trainable params: 0",
                 "Params size (MB): 0.00", "Estimated Total Size (MB): 0.00"):
        assert line in lines


def test_depth_folds_subtrees_into_their_row():
    lamina.manual_seed(0)
    s = lamina.summary(Net(), input_size=(2, 6), depth=1, verbose=0)
    body = [ln for ln in str(s).splitlines() if "─" in ln]
    assert len(body) == 2
    assert body[0].startswith("├─Sequential (body)") and body[0].endswith("55")
    assert s.total_params == 70


def test_non_trainable_shared_and_repeated():
    lamina.manual_seed(0)
    shared = Dense(3, 3)
    model = nn.Sequential(shared, Act(), shared)
    model[0].bias.requires_grad_(False)
    s = lamina.summary(model, input_size=(4, 3), verbose=0)
    assert s.total_params == 12 and s.trainable_params == 9 and s.non_trainable_params == 3
    assert [r.repeated for r in s.rows] == [False, False, False, True]
    body = [ln for ln in str(s).splitlines() if "─" in ln]
    assert body[0].endswith("12") and body[2].startswith("├─Dense (0)") and body[2].endswith("(recursive)")
    assert "Non-trainable params: 3" in str(s)


def test_leaves_model_and_rng_alone():
    lamina.manual_seed(0)
    model = Net()
    model.body.train()
    model.head.eval()
    lamina.manual_seed(5)
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    lamina.summary(model, input_size=(2, 6), verbose=0)
    assert model.training and model.body.training and not model.head.training
    drawn = lamina.rand(4).numpy()
    lamina.manual_seed(5)
    assert (drawn == lamina.rand(4).numpy()).all()  # the global RNG was not advanced
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all((v.numpy() == weights[k]).all() for k, v in model.state_dict().items())


def test_input_data_multiple_inputs_and_dtypes():
    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = Dense(2, 3), Dense(4, 3)

        def forward(self, x, idx):
            return self.a(x) + self.b(lamina.ones(idx.shape[0], 4)) + idx.float().unsqueeze(1)

    s = lamina.summary(Two(), input_size=[(5, 2), (5,)], dtypes=[lamina.float32, lamina.int64], verbose=0)
    assert s.rows[0].input_shape == [[5, 2], [5]] and s.rows[0].output_shape == [5, 3]
    assert s.input_bytes == 5 * 2 * 4 + 5 * 8
    s2 = lamina.summary(Two(), input_data=[lamina.zeros(7, 2), lamina.zeros(7, dtype=lamina.int64)], verbose=0)
    assert s2.rows[0].output_shape == [7, 3]
    s3 = lamina.summary(Dense(2, 3), input_size=(2,), batch_dim=0, verbose=0)
    assert s3.rows[0].output_shape == [1, 3]


def test_verbose_prints(capsys):
    s = lamina.summary(Dense(2, 3), input_size=(1, 2))
    assert capsys.readouterr().out.strip() == str(s)


def test_columns():
    s = lamina.summary(Net(), input_size=(2, 6), col_names=("input_size", "output_size", "num_params", "trainable"),
                       verbose=0)
    header = str(s).splitlines()[1]
    assert "Input Shape" in header and "Trainable" in header
    assert "[2, 6]" in str(s).splitlines()[3]


@pytest.mark.parametrize("kwargs,match", [
    ({}, r"summary: expected input_size or input_data, got neither"),
    ({"input_size": (2, 6), "col_names": ("flops",)}, r"summary: col_names must be among .* got 'flops'"),
    ({"input_size": [(2, 6)], "dtypes": [lamina.float32, lamina.float32]},
     r"summary: expected one dtype per input, got 2 dtypes for 1 inputs"),
    ({"input_size": (2, -6)}, r"summary: expected input_size of non-negative ints, got \(2, -6\)"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lamina.summary(Net(), verbose=0, **kwargs)


def test_tutorial_convnet():
    pytest.importorskip("lamina_layers_basic", reason="needs lamina-layers-basic (Conv2d, MaxPool2d, Linear)")
    lamina.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    s = lamina.summary(model, input_size=(16, 1, 28, 28), verbose=0)
    assert [r.output_shape for r in s.rows[1:]] == [[16, 32, 28, 28], [16, 32, 28, 28], [16, 32, 14, 14],
                                                    [16, 64, 14, 14], [16, 64, 14, 14], [16, 64, 7, 7],
                                                    [16, 3136], [16, 128], [16, 128], [16, 10]]
    assert [r.num_params for r in s.rows[1:]] == [320, 0, 0, 18496, 0, 0, 0, 401536, 0, 1290]
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 421642
    assert "Total params: 421,642" in str(s)
