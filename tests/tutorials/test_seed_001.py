# ruff: noqa: UP008  (the tutorial's super(Class, self) calls are kept verbatim)
"""Seed 001 (小土堆 PyTorch course notes, P15-P25) on lamina.

The notes name a demo script per lesson (p15_nn_module.py ... p23_nn_optim.py) and describe the
API and parameters it uses, but print no code. Each lesson is therefore a snippet written from that
description, using exactly the calls and parameters the notes list; each is checked against
PyTorch. P24 (torchvision.models.vgg16) is out of scope: a VGG-style model built from nn layers
takes its place, modified the same ways (add_module, replacing classifier[6]).
"""

from __future__ import annotations

import sys

import lamina as torch
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _seed_support import (
    as_lamina_text,
    assert_close,
    assert_same_grads,
    check_twin,
    copy_weights,
    n_params,
    numpy_of,
    on_torch,
    real_torch,
    torch_from,
)
from lamina.utils.data import DataLoader, TensorDataset


# --- P15 nn.Module: input -> forward -> output -------------------------------------------------
def snippet_p15_module():
    class Tudui(nn.Module):
        def __init__(self):
            super().__init__()

        def forward(self, input):
            output = input + 1
            return output

    tudui = Tudui()
    x = torch.tensor(1.0)
    output = tudui(x)
    print(output)
    return output


def test_p15_forward_is_called_by_the_module(capsys):
    assert snippet_p15_module().item() == 2.0
    ours = capsys.readouterr().out
    on_torch(snippet_p15_module)()
    assert ours == capsys.readouterr().out == "tensor(2.)\n"


# --- P16 F.conv2d: stride, padding, dilation, groups ------------------------------------------
def snippet_p16_conv():
    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]])
    kernel = torch.tensor([[1, 2, 1],
                           [0, 1, 0],
                           [2, 1, 0]])
    input = torch.reshape(input, (1, 1, 5, 5))
    kernel = torch.reshape(kernel, (1, 1, 3, 3))
    output = F.conv2d(input, kernel, stride=1)
    print(output)
    output2 = F.conv2d(input, kernel, stride=2)
    print(output2)
    output3 = F.conv2d(input, kernel, stride=1, padding=1)
    print(output3)
    return output, output2, output3


def test_p16_integer_conv2d_values_and_prints(capsys):
    out1, out2, out3 = snippet_p16_conv()
    np.testing.assert_array_equal(numpy_of(out1)[0, 0], [[10, 12, 12], [18, 16, 16], [13, 9, 3]])
    np.testing.assert_array_equal(numpy_of(out2)[0, 0], [[10, 12], [13, 3]])
    assert tuple(out3.shape) == (1, 1, 5, 5)
    ours = capsys.readouterr().out
    refs = on_torch(snippet_p16_conv)()
    assert ours == capsys.readouterr().out
    for a, b in zip((out1, out2, out3), refs):
        np.testing.assert_array_equal(numpy_of(a), numpy_of(b))
        assert str(a.dtype).replace("lamina", "torch") == str(b.dtype)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(dilation=2), dict(groups=2, padding=1),
                                dict(padding="same", dilation=(1, 2))], ids=str)
