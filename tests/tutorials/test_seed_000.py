"""Seed 000 ("torch.nn" overview, 11 sections) on lamina: every code example, import line changed.

Snippets are the tutorial's code, adapted minimally (see README.md in this folder): MNIST becomes
random tensors of the same shapes, epochs are cut, whole-model pickling uses ``pickle=True``.
"""

# ruff: noqa: UP008  (the tutorial's super(Class, self) calls are kept verbatim)
from __future__ import annotations

import pickle
import re
import sys

import lamina
import lamina as torch
import lamina.nn as nn
import lamina.nn.functional as F  # noqa: F401  (re-bound to torch.nn.functional by on_torch)
import lamina.optim as optim  # noqa: F401
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
    tensorboard_scalars,
    torch_from,
)
from lamina.utils.data import DataLoader, TensorDataset

try:  # §十's `from torch.utils.tensorboard import SummaryWriter`, import line changed
    from lamina.utils.tensorboard import SummaryWriter
except ModuleNotFoundError:  # lamina-tensorboard not installed: only the TensorBoard test skips
    SummaryWriter = None


# --- 二、nn.Module ------------------------------------------------------------------------------
def snippet_two_layer_net():
    class TwoLayerNet(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(TwoLayerNet, self).__init__()
            self.layer1 = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.layer2 = nn.Linear(hidden_size, output_size)

        def forward(self, x):
            x = self.layer1(x)
            x = self.relu(x)
            x = self.layer2(x)
            return x

    # 实例化模型
    model = TwoLayerNet(input_size=10, hidden_size=20, output_size=2)
    x = torch.randn(32, 10)  # 批次大小32,输入10维
    output = model(x)        # 输出形状为 (32, 2)
    print(model)
    return model, output


TWO_LAYER_NET_PRINT = """\
TwoLayerNet(
  (layer1): Linear(in_features=10, out_features=20, bias=True)
  (relu): ReLU()
  (layer2): Linear(in_features=20, out_features=2, bias=True)
)
"""

NAMED_PARAMETERS_PRINT = """\
Parameter: layer1.weight, Shape: torch.Size([20, 10])
Parameter: layer1.bias, Shape: torch.Size([20])
Parameter: layer2.weight, Shape: torch.Size([2, 20])
Parameter: layer2.bias, Shape: torch.Size([2])
"""


def test_two_layer_net_prints_the_tutorial_output(capsys):
    model, output = snippet_two_layer_net()
    assert tuple(output.shape) == (32, 2)
    assert capsys.readouterr().out == TWO_LAYER_NET_PRINT
    for name, param in model.named_parameters():
        print(f"Parameter: {name}, Shape: {param.shape}")
    assert capsys.readouterr().out == as_lamina_text(NAMED_PARAMETERS_PRINT)


def test_two_layer_net_matches_pytorch(capsys):
    ours, _ = snippet_two_layer_net()
    theirs, _ = on_torch(snippet_two_layer_net)()
    assert n_params(ours) == n_params(theirs) == 10 * 20 + 20 + 20 * 2 + 2
    copy_weights(ours, theirs)
    x = torch.randn(32, 10)
    out, ref = ours(x), theirs(torch_from(x))
    assert_close(out, ref)
    out.pow(2).mean().backward()
    ref.pow(2).mean().backward()
    assert_same_grads(ours, theirs)


def snippet_residual_block():
    class ResidualBlock(nn.Module):
        def __init__(self, dim):
            super(ResidualBlock, self).__init__()
            self.fc1 = nn.Linear(dim, dim)
            self.fc2 = nn.Linear(dim, dim)
            self.relu = nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.fc1(x)
            out = self.relu(out)
            out = self.fc2(out)
            out += residual  # 残差连接
            return out

    return ResidualBlock(16)


def test_residual_block_inplace_add_matches_pytorch():
    ours, theirs, out, ref = check_twin(snippet_residual_block, lambda: (torch.randn(4, 16, requires_grad=True),))
    assert tuple(out.shape) == (4, 16)


# --- 三、常用神经网络层 -------------------------------------------------------------------------------
def snippet_layer_shapes():
    shapes = {}
    linear = nn.Linear(10, 5)
    x = torch.randn(32, 10)  # 批次大小32
    y = linear(x)            # 输出形状 (32, 5)
    print(y.shape)
    shapes["linear"] = tuple(y.shape)

    conv = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1)
    x = torch.randn(32, 3, 28, 28)  # 批次大小32,3通道,28x28图像
    y = conv(x)                     # 输出形状 (32, 16, 28, 28)
    print(y.shape)
    shapes["conv"] = tuple(y.shape)

    pool = nn.MaxPool2d(kernel_size=2, stride=2)
    x = torch.randn(32, 16, 28, 28)
    y = pool(x)  # 输出形状 (32, 16, 14, 14)
    print(y.shape)
    shapes["pool"] = tuple(y.shape)

    rnn = nn.RNN(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
    x = torch.randn(32, 5, 10)  # 批次大小32,序列长度5,特征维度10
    h0 = torch.randn(2, 32, 20) # 初始隐藏状态
    output, hn = rnn(x, h0)     # output: (32, 5, 20), hn: (2, 32, 20)
    print(output.shape, hn.shape)
    shapes["rnn"] = (tuple(output.shape), tuple(hn.shape))

    bn = nn.BatchNorm2d(16)
    x = torch.randn(32, 16, 28, 28)
    y = bn(x)
    shapes["bn"] = tuple(y.shape)

    dropout = nn.Dropout(p=0.5)
    x = torch.randn(32, 10)
    y = dropout(x)
    shapes["dropout"] = tuple(y.shape)
    return shapes, (linear, conv, pool, rnn, bn, dropout)


def test_layer_examples_give_the_commented_shapes(capsys):
    shapes, _ = snippet_layer_shapes()
    assert shapes == {"linear": (32, 5), "conv": (32, 16, 28, 28), "pool": (32, 16, 14, 14),
                      "rnn": ((32, 5, 20), (2, 32, 20)), "bn": (32, 16, 28, 28), "dropout": (32, 10)}
    ours = capsys.readouterr().out
    _, layers = on_torch(snippet_layer_shapes)()
    assert ours == as_lamina_text(capsys.readouterr().out)


def test_layer_examples_reprs_and_parameter_counts_match_pytorch(capsys):
    _, ours = snippet_layer_shapes()
    _, theirs = on_torch(snippet_layer_shapes)()
    for a, b in zip(ours, theirs):
        assert repr(a) == repr(b)
        assert n_params(a) == n_params(b)
        assert list(a.state_dict()) == list(b.state_dict())


@pytest.mark.parametrize("which", ["linear", "conv", "pool", "rnn", "bn"])
def test_layer_examples_outputs_match_pytorch(which, capsys):
    _, ours = snippet_layer_shapes()
    _, theirs = on_torch(snippet_layer_shapes)()
    index = ["linear", "conv", "pool", "rnn", "bn"].index(which)
    a, b = ours[index], theirs[index]
    copy_weights(a, b)
    shape = {"linear": (4, 10), "conv": (2, 3, 8, 8), "pool": (2, 16, 8, 8), "rnn": (3, 5, 10), "bn": (4, 16, 5, 5)}
    x = torch.randn(*shape[which], requires_grad=True)
    tx = torch_from(x).requires_grad_(True)
    out, ref = a(x), b(tx)
    if which == "rnn":
        out, ref = out[0], ref[0]
    assert_close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    assert_close(x.grad, tx.grad)
    assert_same_grads(a, b)
    if which == "bn":
        assert_close(a.running_mean, b.running_mean)
        assert_close(a.running_var, b.running_var)


def test_dropout_example_zeroes_about_half_and_rescales():
    dropout = nn.Dropout(p=0.5)
    x = torch.randn(32, 10)
    y = dropout(x)
    kept = numpy_of(y) != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(numpy_of(y)[kept], 2 * numpy_of(x)[kept], rtol=1e-6)
    dropout.eval()
    assert_close(dropout(x), x, 0, 0)


# --- 四、激活函数 ---------------------------------------------------------------------------------
def snippet_activations():
    relu = nn.ReLU()
    sigmoid = nn.Sigmoid()
    x = torch.tensor([-1.0, 0.0, 1.0])
    print(relu(x))    # tensor([0.0, 0.0, 1.0])
    print(sigmoid(x)) # tensor([0.2689, 0.5000, 0.7311])
    softmax = nn.Softmax(dim=-1)
    return softmax(torch.randn(2, 3, 4))


def test_activation_prints_match_pytorch(capsys):
    probs = snippet_activations()
    ours = capsys.readouterr().out
    assert ours == "tensor([0., 0., 1.])\ntensor([0.2689, 0.5000, 0.7311])\n"
    on_torch(snippet_activations)()
    assert ours == capsys.readouterr().out
    np.testing.assert_allclose(numpy_of(probs.sum(dim=-1)), np.ones((2, 3)), rtol=1e-6)


def snippet_mentioned_activation(name):
    """Section 四 names these without code: the ReLU variants and Tanh."""
    return {"LeakyReLU": lambda: nn.LeakyReLU(), "PReLU": lambda: nn.PReLU(), "Tanh": lambda: nn.Tanh()}[name]()


@pytest.mark.parametrize("name", ["LeakyReLU", "PReLU", "Tanh"])
def test_mentioned_activations_match_pytorch(name):
    _, _, out, _ = check_twin(snippet_mentioned_activation, lambda: (torch.randn(4, 6, requires_grad=True),),
                              args=(name,), train=True)
    assert tuple(out.shape) == (4, 6)


def snippet_mentioned_loss(name):
    """Section 五 names these without code: MSE for regression, BCE and BCE-with-logits for two classes."""
    return {"MSELoss": lambda: nn.MSELoss(), "BCELoss": lambda: nn.BCELoss(),
            "BCEWithLogitsLoss": lambda: nn.BCEWithLogitsLoss()}[name]()


@pytest.mark.parametrize("name", ["MSELoss", "BCELoss", "BCEWithLogitsLoss"])
def test_mentioned_losses_match_pytorch(name):
    x = torch.rand(8, 3) * 0.9 + 0.05 if name == "BCELoss" else torch.randn(8, 3) * 3
    x.requires_grad_(True)
    y = torch.randint(0, 2, (8, 3)).float()
    tx = torch_from(x).requires_grad_(True)
    loss, ref = snippet_mentioned_loss(name)(x, y), on_torch(snippet_mentioned_loss)(name)(tx, torch_from(y))
    assert_close(loss, ref)
    loss.backward()
    ref.backward()
    assert_close(x.grad, tx.grad)


# --- 五、损失函数 ---------------------------------------------------------------------------------
def snippet_cross_entropy():
    criterion = nn.CrossEntropyLoss()
    outputs = torch.randn(32, 10)  # 批次大小32,10个类别
    labels = torch.randint(0, 10, (32,))
    loss = criterion(outputs, labels)
    print(loss.item())
    return outputs, labels, loss


def test_cross_entropy_example_matches_pytorch(capsys):
    outputs, labels, loss = snippet_cross_entropy()
    assert isinstance(loss.item(), float)
    assert float(capsys.readouterr().out) == loss.item()
    t = real_torch()
    ref = t.nn.CrossEntropyLoss()(torch_from(outputs), torch_from(labels))
    assert abs(loss.item() - ref.item()) < 1e-5


# --- 六、容器 -----------------------------------------------------------------------------------
def snippet_sequential():
    model = nn.Sequential(
        nn.Linear(10, 20),
        nn.ReLU(),
        nn.Linear(20, 2)
    )
    return model


def snippet_module_list():
    class MyNet(nn.Module):
        def __init__(self, dims):
            super(MyNet, self).__init__()
            self.layers = nn.ModuleList([nn.Linear(dims[i], dims[i+1]) for i in range(len(dims)-1)])
            self.relu = nn.ReLU()

        def forward(self, x):
            for layer in self.layers:
                x = self.relu(layer(x))
            return x

    model = MyNet([10, 20, 5])
    return model


def snippet_module_dict():
    class MyNet(nn.Module):
        def __init__(self):
            super(MyNet, self).__init__()
            self.layers = nn.ModuleDict({

                'fc1': nn.Linear(10, 20),
                'fc2': nn.Linear(20, 5)
            })

        def forward(self, x):
            x = self.layers['fc1'](x)
            x = self.layers['fc2'](x)
            return x

    return MyNet()


@pytest.mark.parametrize("build, out_dim", [(snippet_sequential, 2), (snippet_module_list, 5),
                                            (snippet_module_dict, 5)],
                         ids=["Sequential", "ModuleList", "ModuleDict"])
def test_containers_match_pytorch(build, out_dim):
    _, _, out, _ = check_twin(build, lambda: (torch.randn(32, 10),))
    assert tuple(out.shape) == (32, out_dim)


# --- 七、完整流程: data, ConvNet, loss/optimizer, training, evaluation ---------------------------------
def make_mnist_like(n: int):
    """Stands in for torchvision's MNIST: uint8 images (28, 28) and labels, through the same transforms."""
    transforms = pytest.importorskip("lamina_datasets").transforms
    # 数据预处理
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,))
    ])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 64, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    # make the labels learnable: brighten a class-specific band of rows
    for i, c in enumerate(labels):
        images[i, 2 * c:2 * c + 3, :] = 255
    return TensorDataset(torch.stack([transform(img) for img in images]), torch.tensor(labels))


