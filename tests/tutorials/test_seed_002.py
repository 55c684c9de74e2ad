# ruff: noqa: UP008  (the tutorial's super(Class, self) calls are kept verbatim)
"""Seed 002 (小土堆教你快速掌握 nn.Module) on lamina: its two examples and the modules it lists."""

from __future__ import annotations

import re

import lamina as torch
import pytest
from _seed_support import assert_close, assert_same_grads, check_twin, copy_weights, n_params, on_torch, torch_from
from lamina import nn


def snippet_simple_model():
    class SimpleModel(nn.Module):
        def __init__(self):
            super(SimpleModel, self).__init__()
            self.fc = nn.Linear(10, 1)  # 定义一个全连接层,输入维度为10,输出维度为1

        def forward(self, x):
            return self.fc(x)  # 前向传播,直接返回全连接层的输出

    # 创建模型实例
    model = SimpleModel()
    # 随机生成输入数据
    input_data = torch.randn(1, 10)
    # 调用模型进行前向传播
    output = model(input_data)
    print(output)
    return model, output


def test_simple_model_prints_a_1x1_output_with_grad_fn(capsys):
    model, output = snippet_simple_model()
    assert tuple(output.shape) == (1, 1)
    printed = capsys.readouterr().out
    on_torch(snippet_simple_model)()
    theirs = capsys.readouterr().out
    # values differ (independent random weights); the layout does not: tensor([[v]], grad_fn=<...>)
    # (the grad_fn names differ: lamina's fused Linear Function vs PyTorch's AddmmBackward0)
    layout = re.compile(r"tensor\(\[\[-?\d\.\d{4}\]\], grad_fn=<\w+>\)\n")
    assert layout.fullmatch(printed) and layout.fullmatch(theirs), (printed, theirs)


def test_simple_model_matches_pytorch():
    ours = snippet_simple_model()[0]
    theirs = on_torch(snippet_simple_model)()[0]
    assert repr(ours) == repr(theirs) and n_params(ours) == n_params(theirs) == 11


def snippet_simple_cnn():
    class SimpleCNN(nn.Module):
        def __init__(self):
            super(SimpleCNN, self).__init__()
            self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=1, padding=1)  # 第一个卷积层
            self.relu1 = nn.ReLU()
            self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)  # 最大池化层
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1)  # 第二个卷积层
            self.relu2 = nn.ReLU()
            self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
            self.fc1 = nn.Linear(64 * 8 * 8, 128)  # 全连接层
            self.fc2 = nn.Linear(128, 10)  # 输出层

        def forward(self, x):
            x = self.conv1(x)
            x = self.relu1(x)
            x = self.pool1(x)
            x = self.conv2(x)
            x = self.relu2(x)
            x = self.pool2(x)
            x = x.view(x.size(0), -1)  # 展平处理
            x = self.fc1(x)
            x = self.fc2(x)
            return x

    # 创建模型实例
    model = SimpleCNN()
    return model


def test_simple_cnn_matches_pytorch(capsys):
    # 随机生成输入数据
    model, _, output, _ = check_twin(snippet_simple_cnn, lambda: (torch.randn(1, 3, 32, 32, requires_grad=True),))
    print(output)
    assert tuple(output.shape) == (1, 10)
    assert n_params(model) == 32 * 27 + 32 + 64 * 288 + 64 + 4096 * 128 + 128 + 1290
    assert re.search(r"\]\], grad_fn=<\w+>\)\n$", capsys.readouterr().out)


SHAPES = {"Linear": (3, 6), "Conv2d": (2, 2, 7, 7), "LSTM": (4, 2, 6), "ReLU": (3, 6), "Sigmoid": (3, 6),
          "Tanh": (3, 6), "MaxPool2d": (2, 3, 6, 6), "AvgPool2d": (2, 3, 6, 6), "Sequential": (3, 6),
          "ModuleList": (3, 6), "ModuleDict": (3, 6), "MultiheadAttention": (5, 2, 8),
          "TransformerEncoder": (5, 2, 8)}


def snippet_listed(name):
    """The article's list of commonly used nn.Module subclasses, each built small."""
    listed = {
        "Linear": lambda: nn.Linear(6, 4),
        "Conv2d": lambda: nn.Conv2d(2, 4, 3),
        "LSTM": lambda: nn.LSTM(6, 5),
        "ReLU": lambda: nn.ReLU(),
        "Sigmoid": lambda: nn.Sigmoid(),
        "Tanh": lambda: nn.Tanh(),
        "MaxPool2d": lambda: nn.MaxPool2d(2),
        "AvgPool2d": lambda: nn.AvgPool2d(2),
        "Sequential": lambda: nn.Sequential(nn.Linear(6, 4), nn.Tanh()),
        "ModuleList": lambda: nn.ModuleList([nn.Linear(6, 6), nn.Linear(6, 2)]),
        "ModuleDict": lambda: nn.ModuleDict({"a": nn.Linear(6, 6), "b": nn.Linear(6, 2)}),
        "MultiheadAttention": lambda: nn.MultiheadAttention(8, 2),
        "TransformerEncoder": lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), num_layers=2,
            enable_nested_tensor=False),
    }
    return listed[name]()


def _run(module, x):
    kind = type(module).__name__
    if kind in ("ModuleList", "ModuleDict"):
        for layer in (module if kind == "ModuleList" else module.values()):
            x = layer(x)
        return x
    if kind == "MultiheadAttention":
        return module(x, x, x)[0]
    if kind == "LSTM":
        return module(x)[0]
    return module(x)


@pytest.mark.parametrize("name", list(SHAPES))
def test_listed_modules_match_pytorch(name):
    shape = SHAPES[name]
    ours, theirs = snippet_listed(name), on_torch(snippet_listed)(name)
    assert repr(ours) == repr(theirs)
    assert n_params(ours) == n_params(theirs)
    copy_weights(ours, theirs)
    x = torch.randn(*shape, requires_grad=True)
    tx = torch_from(x).requires_grad_(True)
    out, ref = _run(ours, x), _run(theirs, tx)
    assert_close(out, ref, scaled=True)
    out.pow(2).sum().backward()
    ref.pow(2).sum().backward()
    assert_close(x.grad, tx.grad, scaled=True)
    assert_same_grads(ours, theirs)