def test_p16_conv2d_parameters_match_pytorch(kw):
    t = real_torch()
    x = torch.randn(2, 4, 9, 9, requires_grad=True)
    w = torch.randn(6, 4 // kw.get("groups", 1), 3, 3, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    tx, tw, tb = (torch_from(v).requires_grad_(True) for v in (x, w, b))
    out, ref = F.conv2d(x, w, b, **kw), t.nn.functional.conv2d(tx, tw, tb, **kw)
    assert_close(out, ref)
    out.pow(2).sum().backward()
    ref.pow(2).sum().backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        assert_close(ours.grad, theirs.grad, rtol=1e-4, atol=1e-4)


# --- P17 nn.Conv2d ------------------------------------------------------------------------------
def snippet_p17_conv2d():
    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

        def forward(self, x):
            x = self.conv1(x)
            return x

    return Tudui()


def test_p17_conv2d_on_a_cifar_batch():
    tudui, _, output, _ = check_twin(snippet_p17_conv2d, lambda: (torch.randn(16, 3, 32, 32),))
    assert tuple(output.shape) == (16, 6, 30, 30)
    # the lesson reshapes the 6-channel output to 3 channels to show it as images
    assert tuple(torch.reshape(output, (-1, 3, 30, 30)).shape) == (32, 3, 30, 30)


def snippet_p17_conv2d_options(padding_mode, dilation, groups, bias):
    return nn.Conv2d(4, 8, kernel_size=3, stride=2, padding=2, padding_mode=padding_mode, dilation=dilation,
                     groups=groups, bias=bias)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dilation, groups, bias", [(1, 1, True), (2, 4, False)])
def test_p17_conv2d_options_match_pytorch(padding_mode, dilation, groups, bias):
    check_twin(snippet_p17_conv2d_options, lambda: (torch.randn(2, 4, 11, 10, requires_grad=True),),
               args=(padding_mode, dilation, groups, bias))


# --- P18 nn.MaxPool2d ---------------------------------------------------------------------------
def snippet_p18_maxpool(ceil_mode):
    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]], dtype=torch.float32)
    input = torch.reshape(input, (-1, 1, 5, 5))

    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.maxpool1 = nn.MaxPool2d(kernel_size=3, ceil_mode=ceil_mode)

        def forward(self, input):
            output = self.maxpool1(input)
            return output

    tudui = Tudui()
    output = tudui(input)
    print(output)
    return output


@pytest.mark.parametrize("ceil_mode, expected", [(True, [[2, 3], [5, 1]]), (False, [[2]])])
def test_p18_maxpool_ceil_mode(ceil_mode, expected, capsys):
    output = snippet_p18_maxpool(ceil_mode)
    np.testing.assert_array_equal(numpy_of(output)[0, 0], expected)
    ours = capsys.readouterr().out
    on_torch(snippet_p18_maxpool)(ceil_mode)
    assert ours == capsys.readouterr().out


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1, dilation=1, return_indices=True),
                                dict(kernel_size=2, dilation=2, return_indices=True, ceil_mode=True),
                                dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), return_indices=True)],
                         ids=str)
def test_p18_maxpool_parameters_match_pytorch(kw):
    t = real_torch()
    x = torch.randn(2, 3, 9, 8, requires_grad=True)
    tx = torch_from(x).requires_grad_(True)
    (out, idx), (ref, ridx) = nn.MaxPool2d(**kw)(x), t.nn.MaxPool2d(**kw)(tx)
    assert repr(nn.MaxPool2d(**kw)) == repr(t.nn.MaxPool2d(**kw))
    assert_close(out, ref, 0, 0)
    np.testing.assert_array_equal(numpy_of(idx), numpy_of(ridx))
    out.sum().backward()
    ref.sum().backward()
    assert_close(x.grad, tx.grad, 0, 0)


# --- P19 non-linear activations -------------------------------------------------------------------
def snippet_p19_relu():
    input = torch.tensor([[1, -0.5],
                          [-1, 3]])
    input = torch.reshape(input, (-1, 1, 2, 2))
    print(input.shape)

    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.relu1 = nn.ReLU()
            self.sigmoid1 = nn.Sigmoid()

        def forward(self, input):
            output = self.relu1(input)
            return output, self.sigmoid1(input)

    tudui = Tudui()
    output, sig = tudui(input)
    print(output)
    print(sig)
    inplace = nn.ReLU(inplace=True)
    x = torch.tensor([-1.0, 2.0])
    y = inplace(x)
    return output, x, y, inplace


def test_p19_relu_sigmoid_and_inplace(capsys):
    output, x, y, inplace = snippet_p19_relu()
    np.testing.assert_array_equal(numpy_of(output)[0, 0], [[1, 0], [0, 3]])
    np.testing.assert_array_equal(numpy_of(x), [0.0, 2.0])  # inplace=True changed the input itself
    assert y is x
    assert repr(inplace) == "ReLU(inplace=True)"
    ours = capsys.readouterr().out
    on_torch(snippet_p19_relu)()
    assert ours == as_lamina_text(capsys.readouterr().out)


