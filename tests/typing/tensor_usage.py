"""Checked by mypy (tests/test_typing.py): everyday lamina code, typed as a PyTorch user writes it."""

from __future__ import annotations

import lamina
from lamina import Tensor, nn, optim

x: Tensor = lamina.randn(4, 3)
w: Tensor = lamina.randn(3, 2, requires_grad=True)

a: Tensor = x.relu()
b: Tensor = x + 1
c: Tensor = 2 * x - x / 3
d: Tensor = x @ w
e: Tensor = x.sum(dim=0).mean()
f: Tensor = x[0, 1:]
g: Tensor = x.T.reshape(-1).softmax(0)
h: Tensor = x.add_(1).mul_(0.5)
n: int = x.ndim
s: lamina.Size = x.shape
ok: bool = bool((x > 0).all())
v: float = float(x.max())

model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
layer = lamina.nn.Linear(3, 2)
y: Tensor = layer(x)
model(x).sum().backward()
opt = optim.SGD(model.parameters(), lr=0.1)
opt.zero_grad()
opt.step()
params: list[nn.Parameter] = list(model.parameters())

# mypy's reveal_type notes are read back by tests/test_typing.py (this file is checked, never run)
reveal_type(x.relu())  # noqa: F821  expect: Tensor
reveal_type(x + 1)  # noqa: F821  expect: Tensor
reveal_type(x @ w)  # noqa: F821  expect: Tensor
reveal_type(x.sum())  # noqa: F821  expect: Tensor
reveal_type(lamina.relu(x))  # noqa: F821  expect: Tensor
reveal_type(x.exp_())  # noqa: F821  expect: Tensor
reveal_type(x.shape)  # noqa: F821  expect: Size
reveal_type(x.device)  # noqa: F821  expect: device
reveal_type(lamina.nn.Parameter(x) * 2)  # noqa: F821  expect: Tensor
