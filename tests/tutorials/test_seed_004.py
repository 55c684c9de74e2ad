# ruff: noqa: UP008  (the tutorial's super(Class, self) calls are kept verbatim)
"""Seed 004 (PyTorch 神经网络基础) on lamina: every code example, import line changed.

Adaptations (README.md in this folder): torchsummary/torchinfo become ``lamina.summary``;
``plt.show()`` is recorded instead of opening a window; whole-model pickling uses ``pickle=True``.
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
    torch_from,
)


# --- torch.nn模块简介 -------------------------------------------------------------------------------
def snippet_intro_layers():
    # 基本的神经网络层
    linear = nn.Linear(10, 5)  # 线性层:输入10维,输出5维
    conv = nn.Conv2d(3, 16, 3)  # 卷积层:3通道输入,16通道输出,3x3卷积核
    lstm = nn.LSTM(10, 20, 2)   # LSTM层:输入10维,隐藏20维,2层
    return linear, conv, lstm


def test_intro_layers_match_pytorch():
    for ours, theirs in zip(snippet_intro_layers(), on_torch(snippet_intro_layers)()):
        assert repr(ours) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


# --- 构建第一个神经网络 ---------------------------------------------------------------------------------
def snippet_sequential_mlp():
    # 最简单的方式:Sequential容器
    model = nn.Sequential(
        nn.Linear(784, 128),    # 输入层到隐藏层
        nn.ReLU(),              # 激活函数
        nn.Linear(128, 64),     # 隐藏层
        nn.ReLU(),
        nn.Linear(64, 10)       # 输出层
    )
    return model


def test_sequential_mlp(capsys):
    model, _, output, _ = check_twin(snippet_sequential_mlp, lambda: (torch.randn(32, 784),))
    print(f"输出形状: {output.shape}")  # [32, 10]
    assert capsys.readouterr().out == "输出形状: lamina.Size([32, 10])\n"


def snippet_mlp():
    class MLP(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(MLP, self).__init__()
            self.fc1 = nn.Linear(input_size, hidden_size)
            self.fc2 = nn.Linear(hidden_size, hidden_size)
            self.fc3 = nn.Linear(hidden_size, output_size)
            self.relu = nn.ReLU()
            self.dropout = nn.Dropout(0.2)

        def forward(self, x):
            x = self.relu(self.fc1(x))
            x = self.dropout(x)
            x = self.relu(self.fc2(x))
            x = self.dropout(x)
            x = self.fc3(x)
            return x

    # 创建模型实例
    model = MLP(784, 128, 10)
    print(model)

    # 查看模型参数
    total_params = sum(p.numel() for p in model.parameters())
    trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"总参数数量: {total_params}")
    print(f"可训练参数数量: {trainable_params}")
    return model


def test_mlp_print_and_parameter_counts_match_pytorch(capsys):
    model = snippet_mlp()
    ours = capsys.readouterr().out
    on_torch(snippet_mlp)()
    assert ours == capsys.readouterr().out
    assert "总参数数量: 118282\n" in ours and "可训练参数数量: 118282\n" in ours
    check_twin(snippet_mlp, lambda: (torch.randn(4, 784, requires_grad=True),))
    del model


# --- 常用神经网络层 ------------------------------------------------------------------------------------
def snippet_linear_layer():
    # 全连接层
    linear = nn.Linear(in_features=100, out_features=50, bias=True)

    # 查看参数
    print(f"权重形状: {linear.weight.shape}")  # [50, 100]
    print(f"偏置形状: {linear.bias.shape}")    # [50]

    # 自定义初始化
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


def test_linear_layer_shapes_and_custom_init(capsys):
    linear = snippet_linear_layer()
    ours = capsys.readouterr().out
    assert ours == "权重形状: lamina.Size([50, 100])\n偏置形状: lamina.Size([50])\n"
    on_torch(snippet_linear_layer)()
    assert ours == as_lamina_text(capsys.readouterr().out)
    w = numpy_of(linear.weight)
    bound = np.sqrt(6 / (100 + 50))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not numpy_of(linear.bias).any()


def snippet_conv_layers():
    # 2D卷积
    conv2d = nn.Conv2d(
        in_channels=3,      # 输入通道数
        out_channels=16,    # 输出通道数
        kernel_size=3,      # 卷积核大小
        stride=1,           # 步长
        padding=1,          # 填充
        bias=True
    )

    # 1D卷积(用于序列数据)
    conv1d = nn.Conv1d(in_channels=10, out_channels=20, kernel_size=3)

    # 转置卷积(反卷积)
    conv_transpose = nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1)

    # 测试卷积层
    x = torch.randn(32, 3, 64, 64)  # [batch, channels, height, width]
    output = conv2d(x)
    print(f"卷积输出形状: {output.shape}")  # [32, 16, 64, 64]
    return conv2d, conv1d, conv_transpose, output


def test_conv_layers(capsys):
    conv2d, conv1d, conv_transpose, output = snippet_conv_layers()
    assert capsys.readouterr().out == "卷积输出形状: lamina.Size([32, 16, 64, 64])\n"
    theirs = on_torch(snippet_conv_layers)()
    inputs = [(2, 3, 9, 9), (2, 10, 12), (2, 16, 5, 6)]
    for ours, ref_layer, shape in zip((conv2d, conv1d, conv_transpose), theirs, inputs):
        assert repr(ours) == repr(ref_layer)
        copy_weights(ours, ref_layer)
        x = torch.randn(*shape, requires_grad=True)
        tx = torch_from(x).requires_grad_(True)
        out, ref = ours(x), ref_layer(tx)
        assert_close(out, ref, scaled=True)
        out.pow(2).sum().backward()
        ref.pow(2).sum().backward()
        assert_close(x.grad, tx.grad, scaled=True)
        assert_same_grads(ours, ref_layer)
    assert tuple(conv_transpose(output).shape) == (32, 3, 127, 127)


def snippet_pooling():
    # 最大池化
    maxpool = nn.MaxPool2d(kernel_size=2, stride=2)

    # 平均池化
    avgpool = nn.AvgPool2d(kernel_size=2, stride=2)

    # 自适应池化(输出固定尺寸)
    adaptive_pool = nn.AdaptiveAvgPool2d((7, 7))

    # 全局平均池化
    global_pool = nn.AdaptiveAvgPool2d((1, 1))

    # 测试池化
    x = torch.randn(32, 16, 64, 64)
    pooled = maxpool(x)
    print(f"池化后形状: {pooled.shape}")  # [32, 16, 32, 32]
    return (maxpool, avgpool, adaptive_pool, global_pool), x


def test_pooling_layers_match_pytorch(capsys):
    layers, x = snippet_pooling()
    assert capsys.readouterr().out == "池化后形状: lamina.Size([32, 16, 32, 32])\n"
    theirs, _ = on_torch(snippet_pooling)()
    x = x[:2]
    expected = [(2, 16, 32, 32), (2, 16, 32, 32), (2, 16, 7, 7), (2, 16, 1, 1)]
    for ours, ref_layer, shape in zip(layers, theirs, expected):
        assert repr(ours) == repr(ref_layer)
        out, ref = ours(x), ref_layer(torch_from(x))
        assert tuple(out.shape) == shape
        assert_close(out, ref)


def snippet_recurrent():
    # LSTM层
    lstm = nn.LSTM(
        input_size=100,     # 输入特征维度
        hidden_size=128,    # 隐藏状态维度
        num_layers=2,       # 层数
        batch_first=True,   # 输入形状为(batch, seq, feature)
        dropout=0.1,        # dropout概率
        bidirectional=False # 是否双向
    )

    # GRU层
    gru = nn.GRU(input_size=100, hidden_size=128, num_layers=2, batch_first=True)

    # 简单RNN
    rnn = nn.RNN(input_size=100, hidden_size=128, num_layers=2, batch_first=True)

    # 测试LSTM
    x = torch.randn(32, 50, 100)  # [batch, seq_len, input_size]
    output, (hidden, cell) = lstm(x)
    print(f"LSTM输出形状: {output.shape}")  # [32, 50, 128]
    print(f"隐藏状态形状: {hidden.shape}")   # [2, 32, 128]
    return lstm, gru, rnn


def test_recurrent_layers_match_pytorch(capsys):
    layers = snippet_recurrent()
    assert capsys.readouterr().out == ("LSTM输出形状: lamina.Size([32, 50, 128])\n"
                                       "隐藏状态形状: lamina.Size([2, 32, 128])\n")
    theirs = on_torch(snippet_recurrent)()
    x = torch.randn(3, 7, 100, requires_grad=True)
    for ours, ref_layer in zip(layers, theirs):
        assert repr(ours) == repr(ref_layer)
        copy_weights(ours, ref_layer)
        ours.eval()  # the LSTM's inter-layer dropout is random in training mode
        ref_layer.eval()
        x.grad = None
        tx = torch_from(x).requires_grad_(True)
        (out, state), (ref, ref_state) = ours(x), ref_layer(tx)
        assert_close(out, ref, scaled=True)
        for h, ref_h in zip(state if isinstance(state, tuple) else (state,),
                            ref_state if isinstance(ref_state, tuple) else (ref_state,)):
            assert_close(h, ref_h, scaled=True)
        out.sum().backward()
        ref.sum().backward()
        assert_close(x.grad, tx.grad, scaled=True)
        assert_same_grads(ours, ref_layer)


def snippet_attention():
    # 多头注意力
    attention = nn.MultiheadAttention(
        embed_dim=512,      # 嵌入维度
        num_heads=8,        # 注意力头数
        dropout=0.1,
        batch_first=True
    )

    # 测试注意力
    query = torch.randn(32, 50, 512)  # [batch, seq_len, embed_dim]
    key = torch.randn(32, 50, 512)
    value = torch.randn(32, 50, 512)

    attn_output, attn_weights = attention(query, key, value)
    print(f"注意力输出形状: {attn_output.shape}")  # [32, 50, 512]
    return attention, attn_weights


def test_multihead_attention_matches_pytorch(capsys):
    attention, attn_weights = snippet_attention()
    assert capsys.readouterr().out == "注意力输出形状: lamina.Size([32, 50, 512])\n"
    assert tuple(attn_weights.shape) == (32, 50, 50)  # averaged over the heads
    theirs, _ = on_torch(snippet_attention)()
    assert repr(attention) == repr(theirs)
    copy_weights(attention, theirs)
    attention.eval()
    theirs.eval()
    q, k, v = (torch.randn(2, 6, 512) for _ in range(3))
    (out, w), (ref, ref_w) = attention(q, k, v), theirs(*(torch_from(t) for t in (q, k, v)))
    assert_close(out, ref, scaled=True)
    assert_close(w, ref_w, scaled=True)


# --- 激活函数 -------------------------------------------------------------------------------------------
def snippet_activations(x):
    # 常用激活函数
    relu = nn.ReLU()
    leaky_relu = nn.LeakyReLU(negative_slope=0.01)
    elu = nn.ELU()
    gelu = nn.GELU()
    swish = nn.SiLU()  # Swish激活函数
    tanh = nn.Tanh()
    sigmoid = nn.Sigmoid()
    softmax = nn.Softmax(dim=-1)

    # 函数式接口
    y1 = F.relu(x)
    y2 = F.gelu(x)
    y3 = F.softmax(x, dim=0)

    print(f"ReLU输出: {y1}")
    print(f"GELU输出: {y2}")
    print(f"Softmax输出: {y3}")
    modules = (relu, leaky_relu, elu, gelu, swish, tanh, sigmoid, softmax)
    return modules, [m(x) for m in modules]


def test_activations_print_and_values_match_pytorch(capsys):
    x = torch.randn(10)
    modules, outs = snippet_activations(x)
    ours = capsys.readouterr().out
    theirs, refs = on_torch(snippet_activations)(torch_from(x))
    assert ours == capsys.readouterr().out
    for m, t, a, b in zip(modules, theirs, outs, refs):
        assert repr(m) == repr(t)
        assert_close(a, b, rtol=1.3e-6, what=repr(m))


# --- 正则化技术 -----------------------------------------------------------------------------------------
def test_dropout_snippet_mode_switch_belongs_to_the_module_it_is_called_on():
    """As written, the snippet switches ``model`` (the MLP) but calls a separate ``dropout``: in PyTorch
    and in lamina that dropout stays in training mode both times."""
    model = snippet_mlp()
    x = torch.randn(32, 784)
    # Dropout层
    dropout = nn.Dropout(p=0.5)  # 50%的神经元被随机置零

    # 在训练和评估时的不同行为
    model.train()  # 训练模式,启用dropout
    output_train = dropout(x)

    model.eval()   # 评估模式,禁用dropout
    output_eval = dropout(x)
    assert dropout.training and not model.training and not model.dropout.training
    assert (numpy_of(output_train) == 0).mean() > 0.4 and (numpy_of(output_eval) == 0).mean() > 0.4
    # what the tutorial means: the mode of the dropout module itself
    dropout.eval()
    np.testing.assert_array_equal(numpy_of(dropout(x)), numpy_of(x))


def snippet_norms():
    # 1D批量归一化(用于全连接层)
    bn1d = nn.BatchNorm1d(num_features=128)

    # 2D批量归一化(用于卷积层)
    bn2d = nn.BatchNorm2d(num_features=64)

    # 层归一化
    ln = nn.LayerNorm(normalized_shape=128)

    # 组归一化
    gn = nn.GroupNorm(num_groups=8, num_channels=64)

    # 实例归一化
    in_norm = nn.InstanceNorm2d(num_features=64)
    return bn1d, bn2d, ln, gn, in_norm


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_norm_layers_match_pytorch(train):
    inputs = [(8, 128), (4, 64, 5, 5), (4, 3, 128), (4, 64, 5, 5), (4, 64, 5, 5)]
    for ours, theirs, shape in zip(snippet_norms(), on_torch(snippet_norms)(), inputs):
        assert repr(ours) == repr(theirs)
        copy_weights(ours, theirs)
        ours.train(train)
        theirs.train(train)
        x = torch.randn(*shape, requires_grad=True) * 3 + 1
        x.retain_grad()
        tx = torch_from(x).requires_grad_(True)
        out, ref = ours(x), theirs(tx)
        assert_close(out, ref, scaled=True, what=repr(ours))
        out.pow(3).sum().backward()
        ref.pow(3).sum().backward()
        assert_close(x.grad, tx.grad, rtol=1e-3, scaled=True, what=repr(ours))
        assert_same_grads(ours, theirs, rtol=1e-3)
        for name, buf in ours.named_buffers():
            assert_close(buf, theirs.get_buffer(name), what=name)


def snippet_init_weights(model):
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    # 应用初始化
    model.apply(init_weights)
    return model


def test_init_weights_apply_to_the_image_classifier():
    model = snippet_init_weights(snippet_image_classifier())
    seen = set()
    for m in model.modules():
        kind = type(m).__name__
        if kind in ("Linear", "Conv2d", "BatchNorm2d"):
            seen.add(kind)
            w = numpy_of(m.weight)
            assert not numpy_of(m.bias).any()
            if kind == "Linear":
                assert np.abs(w).max() <= np.sqrt(6 / sum(w.shape))
            elif kind == "BatchNorm2d":
                assert (w == 1).all()
            else:
                fan_out = w.shape[0] * w.shape[2] * w.shape[3]
                assert abs(w.std() / np.sqrt(2 / fan_out) - 1) < 0.15
    assert seen == {"Linear", "Conv2d", "BatchNorm2d"}


# --- 复杂网络结构 -----------------------------------------------------------------------------------------
def snippet_residual_block(in_channels, out_channels, stride=1):
    class ResidualBlock(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1):
            super(ResidualBlock, self).__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels)

            # 跳跃连接
            self.shortcut = nn.Sequential()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                    nn.BatchNorm2d(out_channels)
                )

        def forward(self, x):
            residual = self.shortcut(x)

            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += residual  # 残差连接
            out = F.relu(out)

            return out

    return ResidualBlock(in_channels, out_channels, stride)


@pytest.mark.parametrize("in_channels, out_channels, stride", [(8, 8, 1), (4, 8, 2)])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_residual_block_matches_pytorch(in_channels, out_channels, stride, train):
    model, theirs, out, _ = check_twin(snippet_residual_block, lambda: (torch.randn(2, in_channels, 8, 8,
                                                                                    requires_grad=True),),
                                       args=(in_channels, out_channels, stride), train=train)
    assert tuple(out.shape) == (2, out_channels, 8 // stride, 8 // stride)
    assert len(model.shortcut) == (0 if stride == 1 and in_channels == out_channels else 2)
    for name, buf in model.named_buffers():
        assert_close(buf, theirs.get_buffer(name), what=name)


def snippet_self_attention(embed_dim, num_heads):
    class SelfAttention(nn.Module):
        def __init__(self, embed_dim, num_heads):
            super(SelfAttention, self).__init__()
            self.embed_dim = embed_dim
            self.num_heads = num_heads
            self.head_dim = embed_dim // num_heads

            self.query = nn.Linear(embed_dim, embed_dim)
            self.key = nn.Linear(embed_dim, embed_dim)
            self.value = nn.Linear(embed_dim, embed_dim)
            self.out = nn.Linear(embed_dim, embed_dim)

        def forward(self, x):
            batch_size, seq_len, embed_dim = x.size()

            # 计算Q, K, V
            Q = self.query(x).view(batch_size, seq_len, self.num_heads, self.head_dim).transpose(1, 2)
            K = self.key(x).view(batch_size, seq_len, self.num_heads, self.head_dim).transpose(1, 2)
            V = self.value(x).view(batch_size, seq_len, self.num_heads, self.head_dim).transpose(1, 2)

            # 计算注意力分数
            scores = torch.matmul(Q, K.transpose(-2, -1)) / (self.head_dim ** 0.5)
            attn_weights = F.softmax(scores, dim=-1)

            # 应用注意力
            attn_output = torch.matmul(attn_weights, V)
            attn_output = attn_output.transpose(1, 2).contiguous().view(
                batch_size, seq_len, embed_dim
            )

            return self.out(attn_output)

    return SelfAttention(embed_dim, num_heads)


def test_self_attention_matches_pytorch():
    _, _, out, _ = check_twin(snippet_self_attention, lambda: (torch.randn(3, 7, 32, requires_grad=True),),
                              args=(32, 4))
    assert tuple(out.shape) == (3, 7, 32)


# --- 模型管理 ------------------------------------------------------------------------------------------
def test_parameter_access_and_freezing(capsys):
    model = snippet_mlp()
    capsys.readouterr()
    # 访问所有参数
    for name, param in model.named_parameters():
        print(f"{name}: {param.shape}")

    # 访问特定层的参数
    linear_layer = model.fc1
    print(f"权重: {linear_layer.weight.shape}")
    print(f"偏置: {linear_layer.bias.shape}")
    ours = capsys.readouterr().out
    assert ours.splitlines()[0] == "fc1.weight: lamina.Size([128, 784])"
    assert ours.splitlines()[-1] == "偏置: lamina.Size([128])"

    # 冻结参数
    for param in model.parameters():
        param.requires_grad = False
    assert n_params(model, trainable_only=True) == 0

    # 只训练特定层
    for name, param in model.named_parameters():
        if 'fc3' in name:  # 只训练最后一层
            param.requires_grad = True
        else:
            param.requires_grad = False
    assert n_params(model, trainable_only=True) == 128 * 10 + 10

    model(torch.randn(4, 784)).sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is not None] == ["fc3.weight", "fc3.bias"]
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    before = numpy_of(model.fc1.weight)
    optimizer.step()
    np.testing.assert_array_equal(numpy_of(model.fc1.weight), before)


def test_model_state_management(capsys):
    model = snippet_mlp()
    capsys.readouterr()
    # 训练模式和评估模式
    model.train()  # 启用dropout、batch norm等
    model.eval()   # 禁用dropout、batch norm等

    # 检查模式
    print(f"模型是否在训练模式: {model.training}")

    # 移动到GPU
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    model = model.to(device)

    # 检查模型设备
    print(f"模型设备: {next(model.parameters()).device}")
    assert capsys.readouterr().out == f"模型是否在训练模式: False\n模型设备: {device}\n"
    assert all(not m.training for m in model.modules())


def test_save_and_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = snippet_mlp()
    type(model).__qualname__ = "MLP"  # the tutorial's MLP is a module-level class: pickle finds it by name
    monkeypatch.setattr(sys.modules[__name__], "MLP", type(model), raising=False)
    model.eval()
    x = torch.randn(3, 784)
    expected = numpy_of(model(x))

    # 保存整个模型 (a pickle: opt-in in lamina)
    with pytest.warns(torch.serialization.PickleWarning):
        torch.save(model, 'model.pth', pickle=True)

    # 只保存参数(推荐)
    torch.save(model.state_dict(), 'model_params.pth')

    # 加载模型
    with pytest.warns(torch.serialization.PickleWarning):
        model = torch.load('model.pth', weights_only=False)
    np.testing.assert_array_equal(numpy_of(model(x)), expected)

    # 加载参数
    model = snippet_mlp()  # 先创建模型结构
    model.load_state_dict(torch.load('model_params.pth'))
    model.eval()
    np.testing.assert_array_equal(numpy_of(model(x)), expected)

    # 保存训练状态
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    loss = model(x).pow(2).mean()
    loss.backward()
    optimizer.step()
    epoch = 3
    checkpoint = {
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'epoch': epoch,
        'loss': loss
    }
    torch.save(checkpoint, 'checkpoint.pth')
    loaded = torch.load('checkpoint.pth')
    assert loaded['epoch'] == 3 and loaded['loss'].item() == loss.item()
    restored = snippet_mlp()
    restored.load_state_dict(loaded['model_state_dict'])
    restored_opt = torch.optim.Adam(restored.parameters(), lr=1e-3)
    restored_opt.load_state_dict(loaded['optimizer_state_dict'])
    assert restored_opt.state_dict()['state'][0]['step'] == optimizer.state_dict()['state'][0]['step']
    for p, q in zip(model.parameters(), restored.parameters()):
        np.testing.assert_array_equal(numpy_of(p), numpy_of(q))


# --- 实际应用示例 ---------------------------------------------------------------------------------------
def snippet_image_classifier():
    class ImageClassifier(nn.Module):
        def __init__(self, num_classes=10):
            super(ImageClassifier, self).__init__()
            self.features = nn.Sequential(
                # 第一个卷积块
                nn.Conv2d(3, 32, 3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, 2),

                # 第二个卷积块
                nn.Conv2d(32, 64, 3, padding=1),
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, 2),

                # 第三个卷积块
                nn.Conv2d(64, 128, 3, padding=1),
                nn.BatchNorm2d(128),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, 2),
            )

            self.classifier = nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)),
                nn.Flatten(),
                nn.Linear(128, 256),
                nn.ReLU(inplace=True),
                nn.Dropout(0.5),
                nn.Linear(256, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            x = self.classifier(x)
            return x

    # 测试模型
    model = ImageClassifier(num_classes=10)
    return model


def test_image_classifier(capsys):
    x = torch.randn(32, 3, 32, 32)  # CIFAR-10尺寸
    model = snippet_image_classifier()
    output = model(x)
    print(f"分类输出形状: {output.shape}")  # [32, 10]
    assert capsys.readouterr().out == "分类输出形状: lamina.Size([32, 10])\n"
    check_twin(snippet_image_classifier, lambda: (torch.randn(4, 3, 32, 32, requires_grad=True),), train=False)


def test_image_classifier_train_mode_batch_stats_match_pytorch():
    ours, theirs = snippet_image_classifier(), on_torch(snippet_image_classifier)()
    copy_weights(ours, theirs)
    ours.classifier[4].p = theirs.classifier[4].p = 0.0  # dropout off: the rest of train mode is deterministic
    x = torch.randn(4, 3, 32, 32)
    out, ref = ours(x), theirs(torch_from(x))
    assert_close(out, ref, scaled=True)
    out.sum().backward()
    ref.sum().backward()
    assert_same_grads(ours, theirs, rtol=1e-3)
    for name, buf in ours.named_buffers():
        assert_close(buf, theirs.get_buffer(name), what=name)


def snippet_seq2seq(input_size, hidden_size, output_size, num_layers=2):
    class Seq2Seq(nn.Module):
        def __init__(self, input_size, hidden_size, output_size, num_layers=2):
            super(Seq2Seq, self).__init__()
            self.hidden_size = hidden_size
            self.num_layers = num_layers

            # 编码器
            self.encoder = nn.LSTM(input_size, hidden_size, num_layers,
                                   batch_first=True, dropout=0.1)

            # 解码器
            self.decoder = nn.LSTM(output_size, hidden_size, num_layers,
                                   batch_first=True, dropout=0.1)

            # 输出层
            self.out = nn.Linear(hidden_size, output_size)

        def forward(self, src, tgt):
            # 编码
            encoder_output, (hidden, cell) = self.encoder(src)

            # 解码
            decoder_output, _ = self.decoder(tgt, (hidden, cell))

            # 输出
            output = self.out(decoder_output)

            return output

    return Seq2Seq(input_size, hidden_size, output_size, num_layers)


def test_seq2seq_matches_pytorch_in_eval_mode():
    _, _, out, _ = check_twin(snippet_seq2seq, lambda: (torch.randn(3, 6, 5, requires_grad=True),
                                                        torch.randn(3, 4, 7, requires_grad=True)),
                              args=(5, 16, 7))
    assert tuple(out.shape) == (3, 4, 7)


def test_seq2seq_trains():
    model = snippet_seq2seq(5, 16, 7)
    src, tgt, y = torch.randn(8, 6, 5), torch.randn(8, 4, 7), torch.randn(8, 4, 7)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = F.mse_loss(model(src, tgt), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


# --- 调试技巧 ------------------------------------------------------------------------------------------
def test_model_summary(capsys):
    model = snippet_image_classifier()
    # torchsummary / torchinfo are not lamina; lamina.summary is the torchinfo-style equivalent
    from lamina import summary

    # 打印模型摘要 (torchsummary's form: input size without the batch dimension)
    first = summary(model, input_size=(3, 32, 32), batch_dim=0)
    # 或者使用torchinfo
    second = summary(model, input_size=(32, 3, 32, 32))
    assert first.total_params == second.total_params == n_params(model) == n_params(
        on_torch(snippet_image_classifier)())
    table = capsys.readouterr().out
    assert "Conv2d" in table and "BatchNorm2d" in table and "[32, 10]" in table
    assert model.training  # summary leaves the mode alone


def test_check_gradients(capsys):
    # 检查梯度是否正常
    def check_gradients(model):
        for name, param in model.named_parameters():
            if param.grad is not None:
                grad_norm = param.grad.norm()
                print(f"{name}: 梯度范数 = {grad_norm:.6f}")
            else:
                print(f"{name}: 无梯度")

    model = snippet_image_classifier()
    check_gradients(model)
    assert capsys.readouterr().out.count("无梯度") == len(list(model.parameters()))
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    check_gradients(model)
    lines = capsys.readouterr().out.splitlines()
    norms = [float(ln.split(" = ")[1]) for ln in lines]
    assert len(norms) == len(list(model.parameters())) and all(n >= 0 for n in norms)
    assert norms[0] == pytest.approx(model.features[0].weight.grad.norm().item(), abs=1e-6)


def test_visualize_weights(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))

    def visualize_weights(model, layer_name):
        for name, module in model.named_modules():
            if name == layer_name and isinstance(module, nn.Conv2d):
                weights = module.weight.data
                # 可视化第一个卷积核
                plt.imshow(weights[0, 0].cpu(), cmap='gray')
                plt.title(f'{layer_name} - First Filter')
                plt.show()
                break

    model = snippet_image_classifier()
    visualize_weights(model, "features.0")
    assert len(shown) == 1
    image = shown[0].axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), numpy_of(model.features[0].weight[0, 0]))
    assert shown[0].axes[0].get_title() == "features.0 - First Filter"
    plt.close("all")