# --- P20 linear layer and torch.flatten ---------------------------------------------------------
def snippet_p20_linear():
    imgs = torch.randn(4, 3, 32, 32)  # one CIFAR10 batch (the lesson uses 64: 196608 inputs)
    output = torch.flatten(imgs)
    print(output.shape)

    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.linear1 = nn.Linear(12288, 10)

        def forward(self, input):
            output = self.linear1(input)
            return output

    tudui = Tudui()
    return tudui(output), torch.flatten(imgs, start_dim=1), torch.flatten(imgs, 1, 2), torch.flatten(imgs, 0, -2)


def test_p20_flatten_dims_and_linear(capsys):
    out, f1, f12, f0 = snippet_p20_linear()
    assert tuple(out.shape) == (10,)
    assert (tuple(f1.shape), tuple(f12.shape), tuple(f0.shape)) == ((4, 3072), (4, 96, 32), (384, 32))
    assert capsys.readouterr().out == "lamina.Size([12288])\n"


LAYER_FAMILIES = {  # the lesson's table: one representative per family
    "Normalization": (lambda: nn.BatchNorm2d(3), lambda: (torch.randn(4, 3, 5, 5),)),
    "Recurrent": (lambda: nn.LSTM(6, 8), lambda: (torch.randn(5, 2, 6),)),
    "Transformer": (lambda: nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0),
                    lambda: (torch.randn(5, 2, 8),)),
    "Linear": (lambda: nn.Linear(6, 3), lambda: (torch.randn(4, 6),)),
    "Dropout": (lambda: nn.Dropout(0.2), lambda: (torch.randn(4, 6),)),
    "Sparse": (lambda: nn.Embedding(10, 4), lambda: (torch.tensor([[1, 2, 9], [0, 0, 3]]),)),
}


@pytest.mark.parametrize("family", list(LAYER_FAMILIES))
def test_p20_layer_family_table_matches_pytorch(family):
    build, inputs = LAYER_FAMILIES[family]
    ours, theirs = build(), on_torch(build)()
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    ours.train()
    theirs.train()
    xs = inputs()
    out, ref = ours(*xs), theirs(*(torch_from(x) for x in xs))
    if family == "Recurrent":
        out, ref = out[0], ref[0]
    if family == "Dropout":
        kept = numpy_of(out) != 0
        np.testing.assert_allclose(numpy_of(out)[kept], numpy_of(xs[0])[kept] / 0.8, rtol=1e-6)
        return
    assert_close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    assert_same_grads(ours, theirs)


