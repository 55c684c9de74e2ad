"""Small test modules built from core pieces only, defined identically for lamina and for PyTorch.

``make(lib)`` returns a namespace of classes for ``lib`` (the ``lamina`` or ``torch`` module), with
the same class names, registration order and ``extra_repr`` in both, so that reprs, state_dict
keys and hook orders can be compared one to one.
"""

from __future__ import annotations

import types


def make(lib):
    nn = lib.nn

    class Affine(nn.Module):
        """y = x * weight + bias (elementwise over the last dim)."""

        def __init__(self, features, bias=True, dtype=None):
            super().__init__()
            self.features = features
            self.weight = nn.Parameter(lib.ones(features, dtype=dtype) * 1.5)
            if bias:
                self.bias = nn.Parameter(lib.zeros(features, dtype=dtype) + 0.25)
            else:
                self.register_parameter("bias", None)
            self.register_buffer("running", lib.zeros(features, dtype=dtype))
            self.register_buffer("scratch", lib.ones(2, dtype=dtype), persistent=False)
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))

        def forward(self, x):
            y = x * self.weight
            return y + self.bias if self.bias is not None else y

        def extra_repr(self):
            return f"features={self.features}, bias={self.bias is not None}"

    class Multi(nn.Module):
        """Two outputs; a multi-line extra_repr."""

        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.tensor([2.0, -1.0, 0.5]))

        def forward(self, x):
            return x * self.scale, (x * x).sum(-1)

        def extra_repr(self):
            return "line one\nline two"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Affine(3)
            self.blocks = nn.Sequential(Affine(3), nn.Identity(), Affine(3, bias=False))
            self.heads = nn.ModuleList([Affine(3) for _ in range(3)] + [Affine(3, bias=False), Affine(3)])
            self.branches = nn.ModuleDict({"b": Multi(), "a": nn.Sequential()})
            self.plist = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
            self.pdict = nn.ParameterDict({"beta": lib.ones(3), "alpha": nn.Parameter(lib.zeros(1))})
            self.register_buffer("stat", lib.zeros(3))
            self.empty = nn.ModuleList()
            self.tied = self.stem  # the same module twice

        def forward(self, x):
            x = self.blocks(self.stem(x))
            for h in self.heads:
                x = h(x)
            a, _ = self.branches["b"](x)
            return a

    class Shared(nn.Module):
        """Shares one Parameter between two children and holds it directly too."""

        def __init__(self):
            super().__init__()
            self.a = Affine(3)
            self.b = Affine(3)
            self.b.weight = self.a.weight
            self.w = self.a.weight
            self.seq = nn.Sequential(self.a, self.b, self.a)

    return types.SimpleNamespace(Affine=Affine, Multi=Multi, Net=Net, Shared=Shared)
