"""lamina.nn.utils.init.skip_init, lamina.nn.utils.stateless.functional_call and
lamina.nn.utils.memory_format's converters against torch's: structure, values, warnings and errors."""

from __future__ import annotations

import importlib

import lamina
import numpy as np
import pytest
import torch

LI, TI = (importlib.import_module(f"{p}.nn.utils.init") for p in ("lamina", "torch"))
LST, TST = (importlib.import_module(f"{p}.nn.utils.stateless") for p in ("lamina", "torch"))
LMF, TMF = (importlib.import_module(f"{p}.nn.utils.memory_format") for p in ("lamina", "torch"))

STATELESS_WARNING = (r"^`torch\.nn\.utils\.stateless\.functional_call` is deprecated as of PyTorch 2\.0 and will be "
                     r"removed in a future version of PyTorch\. Please use `torch\.func\.functional_call` instead "
                     r"which is a drop-in replacement\.$")


def _np(t):
    return np.asarray(t.detach().numpy())


def _structure(m):
    return ([(n, tuple(p.shape), str(p.dtype).rpartition(".")[2], p.device.type, p.requires_grad, type(p).__name__)
             for n, p in m.named_parameters()],
            [(n, tuple(b.shape), str(b.dtype).rpartition(".")[2]) for n, b in m.named_buffers()])


# --- skip_init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,args,kwargs", [
    ("Linear", (3, 4), {}),
    ("Linear", (3, 4), {"bias": False, "dtype": "float64"}),
    ("Conv2d", (2, 5, 3), {"device": "cpu", "padding": 1}),
    ("BatchNorm1d", (6,), {"affine": False}),
    ("Embedding", (10, 3), {"padding_idx": 0}),
])
def test_skip_init_structure_matches_torch(cls, args, kwargs):
    def build(ns):
        kw = {k: getattr(ns, v) if k == "dtype" else v for k, v in kwargs.items()}
        return (TI if ns is torch else LI).skip_init(getattr(ns.nn, cls), *args, **kw)

    lm, tm = build(lamina), build(torch)
    assert type(lm) is getattr(lamina.nn, cls)
    assert _structure(lm) == _structure(tm)
    assert repr(lm) == repr(tm)
    assert lm.training
    x = lamina.ones(2, 6) if cls == "BatchNorm1d" else None
    if x is not None:
        assert lm(x).shape == (2, 6)


def test_skip_init_passes_the_final_device():
    seen = []

    class Recorder(lamina.nn.Module):
        def __init__(self, n, device=None):
            super().__init__()
            seen.append(device)
            self.w = lamina.nn.Parameter(lamina.ones(n, device=device))

    assert tuple(LI.skip_init(Recorder, 2).w.shape) == (2,)
    assert LI.skip_init(Recorder, 3, device="cpu").w.device.type == "cpu"
    assert seen == ["cpu", "cpu"]  # torch's default target too (it builds on 'meta', then moves there)


def test_skip_init_errors_match_torch():
    class NoDevice(lamina.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.w = lamina.nn.Parameter(lamina.ones(n))

    class TorchNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(n))

    for mod, no_device in ((LI, NoDevice), (TI, TorchNoDevice)):
        with pytest.raises(RuntimeError, match="^Module must support a 'device' arg to skip initialization$"):
            mod.skip_init(no_device, 3)
        with pytest.raises(RuntimeError, match="^Expected a Module; got <class 'int'>$"):
            mod.skip_init(int)
        with pytest.raises(TypeError, match="must be a class"):
            mod.skip_init(3)


# --- stateless.functional_call -----------------------------------------------------------------------
class _Tied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(2, 2, dtype=torch.float64)
        self.b = torch.nn.Linear(2, 2, bias=False, dtype=torch.float64)
        self.b.weight = self.a.weight  # tied: b.weight is a.weight

    def forward(self, x, scale=1.0):
        return self.b(self.a(x)) * scale


