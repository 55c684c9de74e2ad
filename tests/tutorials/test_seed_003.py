"""Seed 003 (深度学习之pytorch 中 torch.nn介绍) on lamina.

Its four code examples (section 8: nn.Conv2d vs F.conv2d, nn.Linear vs F.linear) verbatim, and
every signature it lists (sections 2-7) called as written, compared with PyTorch.
"""

from __future__ import annotations

import lamina as torch
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _seed_support import assert_close, copy_weights, numpy_of, on_torch, real_torch, torch_from


# --- 8.1 nn.Conv2d vs F.conv2d -------------------------------------------------------------------
def snippet_conv_module():
    # 创建一个二维卷积层
    conv_layer = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1)
    # 定义输入数据
    input_data = torch.randn(1, 3, 32, 32)  # (batch_size, channels, height, width)
    # 通过卷积层进行前向传播
    output = conv_layer(input_data)
    print(output.shape)  # 输出结果的形状
    return conv_layer, input_data, output


def snippet_conv_functional():
    # 定义输入数据
    input_data = torch.randn(1, 3, 32, 32)  # (batch_size, channels, height, width)
    # 定义卷积核
    weight = torch.randn(16, 3, 3, 3)  # (out_channels, in_channels, kernel_height, kernel_width)
    # 执行二维卷积操作
    output = F.conv2d(input_data, weight, bias=None, stride=1, padding=1)
    print(output.shape)  # 输出结果的形状
    return input_data, weight, output


def test_conv_module_and_functional_give_the_same_shape_and_values(capsys):
    layer, x, out = snippet_conv_module()
    _, _, out_f = snippet_conv_functional()
    assert capsys.readouterr().out == "lamina.Size([1, 16, 32, 32])\n" * 2
    # the module is the function with its own parameters
    assert_close(out, F.conv2d(x, layer.weight, layer.bias, stride=1, padding=1), 0, 0)
    t = real_torch()
    tlayer, _, _ = on_torch(snippet_conv_module)()
    copy_weights(layer, tlayer)
    assert_close(out, tlayer(torch_from(x)), scaled=True)
    x2, w2, _ = snippet_conv_functional()
    assert_close(F.conv2d(x2, w2, bias=None, stride=1, padding=1),
                 t.nn.functional.conv2d(torch_from(x2), torch_from(w2), bias=None, stride=1, padding=1), scaled=True)


# --- 8.2 nn.Linear vs F.linear ---------------------------------------------------------------------
def snippet_linear_module():
    # 创建一个线性变换模块
    linear_module = nn.Linear(in_features=5, out_features=3)
    # 构造输入张量
    input_data = torch.randn(2, 5)  # 2个样本,每个样本5个特征
    # 应用线性变换
    output = linear_module(input_data)
    return linear_module, input_data, output


def snippet_linear_functional():
    # 构造输入张量和权重
    input_data = torch.randn(2, 5)  # 2个样本,每个样本5个特征
    weight = torch.randn(3, 5)      # 权重矩阵
    # 应用线性变换
    output = F.linear(input_data, weight)
    return input_data, weight, output


def test_linear_module_and_functional_match_pytorch():
    t = real_torch()
    layer, x, out = snippet_linear_module()
    assert tuple(out.shape) == (2, 3)
    tlayer, _, _ = on_torch(snippet_linear_module)()
    copy_weights(layer, tlayer)
    assert_close(out, tlayer(torch_from(x)))
    x2, w2, out2 = snippet_linear_functional()
    assert_close(out2, t.nn.functional.linear(torch_from(x2), torch_from(w2)))
    assert_close(out2, x2 @ w2.T, 0, 0)


