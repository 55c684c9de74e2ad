"""The private helpers real programs call on the conv layers, against torch: Conv*d._conv_forward (weight
standardisation), ConvTranspose*d._output_padding (and forward(output_size=...) through it), the
_ConvNd / _ConvTransposeNd constructors with torch's private signature, _ConvNd.__setstate__."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _layers_basic_torch_parity import compare, copy_params

torch = pytest.importorskip("torch")

SIZES = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}


def _ws_class(lib, n):
    """Weight-standardised Conv{n}d of ``lib`` (torch or lamina), the same source for both."""
    dims = tuple(range(1, n + 2))

    class WS(getattr(lib.nn, f"Conv{n}d")):
        def forward(self, x):
            w = self.weight
            w = (w - w.mean(dim=dims, keepdim=True)) / (w.std(dim=dims, keepdim=True) + 1e-5)
            return self._conv_forward(x, w, self.bias)

    return WS


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("padding_mode, padding", [("zeros", 1), ("reflect", 1), ("replicate", 2),
                                                   ("circular", "same"), ("zeros", "valid")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weight_standardised_conv_matches_torch(n, padding_mode, padding, dtype):
    rng = np.random.default_rng(n)
    kw = dict(padding=padding, padding_mode=padding_mode, groups=2, bias=True)
    lm = _ws_class(lamina, n)(4, 6, 3, dtype=getattr(lamina, dtype), **kw)
    tm = _ws_class(torch, n)(4, 6, 3, dtype=getattr(torch, dtype), **kw)
    copy_params(lm, tm)
    x = rng.standard_normal((2, 4) + SIZES[n]).astype(dtype)
    tol = dict(rtol=1e-7, atol=1e-7) if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    compare(tm, lm, [x], rng, tol=tol, lmod=lm, tmod=tm)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_conv_forward_unbatched_and_plain_forward_agree(padding_mode):
    rng = np.random.default_rng(1)
    lm = lamina.nn.Conv2d(3, 5, 3, padding=1, padding_mode=padding_mode, dtype=lamina.float64)
    tm = torch.nn.Conv2d(3, 5, 3, padding=1, padding_mode=padding_mode, dtype=torch.float64)
    copy_params(lm, tm)
    x = rng.standard_normal((3, 6, 5))
    w = rng.standard_normal((5, 3, 3, 3))
    compare(lambda a, b: tm._conv_forward(a, b, None), lambda a, b: lm._conv_forward(a, b, None), [x, w], rng)
    xl = lamina.tensor(x)
    np.testing.assert_array_equal(lm._conv_forward(xl, lm.weight, lm.bias).detach().numpy(),
                                  lm(xl).detach().numpy())


def test_conv_forward_errors_as_torch():
    lm, tm = lamina.nn.Conv2d(3, 5, 3), torch.nn.Conv2d(3, 5, 3)
    for m, lib in ((tm, torch), (lm, lamina)):
        with pytest.raises(RuntimeError):
            m._conv_forward(lib.randn(1, 4, 6, 6), m.weight, m.bias)   # the weight wants 3 channels


def _both(n, **kw):
    lm = getattr(lamina.nn, f"ConvTranspose{n}d")(4, 6, 3, **kw)
    tm = getattr(torch.nn, f"ConvTranspose{n}d")(4, 6, 3, **kw)
    return lm, tm


@pytest.mark.parametrize("n, stride, padding, dilation, output_padding", [
    (1, 2, 1, 1, 0), (1, 3, 0, 2, 1), (2, (2, 3), (1, 0), 1, (1, 2)), (3, 2, 1, (1, 2, 1), 0)])
@pytest.mark.parametrize("batched", [True, False])
def test_output_padding_matches_torch(n, stride, padding, dilation, output_padding, batched):
    lm, tm = _both(n, stride=stride, padding=padding, dilation=dilation, output_padding=output_padding)
    shape = ((2,) if batched else ()) + (4,) + SIZES[n]
    lx, tx = lamina.zeros(*shape), torch.zeros(*shape)
    args = (lm.stride, lm.padding, lm.kernel_size, n)
    assert lm._output_padding(lx, None, *args) == tm._output_padding(tx, None, *args) == tm.output_padding
    seen = set()
    for dil in (lm.dilation, None):
        d1 = dil or (1,) * n
        lo = [(SIZES[n][d] - 1) * lm.stride[d] - 2 * lm.padding[d] + d1[d] * (lm.kernel_size[d] - 1) + 1
              for d in range(n)]
        for extra in range(max(lm.stride)):
            size = [v + min(extra, s - 1) for v, s in zip(lo, lm.stride)]
            for output_size in (size, tuple(shape[:-n]) + tuple(size)):
                want = tm._output_padding(tx, output_size, *args, dil)
                got = lm._output_padding(lx, output_size, *args, dil)
                assert type(got) is type(want) and got == want, (output_size, dil, got, want)
                seen.add(tuple(want))
            if dil is not None:
                assert tuple(lm(lx, output_size=size).shape) == tuple(tm(tx, output_size=size).shape)
    assert len(seen) > 1 or max(lm.stride) == 1


@pytest.mark.parametrize("output_size, match", [
    ((12, 13), r"requested an output size of \(12, 13\), but valid sizes range from \[7, 9\] to \[8, 10\] "
               r"\(for an input of .*\[4, 5\]\)\)"),
    ([8, 9, 10], r"ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements \(got 3\)"),
    ([6, 10], r"requested an output size of \[6, 10\]"),
])
def test_output_padding_errors_as_torch(output_size, match):
    lm, tm = _both(2, stride=2, padding=1)
    for m, lib in ((tm, torch), (lm, lamina)):
        x = lib.zeros(1, 4, 4, 5)
        with pytest.raises(ValueError, match=match):
            m._output_padding(x, output_size, m.stride, m.padding, m.kernel_size, 2, m.dilation)
        with pytest.raises(ValueError, match=match):
            m(x, output_size=output_size)


@pytest.mark.parametrize("batched", [True, False])
def test_forward_with_output_size_matches_torch_values_and_grads(batched):
    rng = np.random.default_rng(3)
    lm = lamina.nn.ConvTranspose2d(4, 6, 3, stride=(2, 3), padding=1, dtype=lamina.float64)
    tm = torch.nn.ConvTranspose2d(4, 6, 3, stride=(2, 3), padding=1, dtype=torch.float64)
    copy_params(lm, tm)
    shape = ((2,) if batched else ()) + (4, 4, 5)
    for size in ((8, 15), (7, 13)):
        compare(lambda x, size=size: tm(x, output_size=size), lambda x, size=size: lm(x, output_size=size),
                [rng.standard_normal(shape)], rng)


def _quant_style_transpose(lib):
    """A ConvTranspose2d-like layer written on _ConvTransposeNd with torch's private constructor."""
    base = lib.nn.modules.conv._ConvTransposeNd

    class Deconv(base):
        def __init__(self, cin, cout, k, stride, padding, dilation):
            pair = (lambda v: (v, v))
            super().__init__(cin, cout, pair(k), pair(stride), pair(padding), pair(dilation), True, pair(0), 1, True,
                             "zeros")

        def forward(self, x, output_size=None):
            op = self._output_padding(x, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation)
            return lib.nn.functional.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, op,
                                                      self.groups, self.dilation)

    return Deconv