def snippet_convnet():
    class ConvNet(nn.Module):
        def __init__(self):
            super(ConvNet, self).__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
            self.fc1 = nn.Linear(64 * 7 * 7, 128)
            self.fc2 = nn.Linear(128, 10)
            self.relu = nn.ReLU()
            self.dropout = nn.Dropout(0.5)

        def forward(self, x):
            x = self.pool(self.relu(self.conv1(x)))  # 输出: (batch, 32, 14, 14)
            x = self.pool(self.relu(self.conv2(x)))  # 输出: (batch, 64, 7, 7)
            x = x.view(-1, 64 * 7 * 7)              # 展平
            x = self.relu(self.fc1(x))
            x = self.dropout(x)
            x = self.fc2(x)
            return x

    model = ConvNet()
    return model


def test_convnet_matches_pytorch_in_eval_mode():
    _, _, out, _ = check_twin(snippet_convnet, lambda: (torch.randn(4, 1, 28, 28, requires_grad=True),))
    assert tuple(out.shape) == (4, 10)


def test_mnist_workflow_trains_and_evaluates(capsys):
    train_dataset = make_mnist_like(128)
    test_dataset = make_mnist_like(32)
    assert tuple(train_dataset[0][0].shape) == (1, 28, 28)
    train_loader = DataLoader(train_dataset, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=64, shuffle=False)

    model = snippet_convnet()
    # 3. 设置损失函数和优化器
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

    # 4. 训练模型
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    num_epochs = 3
    epoch_losses = []
    for epoch in range(num_epochs):
        model.train()
        total_loss = 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)

            # 前向传播
            outputs = model(images)
            loss = criterion(outputs, labels)

            # 反向传播
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            total_loss += loss.item()

        print(f"Epoch [{epoch+1}/{num_epochs}], Loss: {total_loss/len(train_loader):.4f}")
        epoch_losses.append(total_loss / len(train_loader))

    # 5. 评估模型
    model.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()

    print(f"Test Accuracy: {100 * correct / total:.2f}%")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Epoch [1/3], Loss: ") and printed[-1].startswith("Test Accuracy: ")
    assert epoch_losses[-1] < epoch_losses[0]
    assert total == 32 and isinstance(correct, int)
    assert correct / total > 0.5  # the class bands are easy: well above chance (10%)