# --- P21 the CIFAR10 model with nn.Sequential -------------------------------------------------------
def snippet_p21_sequential():
    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.model1 = nn.Sequential(
                nn.Conv2d(3, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(1024, 64),
                nn.Linear(64, 10)
            )

        def forward(self, x):
            x = self.model1(x)
            return x

    tudui = Tudui()
    return tudui


def test_p21_cifar10_model_matches_pytorch():
    tudui, _, output, _ = check_twin(snippet_p21_sequential, lambda: (torch.ones((64, 3, 32, 32)),))
    assert tuple(output.shape) == (64, 10)
    assert n_params(tudui) == 145578


# --- P22 losses and backward ---------------------------------------------------------------------------
def snippet_p22_losses():
    inputs = torch.tensor([1, 2, 3], dtype=torch.float32)
    targets = torch.tensor([1, 2, 5], dtype=torch.float32)
    inputs = torch.reshape(inputs, (1, 1, 1, 3))
    targets = torch.reshape(targets, (1, 1, 1, 3))
    loss = nn.L1Loss(reduction='sum')
    result = loss(inputs, targets)
    loss_mse = nn.MSELoss()
    result_mse = loss_mse(inputs, targets)
    print(result)
    print(result_mse)

    x = torch.tensor([0.1, 0.2, 0.3])
    y = torch.tensor([1])
    x = torch.reshape(x, (1, 3))
    loss_cross = nn.CrossEntropyLoss()
    result_cross = loss_cross(x, y)
    print(result_cross)
    return result, result_mse, result_cross


def test_p22_loss_values_and_prints(capsys):
    l1, mse, ce = snippet_p22_losses()
    assert l1.item() == 2.0
    assert abs(mse.item() - 4 / 3) < 1e-6
    assert abs(ce.item() - 1.1019428) < 1e-6
    ours = capsys.readouterr().out
    on_torch(snippet_p22_losses)()
    assert ours == capsys.readouterr().out


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("kw", [{}, {"weight": [0.2, 1.0, 3.0, 0.5]}, {"ignore_index": 2},
                                {"weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 0}], ids=str)
def test_p22_cross_entropy_options_match_pytorch(reduction, kw):
    t = real_torch()
    logits = torch.randn(6, 4, requires_grad=True)
    target = torch.tensor([0, 2, 1, 3, 2, 0])
    tl = torch_from(logits).requires_grad_(True)
    ours_kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
    theirs_kw = {k: t.tensor(v) if k == "weight" else v for k, v in kw.items()}
    out = nn.CrossEntropyLoss(reduction=reduction, **ours_kw)(logits, target)
    ref = t.nn.CrossEntropyLoss(reduction=reduction, **theirs_kw)(tl, torch_from(target))
    assert_close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    assert_close(logits.grad, tl.grad)
    for red in ("none", "mean", "sum"):
        l1 = nn.L1Loss(reduction=red)(logits, torch.zeros(6, 4))
        assert_close(l1, t.nn.L1Loss(reduction=red)(tl, t.zeros(6, 4)))


def test_p22_backward_fills_every_parameter_grad():
    tudui = snippet_p21_sequential()
    theirs = on_torch(snippet_p21_sequential)()
    copy_weights(tudui, theirs)
    imgs, targets = torch.randn(4, 3, 32, 32), torch.tensor([3, 1, 0, 9])
    loss = nn.CrossEntropyLoss()
    result_loss = loss(tudui(imgs), targets)
    assert all(p.grad is None for p in tudui.parameters())
    result_loss.backward()
    t = real_torch()
    t.nn.CrossEntropyLoss()(theirs(torch_from(imgs)), torch_from(targets)).backward()
    assert_same_grads(tudui, theirs)


# --- P23 optimizers --------------------------------------------------------------------------------
def test_p23_sgd_training_loop_lowers_the_loss():
    images = torch.randn(32, 3, 32, 32)
    targets = torch.randint(0, 10, (32,))
    dataloader = DataLoader(TensorDataset(images, targets), batch_size=8)
    loss = nn.CrossEntropyLoss()
    tudui = snippet_p21_sequential()
    optim = torch.optim.SGD(tudui.parameters(), lr=0.01)
    epoch_losses = []
    for _epoch in range(4):
        running_loss = 0.0
        for data in dataloader:
            imgs, targets = data
            outputs = tudui(imgs)
            result_loss = loss(outputs, targets)
            optim.zero_grad()
            result_loss.backward()
            optim.step()
            running_loss = running_loss + result_loss.item()
        print(running_loss)
        epoch_losses.append(running_loss)
    assert epoch_losses[-1] < epoch_losses[0]


OPTIMIZERS = {  # the lesson's table, with the common parameters it lists
    "SGD": dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "SGD-nesterov": dict(lr=0.01, momentum=0.9, nesterov=True),
    "Adam": dict(lr=1e-2, eps=1e-6, weight_decay=1e-3, amsgrad=True),
    "AdamW": dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
    "RMSprop": dict(lr=1e-2, momentum=0.5, eps=1e-7, weight_decay=1e-3),
    "Adagrad": dict(lr=0.1, weight_decay=1e-3, eps=1e-9),
    "Adadelta": dict(lr=1.0, eps=1e-5, weight_decay=1e-3),
    "LBFGS": dict(lr=0.5, max_iter=4),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_p23_optimizer_table_trajectories_match_pytorch(name):
    t = real_torch()
    cls_name = name.split("-")[0]
    kw = OPTIMIZERS[name]
    # float64, so that the trajectories compare tightly
    ours, theirs = nn.Linear(5, 3, dtype=torch.float64), t.nn.Linear(5, 3, dtype=t.float64)
    copy_weights(ours, theirs)
    opt = getattr(torch.optim, cls_name)(ours.parameters(), **kw)
    ref_opt = getattr(t.optim, cls_name)(theirs.parameters(), **kw)
    x, y = torch.randn(8, 5, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    tx, ty = torch_from(x), torch_from(y)

    def closure():
        opt.zero_grad()
        loss = nn.MSELoss()(ours(x), y)
        loss.backward()
        return loss

    def ref_closure():
        ref_opt.zero_grad()
        loss = t.nn.MSELoss()(theirs(tx), ty)
        loss.backward()
        return loss

    first = closure().item()
    # three steps: LBFGS near convergence amplifies round-off (1e-16 -> 1e-11 over three steps of four iterations)
    for _ in range(3):
        opt.step(closure)
        ref_opt.step(ref_closure)
    for (pname, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p, q, rtol=1e-8, atol=1e-9, what=f"{name} {pname}")
    assert closure().item() < first


# --- P24 using and modifying an existing model (torchvision.models -> a VGG-style nn model) ---------------
def snippet_p24_vgg_like():
    def vgg_like(num_classes=1000):
        model = nn.Module()
        model.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2))
        model.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        model.classifier = nn.Sequential(
            nn.Linear(8 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(64, num_classes))
        return model

    vgg16_true = vgg_like()
    vgg16_false = vgg_like()
    vgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10))
    print(vgg16_true)
    print(vgg16_false)
    vgg16_false.classifier[6] = nn.Linear(64, 10)
    print(vgg16_false)
    return vgg16_true, vgg16_false


def test_p24_add_module_and_replace_a_layer(capsys):
    vgg16_true, vgg16_false = snippet_p24_vgg_like()
    ours = capsys.readouterr().out
    theirs_true, theirs_false = on_torch(snippet_p24_vgg_like)()
    assert ours == capsys.readouterr().out
    assert list(vgg16_true.classifier._modules)[-1] == "add_linear"
    assert vgg16_false.classifier[6].out_features == 10
    assert n_params(vgg16_true) == n_params(theirs_true) and n_params(vgg16_false) == n_params(theirs_false)
    x = torch.randn(2, 3, 28, 28)
    for model in (vgg16_true, vgg16_false):
        model.eval()
        y = model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
        assert tuple(y.shape) == (2, 10)


# --- P25 saving and loading ------------------------------------------------------------------------
def test_p25_save_methods(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    vgg16, _ = snippet_p24_vgg_like()
    vgg16.eval()
    x = torch.randn(1, 8 * 7 * 7)
    expected = numpy_of(vgg16.classifier(x))
    # 保存方式 1: structure + parameters (a pickle: opt-in in lamina, warns on both sides)
    with pytest.warns(torch.serialization.PickleWarning):
        torch.save(vgg16, "vgg16_method1.pth", pickle=True)
    with pytest.warns(torch.serialization.PickleWarning):
        model = torch.load("vgg16_method1.pth", weights_only=False)
    np.testing.assert_array_equal(numpy_of(model.classifier(x)), expected)
    # without weights_only=False the safe loader refuses the pickle instead of running it
    with pytest.raises(torch.CheckpointError, match="vgg16_method1.pth"):
        torch.load("vgg16_method1.pth")

    # 保存方式 2: parameters only (recommended)
    torch.save(vgg16.state_dict(), "vgg16_method2.pth")
    vgg16_new, _ = snippet_p24_vgg_like()
    vgg16_new.load_state_dict(torch.load("vgg16_method2.pth"))
    vgg16_new.eval()
    np.testing.assert_array_equal(numpy_of(vgg16_new.classifier(x)), expected)


def test_p25_method1_needs_the_class_definition(tmp_path):
    """The lesson's trap: loading a whole pickled model needs its class importable."""
    model = snippet_p17_conv2d()
    type(model).__qualname__ = "Tudui"
    sys.modules[__name__].Tudui = type(model)
    try:
        with pytest.warns(torch.serialization.PickleWarning):
            torch.save(model, tmp_path / "tudui_method1.pth", pickle=True)
    finally:
        delattr(sys.modules[__name__], "Tudui")
    with pytest.warns(torch.serialization.PickleWarning), pytest.raises(AttributeError, match="Tudui"):
        torch.load(tmp_path / "tudui_method1.pth", weights_only=False)