def test_conv_transpose_nd_subclass_with_torch_constructor():
    rng = np.random.default_rng(4)
    lm = _quant_style_transpose(lamina)(3, 5, 3, 2, 1, 1).double()
    tm = _quant_style_transpose(torch)(3, 5, 3, 2, 1, 1).double()
    assert tuple(lm.weight.shape) == tuple(tm.weight.shape) == (3, 5, 3, 3)
    assert lm.transposed is tm.transposed is True
    copy_params(lm, tm)
    compare(lambda x: tm(x, output_size=(10, 8)), lambda x: lm(x, output_size=(10, 8)),
            [rng.standard_normal((2, 3, 5, 4))], rng, lmod=lm, tmod=tm)
    for lib in (torch, lamina):
        with pytest.raises(ValueError, match='"zeros" padding mode'):
            lib.nn.modules.conv._ConvTransposeNd(3, 5, (3,), (1,), (0,), (1,), True, (0,), 1, True, "reflect")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")  # torch's, once
def test_conv_nd_subclass_with_torch_constructor():
    rng = np.random.default_rng(5)

    def make(lib):
        class SameConv(lib.nn.modules.conv._ConvNd):
            def __init__(self, cin, cout):
                super().__init__(cin, cout, (3, 2), (1, 1), "same", (2, 1), False, (0, 0), 1, False, "zeros",
                                 dtype=lib.float64)

            def forward(self, x):
                return lib.nn.functional.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

        return SameConv(3, 4)

    lm, tm = make(lamina), make(torch)
    for attr in ("kernel_size", "stride", "padding", "dilation", "transposed", "output_padding", "groups",
                 "padding_mode", "_reversed_padding_repeated_twice"):
        want = getattr(tm, attr)
        assert getattr(lm, attr) == (tuple(want) if isinstance(want, list) else want), attr
    assert lm.bias is None and tuple(lm.weight.shape) == tuple(tm.weight.shape) == (4, 3, 3, 2)
    assert repr(lm) == repr(tm)
    copy_params(lm, tm)
    compare(tm, lm, [rng.standard_normal((2, 3, 6, 5))], rng, lmod=lm, tmod=tm)


def test_setstate_restores_padding_mode():
    for lib in (torch, lamina):
        m = lib.nn.Conv2d(2, 3, 3)
        state = dict(m.__dict__)
        del state["padding_mode"]          # a module pickled by an old version
        fresh = lib.nn.Conv2d.__new__(lib.nn.Conv2d)
        fresh.__setstate__(state)
        assert fresh.padding_mode == "zeros"
        y = fresh(lib.ones(1, 2, 4, 4))
        assert tuple(y.shape) == (1, 3, 2, 2)