# --- 八、进阶主题 ---------------------------------------------------------------------------------
def snippet_init_weights(model):
    def init_weights(m):
        if isinstance(m, nn.Linear) or isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    model.apply(init_weights)
    return model


def test_kaiming_fan_out_init_applies_to_every_linear_and_conv():
    model = snippet_init_weights(snippet_convnet())
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            w = numpy_of(m.weight)
            fan_out = w.shape[0] * (w[0, 0].size if w.ndim > 2 else 1)
            assert abs(w.std() / np.sqrt(2.0 / fan_out) - 1) < 0.1, type(m).__name__
            assert not numpy_of(m.bias).any()


def snippet_custom_loss():
    class CustomLoss(nn.Module):
        def __init__(self, l2_weight=0.01):
            super(CustomLoss, self).__init__()
            self.l2_weight = l2_weight
            self.ce_loss = nn.CrossEntropyLoss()

        def forward(self, outputs, labels, model):
            ce = self.ce_loss(outputs, labels)
            l2 = sum(p.pow(2.0).sum() for p in model.parameters())
            return ce + self.l2_weight * l2

    criterion = CustomLoss(l2_weight=0.01)
    return criterion


def test_custom_l2_loss_matches_pytorch():
    ours_model, theirs_model = snippet_sequential(), on_torch(snippet_sequential)()
    copy_weights(ours_model, theirs_model)
    x, labels = torch.randn(8, 10), torch.randint(0, 2, (8,))
    loss = snippet_custom_loss()(ours_model(x), labels, ours_model)
    ref = on_torch(snippet_custom_loss)()(theirs_model(torch_from(x)), torch_from(labels), theirs_model)
    assert abs(loss.item() - ref.item()) < 1e-5
    loss.backward()
    ref.backward()
    assert_same_grads(ours_model, theirs_model)