# --- sections 2-7: every listed signature, as written --------------------------------------------------
def snippet_listed_layer(name):
    """Sections 2-3 (layers) and 3 (activations), constructed with the documented signatures."""
    listed = {
        "Linear": lambda: torch.nn.Linear(6, 4, bias=True),
        "Bilinear": lambda: torch.nn.Bilinear(6, 3, 4, bias=True),
        "Conv1d": lambda: torch.nn.Conv1d(2, 4, 3, stride=1, padding=0, dilation=1, groups=1, bias=True),
        "Conv2d": lambda: torch.nn.Conv2d(2, 4, 3, stride=1, padding=0, dilation=1, groups=1, bias=True),
        "Conv3d": lambda: torch.nn.Conv3d(2, 4, 3, stride=1, padding=0, dilation=1, groups=1, bias=True),
        "MaxPool1d": lambda: torch.nn.MaxPool1d(2, stride=None, padding=0, dilation=1, return_indices=False,
                                                ceil_mode=False),
        "MaxPool2d": lambda: torch.nn.MaxPool2d(2, stride=None, padding=0, dilation=1, return_indices=False,
                                                ceil_mode=False),
        "MaxPool3d": lambda: torch.nn.MaxPool3d(2, stride=None, padding=0, dilation=1, return_indices=False,
                                                ceil_mode=False),
        "AvgPool1d": lambda: torch.nn.AvgPool1d(2, stride=None, padding=0, ceil_mode=False, count_include_pad=True),
        "AvgPool2d": lambda: torch.nn.AvgPool2d(2, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                                                divisor_override=None),
        "AvgPool3d": lambda: torch.nn.AvgPool3d(2, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                                                divisor_override=None),
        "ReLU": lambda: torch.nn.ReLU(),
        "ReLU6": lambda: torch.nn.ReLU6(),
        "ELU": lambda: torch.nn.ELU(),
        "Sigmoid": lambda: torch.nn.Sigmoid(),
        "Tanh": lambda: torch.nn.Tanh(),
        "Softmax": lambda: torch.nn.Softmax(dim=1),
    }
    return listed[name]()


LAYER_INPUTS = {"Linear": [(3, 6)], "Bilinear": [(3, 6), (3, 3)], "Conv1d": [(2, 2, 9)], "Conv2d": [(2, 2, 7, 6)],
                "Conv3d": [(2, 2, 5, 6, 5)], "MaxPool1d": [(2, 3, 9)], "MaxPool2d": [(2, 3, 7, 6)],
                "MaxPool3d": [(2, 3, 4, 5, 4)], "AvgPool1d": [(2, 3, 9)], "AvgPool2d": [(2, 3, 7, 6)],
                "AvgPool3d": [(2, 3, 4, 5, 4)], "ReLU": [(4, 5)], "ReLU6": [(4, 5)], "ELU": [(4, 5)],
                "Sigmoid": [(4, 5)], "Tanh": [(4, 5)], "Softmax": [(4, 5)]}


@pytest.mark.parametrize("name", list(LAYER_INPUTS))
def test_listed_layers_and_activations_match_pytorch(name):
    ours, theirs = snippet_listed_layer(name), on_torch(snippet_listed_layer)(name)
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    xs = [torch.randn(*s, requires_grad=True) * 4 for s in LAYER_INPUTS[name]]
    for x in xs:
        x.retain_grad()
    txs = [torch_from(x).requires_grad_(True) for x in xs]
    out, ref = ours(*xs), theirs(*txs)
    assert_close(out, ref, scaled=True)
    out.pow(2).sum().backward()
    ref.pow(2).sum().backward()
    for x, tx in zip(xs, txs):
        assert_close(x.grad, tx.grad, scaled=True)
    for (pname, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, what=pname, scaled=True)


def snippet_listed_loss(name):
    """Section 4: the loss modules, default arguments."""
    return getattr(torch.nn, name)()


LOSS_INPUTS = {  # (input maker, target maker) in NumPy
    "MSELoss": (lambda r: r.standard_normal((4, 3)), lambda r: r.standard_normal((4, 3))),
    "L1Loss": (lambda r: r.standard_normal((4, 3)), lambda r: r.standard_normal((4, 3))),
    "CrossEntropyLoss": (lambda r: r.standard_normal((4, 5)), lambda r: r.integers(0, 5, 4)),
    "NLLLoss": (lambda r: np.log(r.dirichlet(np.ones(5), 4)), lambda r: r.integers(0, 5, 4)),
    "BCELoss": (lambda r: r.uniform(0.05, 0.95, (4, 3)), lambda r: r.integers(0, 2, (4, 3)).astype(float)),
    "BCEWithLogitsLoss": (lambda r: r.standard_normal((4, 3)), lambda r: r.integers(0, 2, (4, 3)).astype(float)),
}