class _LTied(lamina.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = lamina.nn.Linear(2, 2, dtype=lamina.float64)
        self.b = lamina.nn.Linear(2, 2, bias=False, dtype=lamina.float64)
        self.b.weight = self.a.weight  # tied: b.weight is a.weight

    def forward(self, x, scale=1.0):
        return self.b(self.a(x)) * scale


def _tied_pair():
    lm, tm = _LTied(), _Tied()
    with lamina.no_grad():
        lm.a.weight.copy_(lamina.tensor(_np(tm.a.weight)))
        lm.a.bias.copy_(lamina.tensor(_np(tm.a.bias)))
    return lm, tm


@pytest.mark.parametrize("tie_weights", [True, False])
def test_functional_call_values_gradients_and_warning(tie_weights):
    lm, tm = _tied_pair()
    w = np.array([[2.0, 0.5], [-1.0, 1.5]])
    lw, tw = lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    with pytest.warns(FutureWarning, match=STATELESS_WARNING):
        lo = LST.functional_call(lm, {"a.weight": lw}, lamina.tensor(x), {"scale": 3.0}, tie_weights=tie_weights)
    with pytest.warns(FutureWarning, match=STATELESS_WARNING):
        to = TST.functional_call(tm, {"a.weight": tw}, torch.tensor(x), {"scale": 3.0}, tie_weights=tie_weights)
    np.testing.assert_allclose(_np(lo), _np(to), rtol=1e-12)
    lo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(_np(lw.grad), _np(tw.grad), rtol=1e-12)
    assert lm.a.weight is lm.b.weight and not np.allclose(_np(lm.a.weight), w)  # restored afterwards
    assert tm.a.weight is tm.b.weight and np.allclose(_np(lm.a.weight), _np(tm.a.weight))
    with pytest.warns(FutureWarning, match=STATELESS_WARNING):  # args as a tuple, kwargs None
        lo = LST.functional_call(lm, {"a.bias": lamina.zeros(2, dtype=lamina.float64)}, (lamina.tensor(x),))
    with pytest.warns(FutureWarning, match=STATELESS_WARNING):
        to = TST.functional_call(tm, {"a.bias": torch.zeros(2, dtype=torch.float64)}, (torch.tensor(x),))
    np.testing.assert_allclose(_np(lo), _np(to), rtol=1e-12)


def test_functional_call_errors_match_torch():
    lin_l, lin_t = lamina.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    msgs = []
    for mod, lin, ns in ((LST, lin_l, lamina), (TST, lin_t, torch)):
        with pytest.warns(FutureWarning, match=STATELESS_WARNING), pytest.raises(RuntimeError) as err:
            mod.functional_call(lin, {"weight": ns.zeros(3, 2)}, ns.ones(1, 2), strict=True)
        msgs.append(str(err.value))
        with pytest.warns(FutureWarning, match=STATELESS_WARNING), \
                pytest.raises(AttributeError, match="^'tuple' object has no attribute 'keys'$"):
            mod.functional_call(lin, ({"weight": ns.zeros(3, 2)},), ns.ones(1, 2))
    assert msgs[0] == msgs[1] == "Error(s) in reparametrizing for Linear:\n\tMissing key(s): 'bias'."


# --- memory_format --------------------------------------------------------------------------------
def _conv_net(ns):
    return ns.nn.Sequential(ns.nn.Conv2d(2, 3, 2), ns.nn.Sequential(ns.nn.ConvTranspose2d(3, 2, 2), ns.nn.ReLU()),
                            ns.nn.Conv3d(1, 2, 2), ns.nn.Linear(2, 2))


@pytest.mark.parametrize("fmt", [torch.contiguous_format, None])
@pytest.mark.parametrize("which", ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"])
def test_convert_keeps_parameters_and_values(which, fmt):
    net = _conv_net(lamina)
    params = list(net.parameters())
    values = [_np(p).copy() for p in params]
    assert getattr(LMF, which)(net, fmt) is net
    after = list(net.parameters())
    assert all(a is b for a, b in zip(after, params, strict=True))  # the same Parameters (optimizers keep them)
    for p, v in zip(after, values, strict=True):
        np.testing.assert_array_equal(_np(p), v)
        assert p.is_contiguous()
    tnet = _conv_net(torch)
    assert getattr(TMF, which)(tnet, fmt) is tnet


def test_convert_weight_data_replaced_only_for_its_convs():
    net = _conv_net(lamina)
    old = [m.weight.data for m in (net[0], net[1][0], net[2], net[3])]
    LMF.convert_conv2d_weight_memory_format(net, torch.contiguous_format)
    new = [m.weight.data for m in (net[0], net[1][0], net[2], net[3])]
    with lamina.no_grad():
        for t in old:
            t.add_(1.0)  # the converted weights no longer share the old data
    changed = [not np.array_equal(_np(n), _np(o)) for n, o in zip(new, old, strict=True)]
    assert changed == [True, True, False, False]


def test_convert_errors():
    net, tnet = _conv_net(lamina), _conv_net(torch)
    for which in ("convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"):
        for mod, model in ((LMF, net), (TMF, tnet)):  # resize_ refuses preserve_format once a conv is met
            with pytest.raises(RuntimeError, match="^Unsupported memory formatPreserve$"):
                getattr(mod, which)(model, torch.preserve_format)
            assert getattr(mod, which)(model[3], torch.preserve_format) is model[3]  # no conv: returned as is
        with pytest.raises(NotImplementedError, match="lamina tensors are always contiguous; only memory_format="
                                                      "contiguous_format or preserve_format is supported, got "
                                                      "torch.channels_last"):
            getattr(LMF, which)(net, torch.channels_last)
        with pytest.raises(TypeError, match="must be torch.memory_format, not str"):
            getattr(LMF, which)(net, "channels_last")
        with pytest.raises(TypeError, match="must be torch.memory_format, not str"):
            getattr(TMF, which)(tnet, "channels_last")