def snippet_dynamic_net():
    class DynamicNet(nn.Module):
        def __init__(self, input_size, hidden_size):
            super(DynamicNet, self).__init__()
            self.fc = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()

        def forward(self, x, num_layers=1):
            for _ in range(num_layers):
                x = self.fc(x)
                x = self.relu(x)
            return x

    return DynamicNet(8, 8)


@pytest.mark.parametrize("num_layers", [1, 3])
def test_dynamic_net_reuses_its_layer(num_layers):
    ours, theirs = snippet_dynamic_net(), on_torch(snippet_dynamic_net)()
    copy_weights(ours, theirs)
    x = torch.randn(5, 8)
    out, ref = ours(x, num_layers=num_layers), theirs(torch_from(x), num_layers=num_layers)
    assert_close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    assert_same_grads(ours, theirs)


def test_save_whole_model_and_state_dict(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = snippet_convnet()
    # the tutorial defines ConvNet at module level, where pickle can find it by name
    type(model).__qualname__ = "ConvNet"  # a fresh class per call: nothing to restore
    monkeypatch.setattr(sys.modules[__name__], "ConvNet", type(model), raising=False)
    model.eval()
    x = torch.randn(2, 1, 28, 28)
    expected = numpy_of(model(x))
    # the tutorial's line as written: a whole Module goes to the pickle container; as in torch 2.13,
    # loading it needs weights_only=False (or its classes in lamina.serialization.safe_globals)
    torch.save(model, "model.pt")
    with pytest.raises(pickle.UnpicklingError, match="ConvNet"):
        torch.load("model.pt")
    # 保存整个模型: whole-model pickling is opt-in in lamina (pickle=True / weights_only=False)
    with pytest.warns(lamina.serialization.PickleWarning):
        torch.save(model, "model.pt", pickle=True)
    with pytest.warns(lamina.serialization.PickleWarning):
        model = torch.load("model.pt", weights_only=False)
    np.testing.assert_array_equal(numpy_of(model(x)), expected)

    # 仅保存参数(推荐)
    torch.save(model.state_dict(), "model_state.pth")
    model = snippet_convnet()
    model.load_state_dict(torch.load("model_state.pth"))
    model.eval()
    np.testing.assert_array_equal(numpy_of(model(x)), expected)


def test_debugging_tips(capsys):
    model = snippet_convnet()
    x = torch.randn(2, 1, 28, 28)
    print(x.shape)  # 在 forward 中打印张量形状
    criterion = nn.CrossEntropyLoss()
    criterion(model(x), torch.tensor([1, 2])).backward()
    for name, param in model.named_parameters():
        print(f"{name}.grad: {param.grad.norm()}")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "lamina.Size([2, 1, 28, 28])"
    assert [ln.split(".grad: ")[0] for ln in lines[1:]] == [n for n, _ in model.named_parameters()]
    # as in PyTorch, formatting a 0-d tensor in an f-string formats its Python number
    norms = [float(ln.split(".grad: ")[1]) for ln in lines[1:]]
    assert norms == [param.grad.norm().item() for param in model.parameters()]

    # torchsummary's summary(model, input_size=(1, 28, 28)) -> lamina.summary (torchinfo style, batch dim added)
    from lamina import summary
    table = summary(model, input_size=(1, 28, 28), batch_dim=0)
    assert table.total_params == n_params(model) == 421642
    assert "Conv2d" in capsys.readouterr().out


# --- 十、调试工具: TensorBoard ----------------------------------------------------------------------------
def snippet_tensorboard(model, train_loader, criterion, optimizer, num_epochs):
    """§七's training loop with §十's three TensorBoard lines (the loss of each epoch's last batch)."""
    writer = SummaryWriter()
    for epoch in range(num_epochs):
        for images, labels in train_loader:
            outputs = model(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        writer.add_scalar("Loss/train", loss.item(), epoch)
    return writer


def test_tensorboard_writer_logs_the_loss_and_reads_back_like_pytorch(tmp_path, monkeypatch):
    if SummaryWriter is None:
        pytest.skip("needs lamina-tensorboard (pip install -e plugins/tensorboard)")
    t = real_torch()
    dataset = make_mnist_like(32)
    ours, theirs = snippet_convnet(), on_torch(snippet_convnet)()
    copy_weights(ours, theirs)
    ours.eval()  # Dropout off, so that the two frameworks train on the same function
    theirs.eval()
    torch_dataset = t.utils.data.TensorDataset(*(torch_from(x) for x in dataset.tensors))
    twins = {"lamina": (snippet_tensorboard, ours, DataLoader(dataset, batch_size=16), nn.CrossEntropyLoss(),
                        torch.optim.Adam(ours.parameters(), lr=0.001)),
             "torch": (on_torch(snippet_tensorboard), theirs, t.utils.data.DataLoader(torch_dataset, batch_size=16),
                       t.nn.CrossEntropyLoss(), t.optim.Adam(theirs.parameters(), lr=0.001))}
    runs, writers = {}, {}
    for name, (body, *args) in twins.items():
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)  # SummaryWriter() writes to ./runs/<datetime>_<hostname>
        writer = body(*args, 2)
        writer.close()  # (the tutorial leaves it open; close() flushes)
        (runs[name],) = (tmp_path / name / "runs").iterdir()
        writers[name] = type(writer).__module__
    assert writers == {"lamina": "lamina_tensorboard.writer", "torch": "torch.utils.tensorboard.writer"}
    digits_aside = lambda path: re.sub(r"\d", "0", path.name)  # noqa: E731
    assert digits_aside(runs["lamina"]) == digits_aside(runs["torch"])
    got, expected = tensorboard_scalars(runs["lamina"], "Loss/train"), tensorboard_scalars(runs["torch"], "Loss/train")
    assert [step for step, _ in got] == [step for step, _ in expected] == [0, 1]
    np.testing.assert_allclose([v for _, v in got], [v for _, v in expected], rtol=1e-4)


def test_clip_grad_norm_and_weight_decay_match_pytorch():
    ours, theirs = snippet_sequential(), on_torch(snippet_sequential)()
    copy_weights(ours, theirs)
    t = real_torch()
    opt = torch.optim.Adam(ours.parameters(), lr=0.001, weight_decay=1e-4)
    ref_opt = t.optim.Adam(theirs.parameters(), lr=0.001, weight_decay=1e-4)
    for _ in range(3):
        x = torch.randn(16, 10) * 10
        opt.zero_grad()
        ref_opt.zero_grad()
        ours(x).pow(2).sum().backward()
        theirs(torch_from(x)).pow(2).sum().backward()
        norm = torch.nn.utils.clip_grad_norm_(ours.parameters(), max_norm=1.0)
        ref_norm = t.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm=1.0)
        assert abs(norm.item() / ref_norm.item() - 1) < 1e-5
        assert_same_grads(ours, theirs)
        opt.step()
        ref_opt.step()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p, q, what=name)