@pytest.mark.parametrize("name", list(LOSS_INPUTS))
def test_listed_losses_match_pytorch(name):
    rng = np.random.default_rng(1)
    make_x, make_y = LOSS_INPUTS[name]
    x_np, y_np = make_x(rng).astype(np.float32), make_y(rng)
    if y_np.dtype.kind == "f":
        y_np = y_np.astype(np.float32)
    x = torch.tensor(x_np, requires_grad=True)
    tx = torch_from(x).requires_grad_(True)
    out = snippet_listed_loss(name)(x, torch.tensor(y_np))
    ref = on_torch(snippet_listed_loss)(name)(tx, real_torch().from_numpy(y_np))
    assert_close(out, ref)
    out.backward()
    ref.backward()
    assert_close(x.grad, tx.grad)


def snippet_listed_optimizer(name, params):
    """Section 5: the optimizers, default hyper-parameters (SGD needs lr)."""
    if name == "SGD":
        return torch.optim.SGD(params, lr=0.1)
    return getattr(torch.optim, name)(params)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop", "Adadelta", "Adamax"])
def test_listed_optimizers_default_steps_match_pytorch(name):
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    tw = torch_from(w).requires_grad_(True)
    opt, ref_opt = snippet_listed_optimizer(name, [w]), on_torch(snippet_listed_optimizer)(name, [tw])
    target = torch.randn(4, 3, dtype=torch.float64)
    for _ in range(5):
        opt.zero_grad()
        ref_opt.zero_grad()
        (w - target).pow(2).sum().backward()
        (tw - torch_from(target)).pow(2).sum().backward()
        opt.step()
        ref_opt.step()
    assert_close(w, tw, rtol=1e-12, atol=1e-12)
    assert opt.defaults["lr"] == ref_opt.defaults["lr"]


INITS = {  # section 6, with arguments as the article lists them (defaults otherwise)
    "uniform_": {}, "normal_": {}, "constant_": {"val": 0.3}, "eye_": {}, "xavier_uniform_": {},
    "xavier_normal_": {}, "kaiming_uniform_": {}, "kaiming_normal_": {},
}


@pytest.mark.parametrize("name", list(INITS))
def test_listed_init_functions_fill_in_place_with_pytorchs_distribution(name):
    t = real_torch()
    w = torch.empty(300, 200)
    before = w
    out = getattr(torch.nn.init, name)(w, **INITS[name])
    assert out is before and not w.requires_grad
    ref = getattr(t.nn.init, name)(t.empty(300, 200), **INITS[name])
    a, b = numpy_of(w), numpy_of(ref)
    if name in ("constant_", "eye_"):
        np.testing.assert_array_equal(a, b)
    else:  # same distribution: two-sample Kolmogorov-Smirnov test on 60000 draws each (fixed seeds)
        stats = pytest.importorskip("scipy.stats")
        assert stats.ks_2samp(a.ravel(), b.ravel()).pvalue > 1e-3
        assert abs(a.std() / b.std() - 1) < 0.02


def snippet_listed_functional():
    """Section 7: the functional tools."""
    x = torch.randn(2, 3, 8, 8)
    w = torch.randn(4, 3, 3, 3)
    y = F.conv2d(x, w)
    y = F.relu(y)
    y = F.max_pool2d(y, 2)
    flat = y.reshape(2, -1)
    logits = F.linear(flat, torch.randn(5, flat.shape[1]))
    logits = F.dropout(logits, p=0.5, training=False)
    probs = F.softmax(logits, dim=1)
    ce = F.cross_entropy(logits, torch.tensor([1, 4]))
    mse = F.mse_loss(probs, torch.zeros(2, 5))
    return x, w, probs, ce, mse


def test_listed_functional_tools_compose_like_pytorch():
    t = real_torch()
    x, w, probs, ce, mse = snippet_listed_functional()
    assert tuple(probs.shape) == (2, 5)
    np.testing.assert_allclose(numpy_of(probs.sum(1)), np.ones(2), rtol=1e-6)
    assert ce.ndim == 0 and mse.ndim == 0
    tF = t.nn.functional
    y = tF.max_pool2d(tF.relu(tF.conv2d(torch_from(x), torch_from(w))), 2)
    assert_close(F.max_pool2d(F.relu(F.conv2d(x, w)), 2), y, scaled=True)
    p = F.dropout(x, p=0.5, training=True)
    kept = numpy_of(p) != 0
    np.testing.assert_allclose(numpy_of(p)[kept], 2 * numpy_of(x)[kept], rtol=1e-6)
