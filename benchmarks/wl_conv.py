"""Convolutional workloads: the tutorial MNIST ConvNet, a CIFAR-style net with BatchNorm, and a net of
strided, grouped, depthwise and 1x1 convolutions."""

from __future__ import annotations

from typing import Any

from _bench_util import Bench, framework, infer_bench, inputs, load_weights, to_tensor, train_bench


def convnet(lib: Any) -> Any:
    """Conv 1->32->64 (3x3, pad 1) + ReLU + MaxPool 2, then Linear 3136->128->10 with Dropout 0.5."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    )


def cifar_net(lib: Any) -> Any:
    """(conv-bn-relu) x2, maxpool, (conv-bn-relu) x2, maxpool, linear: 3x32x32 -> 10."""
    nn = lib.nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(3, 32), *block(32, 32), nn.MaxPool2d(2),
        *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
    )


def strided_grouped_net(lib: Any) -> Any:
    """Stride-2 grouped, depthwise and pointwise convolutions (MobileNet-like): 3x32x32 -> 10."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1, groups=4), nn.ReLU(),        # 16x16
        nn.Conv2d(64, 64, 3, padding=1, groups=64), nn.ReLU(),                  # depthwise
        nn.Conv2d(64, 128, 1), nn.ReLU(),                                       # pointwise
        nn.Conv2d(128, 128, 3, stride=2, padding=1, groups=8), nn.ReLU(),       # 8x8
        nn.Flatten(), nn.Linear(128 * 8 * 8, 10),
    )


def convnet_train(fw: str, batch: int = 64) -> Bench:
    lib = framework(fw)
    model = convnet(lib)
    load_weights(lib, model, 3)
    xa, ya = inputs(4, (batch, 1, 28, 28), classes=10)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    ce = lib.nn.CrossEntropyLoss()
    return train_bench(lib, model, model, lambda out: ce(out, y), opt, x)


def convnet_infer(fw: str, batch: int = 64) -> Bench:
    lib = framework(fw)
    model = convnet(lib)
    load_weights(lib, model, 3)
    xa, _ = inputs(4, (batch, 1, 28, 28))
    return infer_bench(lib, model, to_tensor(lib, xa))


def cifar_train(fw: str, batch: int = 32) -> Bench:
    lib = framework(fw)
    model = cifar_net(lib)
    load_weights(lib, model, 5)
    xa, ya = inputs(6, (batch, 3, 32, 32), classes=10)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ce = lib.nn.CrossEntropyLoss()
    return train_bench(lib, model, model, lambda out: ce(out, y), opt, x)


def strided_grouped_train(fw: str, batch: int = 32) -> Bench:
    lib = framework(fw)
    model = strided_grouped_net(lib)
    load_weights(lib, model, 7)
    xa, ya = inputs(8, (batch, 3, 32, 32), classes=10)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ce = lib.nn.CrossEntropyLoss()
    return train_bench(lib, model, model, lambda out: ce(out, y), opt, x)