def test_train_eval_mode_switch():
    model = snippet_convnet()
    x = torch.randn(2, 1, 28, 28)
    model.eval()
    assert not model.dropout.training
    np.testing.assert_array_equal(numpy_of(model(x)), numpy_of(model(x)))
    model.train()
    assert model.dropout.training and model.training
    assert not np.array_equal(numpy_of(model(x)), numpy_of(model(x)))


def test_lamina_serialization_is_reachable_as_an_attribute():
    """``torch.serialization`` is a public submodule; ``lamina.serialization`` resolves lazily like it."""
    import subprocess

    code = "import lamina; assert issubclass(lamina.serialization.PickleWarning, UserWarning)"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- 九、常见问题: 维度不匹配 ("RuntimeError: size mismatch") -----------------------------------------------
@pytest.mark.parametrize("bad_input, message", [
    ((32, 11), r"layer1 \(Linear\): expected input with 10 features .* got 11"),
    ((32, 3, 28, 28), r"layer1 \(Linear\): expected input with 10 features .* got 28"),
])
def test_size_mismatch_names_the_layer_with_expected_and_got(bad_input, message, capsys):
    """The tutorial's troubleshooting case. lamina raises ShapeError (a ValueError, STYLE.md) naming the
    layer path, where PyTorch raises RuntimeError("mat1 and mat2 shapes cannot be multiplied ...")."""
    model, _ = snippet_two_layer_net()
    with pytest.raises(lamina.ShapeError, match=message):
        model(torch.randn(*bad_input))
