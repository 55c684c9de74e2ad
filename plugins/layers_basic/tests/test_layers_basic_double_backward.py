"""Double backward (create_graph=True) through every sliding-window, padding, resampling and lookup op:
gradgradcheck in float64, and second derivatives against PyTorch's (a gradient taken with
create_graph=True, then differentiated again with respect to the inputs and the output gradient);
a WGAN-GP gradient penalty on a small ConvNet critic against PyTorch's; third derivatives of a
convolution; the ordinary backward's values are unchanged by the create_graph path."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import copy_params
from lamina.testing import gradgradcheck

F64 = dict(rtol=1e-7, atol=1e-8)
# torch notes that an asymmetric padding='same' pads a copy of the input (the conv2d-same case wants exactly that)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")

# (id, F name, kwargs, inputs): an input is ("f", shape) a float64 input that gets gradients, ("p", shape) a
# positive one, ("g", shape) a sampling grid in [-1.1, 1.1], ("i", array) an integer constant
IX = np.array([[1, 3, 0, 3], [4, 4, 9, 2]])
FLAT_IX, OFFSETS = np.array([1, 3, 0, 4, 4, 9, 2]), np.array([0, 2, 2, 5])
# each input position's index inside its own 2x2 window of the (4, 6) output
UNPOOL_IX = (np.arange(2)[:, None] * 12 + np.arange(3) * 2) + np.array([[[0, 1, 6], [7, 0, 1]], [[6, 7, 0], [1, 6, 7]]])
UNPOOL_IX = UNPOOL_IX[None]
CASES = [
    ("conv1d-s2-g2", "conv1d", dict(stride=2, padding=1, groups=2), [("f", (2, 4, 9)), ("f", (6, 2, 3)), ("f", (6,))]),
    ("conv1d-same-dil", "conv1d", dict(padding="same", dilation=2), [("f", (2, 3, 7)), ("f", (2, 3, 4))]),
    ("conv2d-pad1", "conv2d", dict(padding=1), [("f", (2, 3, 5, 4)), ("f", (4, 3, 3, 2)), ("f", (4,))]),
    ("conv2d-stride-dil-g2", "conv2d", dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
     [("f", (2, 4, 7, 6)), ("f", (6, 2, 2, 3))]),
    ("conv2d-depthwise", "conv2d", dict(padding=1, groups=3), [("f", (2, 3, 5, 5)), ("f", (3, 1, 3, 3))]),
    ("conv2d-same", "conv2d", dict(padding="same"), [("f", (1, 2, 4, 5)), ("f", (3, 2, 2, 3)), ("f", (3,))]),
    ("conv2d-1x1-s2", "conv2d", dict(stride=2), [("f", (2, 3, 5, 4)), ("f", (4, 3, 1, 1))]),
    ("conv2d-unbatched", "conv2d", dict(padding=1), [("f", (2, 4, 4)), ("f", (3, 2, 3, 3))]),
    ("conv3d", "conv3d", dict(stride=(1, 2, 1), padding=1), [("f", (1, 2, 4, 5, 3)), ("f", (3, 2, 2, 2, 2))]),
    ("conv_transpose1d-dil", "conv_transpose1d", dict(stride=2, dilation=2), [("f", (2, 4, 5)), ("f", (4, 3, 3))]),
    ("conv_transpose2d-op-g2", "conv_transpose2d", dict(stride=2, padding=1, output_padding=1, groups=2),
     [("f", (2, 4, 3, 4)), ("f", (4, 3, 3, 2)), ("f", (6,))]),
    ("conv_transpose3d", "conv_transpose3d", dict(stride=(2, 1, 1), padding=(0, 1, 0)),
     [("f", (1, 2, 3, 3, 2)), ("f", (2, 2, 2, 3, 2))]),
    ("unfold", "unfold", dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [("f", (2, 3, 5, 6))]),
    ("fold", "fold", dict(output_size=(4, 5), kernel_size=2, stride=(1, 2)), [("f", (2, 12, 6))]),
    ("fold-pad-dil", "fold", dict(output_size=(4, 5), kernel_size=2, padding=1, dilation=2), [("f", (2, 8, 20))]),
    ("max_pool1d-dil", "max_pool1d", dict(kernel_size=2, dilation=2), [("f", (3, 7))]),
    ("max_pool2d-ceil-pad", "max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
     [("f", (2, 3, 7, 6))]),
    ("max_pool2d-tiling", "max_pool2d", dict(kernel_size=2), [("f", (2, 3, 4, 6))]),
    ("max_pool3d-indices", "max_pool3d", dict(kernel_size=2, return_indices=True), [("f", (1, 2, 4, 4, 3))]),
    ("avg_pool1d", "avg_pool1d", dict(kernel_size=3, stride=2, padding=1), [("f", (2, 3, 8))]),
    ("avg_pool2d-ceil-nopad", "avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                 count_include_pad=False), [("f", (2, 3, 7, 6))]),
    ("avg_pool2d-divisor", "avg_pool2d", dict(kernel_size=2, divisor_override=3), [("f", (2, 3, 5, 4))]),
    ("avg_pool3d", "avg_pool3d", dict(kernel_size=2, stride=1, padding=1), [("f", (1, 2, 3, 4, 3))]),
    ("lp_pool1d", "lp_pool1d", dict(norm_type=2.0, kernel_size=2), [("f", (2, 3, 6))]),
    ("lp_pool2d", "lp_pool2d", dict(norm_type=3.0, kernel_size=2, stride=1), [("p", (2, 2, 4, 5))]),
    ("adaptive_max_pool1d", "adaptive_max_pool1d", dict(output_size=4), [("f", (2, 3, 7))]),
    ("adaptive_max_pool2d", "adaptive_max_pool2d", dict(output_size=(3, 2), return_indices=True),
     [("f", (2, 3, 7, 6))]),
    ("adaptive_max_pool3d", "adaptive_max_pool3d", dict(output_size=2), [("f", (1, 2, 4, 5, 3))]),
    ("adaptive_avg_pool2d", "adaptive_avg_pool2d", dict(output_size=(3, 4)), [("f", (2, 2, 7, 6))]),
    ("max_unpool2d", "max_unpool2d", dict(kernel_size=2), [("f", (1, 2, 2, 3)), ("i", UNPOOL_IX)]),
    ("pad-constant", "pad", dict(pad=(1, -1, 2, 0), value=1.5), [("f", (2, 3, 4))]),
    ("pad-reflect1d", "pad", dict(pad=(2, 1), mode="reflect"), [("f", (2, 3, 5))]),
    ("pad-reflect2d", "pad", dict(pad=(1, 2, 3, 0), mode="reflect"), [("f", (2, 3, 4, 5))]),
    ("pad-replicate3d", "pad", dict(pad=(1, 2, 0, 1, 2, 1), mode="replicate"), [("f", (1, 2, 3, 4, 3))]),
    ("pad-circular2d", "pad", dict(pad=(1, 2, -1, 2), mode="circular"), [("f", (2, 3, 4, 5))]),
    ("pad-circular3d", "pad", dict(pad=(1, 1, 2, 0, 1, 1), mode="circular"), [("f", (1, 2, 3, 4, 3))]),
    ("interpolate-nearest", "interpolate", dict(scale_factor=2), [("f", (2, 3, 3, 4))]),
    ("interpolate-nearest-exact", "interpolate", dict(size=(5, 7), mode="nearest-exact"), [("f", (2, 3, 3, 4))]),
    ("interpolate-linear", "interpolate", dict(size=7, mode="linear"), [("f", (2, 3, 4))]),
    ("interpolate-linear-ac", "interpolate", dict(size=7, mode="linear", align_corners=True), [("f", (2, 3, 4))]),
    ("interpolate-bilinear", "interpolate", dict(scale_factor=1.5, mode="bilinear"), [("f", (2, 3, 4, 5))]),
    ("interpolate-bilinear-ac", "interpolate", dict(size=(6, 3), mode="bilinear", align_corners=True),
     [("f", (2, 3, 4, 5))]),
    ("interpolate-bicubic", "interpolate", dict(scale_factor=1.7, mode="bicubic"), [("f", (2, 2, 3, 4))]),
    ("interpolate-bicubic-ac", "interpolate", dict(size=(5, 2), mode="bicubic", align_corners=True),
     [("f", (1, 2, 4, 3))]),
    ("interpolate-trilinear", "interpolate", dict(size=(3, 4, 5), mode="trilinear"), [("f", (1, 2, 2, 3, 4))]),
    ("interpolate-area", "interpolate", dict(size=(3, 2), mode="area"), [("f", (2, 3, 7, 5))]),
    ("embedding", "embedding", {}, [("i", IX), ("f", (10, 3))]),
    ("embedding-padding-freq", "embedding", dict(padding_idx=3, scale_grad_by_freq=True), [("i", IX), ("f", (10, 3))]),
    ("embedding-max_norm", "embedding", dict(max_norm=1.0), [("i", IX), ("f", (10, 3))]),
    ("embedding_bag-mean", "embedding_bag", {}, [("i", IX), ("f", (10, 3))]),
    ("embedding_bag-sum-offsets", "embedding_bag", dict(mode="sum"),
     [("i", FLAT_IX), ("f", (10, 3)), ("i", OFFSETS)]),
    ("embedding_bag-max", "embedding_bag", dict(mode="max"), [("i", FLAT_IX), ("f", (10, 3)), ("i", OFFSETS)]),
    ("embedding_bag-psw", "embedding_bag", dict(mode="sum", per_sample_weights="f"),
     [("i", IX), ("f", (10, 3)), ("f", (2, 4))]),
    ("embedding_bag-mean-padding", "embedding_bag", dict(padding_idx=3), [("i", IX), ("f", (10, 3))]),
    ("pixel_shuffle", "pixel_shuffle", dict(upscale_factor=2), [("f", (2, 8, 3, 4))]),
    ("pixel_unshuffle", "pixel_unshuffle", dict(downscale_factor=2), [("f", (2, 3, 4, 6))]),
]
CASES += [(f"grid_sample-{m}-{p}-{a}", "grid_sample", dict(mode=m, padding_mode=p, align_corners=a),
           [("f", (2, 2, 4, 5)), ("g", (2, 3, 2, 2))])
          for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection") for a in (False, True)]
CASES += [("grid_sample-3d", "grid_sample", dict(align_corners=False),
           [("f", (1, 2, 3, 4, 3)), ("g", (1, 2, 2, 2, 3))])]


def _arrays(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind, v in specs:
        if kind == "i":
            out.append(np.asarray(v, dtype=np.int64))
        elif kind == "g":
            out.append(rng.uniform(-1.1, 1.1, v))
        elif kind == "p":
            out.append(rng.uniform(0.5, 2.0, v))
        else:
            out.append(rng.standard_normal(v))
    return out


def _call(mod, name, kwargs, specs, tensors):
    """``mod.<name>`` on ``tensors`` (a per_sample_weights='f' kwarg takes the last input); the first output."""
    kw = dict(kwargs)
    args = list(tensors)
    if kw.get("per_sample_weights") == "f":
        kw["per_sample_weights"] = args.pop()
    if name == "embedding_bag" and len(args) == 3:
        kw["offsets"] = args.pop()
    y = getattr(mod, name)(*args, **kw)
    return y[0] if isinstance(y, tuple) else y


def _grad_positions(specs):
    return [i for i, (kind, _) in enumerate(specs) if kind in ("f", "p", "g")]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(case):
    _, name, kwargs, specs = case
    arrays = _arrays(specs, 0)
    diff = _grad_positions(specs)
    tensors = [lamina.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]

    def fn(*xs):
        full = list(tensors)
        for i, x in zip(diff, xs):
            full[i] = x
        return _call(F, name, kwargs, specs, full)

    assert gradgradcheck(fn, tuple(tensors[i] for i in diff))


def _second_derivatives(lib, fmod, name, kwargs, specs, arrays, v, u):
    """y = f(inputs); g = d(y . v)/d inputs with create_graph; the gradient of sum_i g_i . u_i with respect
    to the inputs and to v (zeros where unused); also y and g."""
    diff = _grad_positions(specs)
    tensors = [lib.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    y = _call(fmod, name, kwargs, specs, tensors)
    vt = lib.tensor(v, requires_grad=True)
    xs = [tensors[i] for i in diff]
    gs = lib.autograd.grad((y * vt).sum(), xs, create_graph=True)
    total = sum((g * lib.tensor(w)).sum() for g, w in zip(gs, u))
    wrt = xs + [vt]
    second = lib.autograd.grad(total, wrt, allow_unused=True)
    second = [np.zeros(tuple(t.shape)) if s is None else s.detach().numpy() for s, t in zip(second, wrt)]
    return y.detach().numpy(), [g.detach().numpy() for g in gs], second


#: PyTorch implements no double backward for embedding_bag, and its embedding's double backward leaves out
#: scale_grad_by_freq's 1 / count (so it is not the derivative of its own first derivative): these cases are
#: checked against finite differences only (test_gradgradcheck)
NO_TORCH_DOUBLE = {"embedding-padding-freq", "embedding_bag-mean", "embedding_bag-sum-offsets", "embedding_bag-max",
                   "embedding_bag-psw", "embedding_bag-mean-padding"}
TORCH_CASES = [c for c in CASES if c[0] not in NO_TORCH_DOUBLE] + [
    ("embedding-padding", "embedding", dict(padding_idx=3), [("i", IX), ("f", (10, 3))])]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_second_derivatives_match_torch(case):
    torch = pytest.importorskip("torch")
    cid, name, kwargs, specs = case
    arrays = _arrays(specs, 1)
    rng = np.random.default_rng(2)
    y_shape = tuple(_call(F, name, kwargs, specs, [lamina.tensor(a) for a in arrays]).shape)
    v = rng.standard_normal(y_shape)
    u = [rng.standard_normal(arrays[i].shape) for i in _grad_positions(specs)]
    ly, lg, ls = _second_derivatives(lamina, F, name, kwargs, specs, arrays, v, u)
    ty, tg, ts = _second_derivatives(torch, torch.nn.functional, name, kwargs, specs, arrays, v, u)
    np.testing.assert_allclose(ly, ty, **F64, err_msg=f"{cid}: output")
    for k, (a, b) in enumerate(zip(lg, tg)):
        np.testing.assert_allclose(a, b, **F64, err_msg=f"{cid}: first derivative {k}")
    for k, (a, b) in enumerate(zip(ls, ts)):
        np.testing.assert_allclose(a, b, **F64, err_msg=f"{cid}: second derivative {k}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_double_backward_dtypes(dtype):
    """The create_graph gradients keep the input's dtype."""
    rng = np.random.default_rng(3)
    x = lamina.tensor(rng.standard_normal((2, 3, 6, 5)).astype(dtype), requires_grad=True)
    w = lamina.tensor(rng.standard_normal((4, 3, 3, 3)).astype(dtype), requires_grad=True)
    y = F.max_pool2d(F.interpolate(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w), scale_factor=2), 2)
    gx, gw = lamina.autograd.grad((y ** 2).sum(), (x, w), create_graph=True)
    assert gx.dtype == gw.dtype == getattr(lamina, dtype)
    hx, hw = lamina.autograd.grad((gx.sum() + gw.sum()), (x, w))
    assert hx.dtype == hw.dtype == getattr(lamina, dtype)
    assert bool(lamina.isfinite(hx).all()) and bool(lamina.isfinite(hw).all())


def test_third_derivative_of_conv_matches_torch():
    """Gradients of gradients of gradients: the composite form is differentiable to any order."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    xa, wa = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))
    out = []
    for lib, fmod in ((lamina, F), (torch, torch.nn.functional)):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        y = fmod.conv2d(x, w, stride=(2, 1), padding=1)
        (gx,) = lib.autograd.grad((y ** 3).sum(), (x,), create_graph=True)
        (gw,) = lib.autograd.grad((gx ** 2).sum(), (w,), create_graph=True)
        gx3, gw3 = lib.autograd.grad((gw * gw).sum(), (x, w))
        out.append([gx3.detach().numpy(), gw3.detach().numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-6)


def _critic(lib):
    m = lib.nn
    return m.Sequential(m.Conv2d(3, 8, 3, padding=1), m.LeakyReLU(0.2), m.AvgPool2d(2),
                        m.Conv2d(8, 4, 3, stride=2, padding=1, padding_mode="reflect"), m.LeakyReLU(0.2),
                        m.MaxPool2d(2, ceil_mode=True), m.Flatten(), m.Linear(4 * 2 * 2, 1))


def _wgan_gp_step(lib, critic, real, fake, eps):
    real, fake = lib.tensor(real), lib.tensor(fake)
    mix = (lib.tensor(eps) * real + (1 - lib.tensor(eps)) * fake).requires_grad_(True)
    (g,) = lib.autograd.grad(critic(mix).sum(), (mix,), create_graph=True)
    penalty = ((g.reshape(g.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    loss.backward()
    return float(loss.detach()), float(penalty.detach())


def test_wgan_gp_gradient_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    lc = _critic(lamina).double()
    tc = _critic(torch).double()
    copy_params(lc, tc)
    real, fake = rng.standard_normal((4, 3, 12, 12)), rng.standard_normal((4, 3, 12, 12))
    eps = rng.uniform(size=(4, 1, 1, 1))
    l_loss, l_pen = _wgan_gp_step(lamina, lc, real, fake, eps)
    t_loss, t_pen = _wgan_gp_step(torch, tc, real, fake, eps)
    assert l_pen > 0
    np.testing.assert_allclose([l_loss, l_pen], [t_loss, t_pen], rtol=1e-9)
    tparams = dict(tc.named_parameters())
    for pname, p in lc.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[pname].grad.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=pname)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_layer_padding_modes(mode):
    """nn.Conv2d / Conv1d with each padding_mode: gradgradcheck, and a Hessian-vector product vs torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for n, shape in ((2, (2, 2, 4, 5)), (1, (2, 2, 6))):
        lamina.manual_seed(n)
        m = getattr(nn, f"Conv{n}d")(2, 3, 3, padding=(1, 2)[:n], padding_mode=mode).double()
        tm = getattr(torch.nn, f"Conv{n}d")(2, 3, 3, padding=(1, 2)[:n], padding_mode=mode).double()
        copy_params(m, tm)
        xa = rng.standard_normal(shape)
        x = lamina.tensor(xa, requires_grad=True)
        assert gradgradcheck(lambda t, w, b, m=m: m(t), (x, m.weight, m.bias))
        out = []
        for lib, mod in ((lamina, m), (torch, tm)):
            t = lib.tensor(xa, requires_grad=True)
            (g,) = lib.autograd.grad((mod(t) ** 2).sum(), (t,), create_graph=True)
            hvp = lib.autograd.grad((g * lib.tensor(np.cos(xa))).sum(), (t, mod.weight, mod.bias))
            out.append([h.detach().numpy() for h in hvp])
        for a, b in zip(*out):
            np.testing.assert_allclose(a, b, **F64)


def test_ordinary_backward_unchanged_and_no_graph_kept():
    """Without create_graph the array kernels run: gradients carry no graph, and equal the create_graph ones."""
    rng = np.random.default_rng(7)
    xa, wa = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    grads = []
    for create in (False, True):
        x, w = lamina.tensor(xa, requires_grad=True), lamina.tensor(wa, requires_grad=True)
        y = F.avg_pool2d(F.conv2d(x, w, stride=2, padding=1), 2, ceil_mode=True)
        gx, gw = lamina.autograd.grad((y ** 2).sum(), (x, w), create_graph=create)
        assert gx.requires_grad == create and gw.requires_grad == create
        grads.append([gx.detach().numpy(), gw.detach().numpy()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


EDGE = [
    ("empty-batch-conv", lambda fm, x, w: fm.conv2d(x, w, padding=1), [(0, 3, 4, 4), (2, 3, 3, 3)]),
    ("empty-batch-max_pool", lambda fm, x: fm.max_pool2d(x, 2), [(0, 3, 4, 4)]),
    ("empty-batch-avg_pool", lambda fm, x: fm.avg_pool2d(x, 2, padding=1), [(0, 2, 3, 3)]),
    ("non-contiguous-conv", lambda fm, x, w: fm.conv2d(x.transpose(2, 3), w, stride=2), [(2, 3, 5, 6), (2, 3, 3, 2)]),
    ("non-contiguous-pad", lambda fm, x: fm.pad(x.transpose(2, 3), (1, 2, 2, 1), mode="reflect") ** 2, [(2, 3, 5, 6)]),
    ("non-contiguous-interpolate", lambda fm, x: fm.interpolate(x[:, :, ::2], scale_factor=2, mode="bilinear") ** 2,
     [(2, 3, 6, 4)]),
]


@pytest.mark.parametrize("fn, shapes", [e[1:] for e in EDGE], ids=[e[0] for e in EDGE])
def test_double_backward_edge_inputs_match_torch(fn, shapes):
    """Empty batches and non-contiguous inputs: the Hessian-weighted gradient sum(g * g)' matches torch's
    (PyTorch gives None where nothing flows; lamina zeros)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s) for s in shapes]
    out = []
    for lib, fmod in ((lamina, F), (torch, torch.nn.functional)):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        gs = lib.autograd.grad((fn(fmod, *ts) ** 2).sum(), ts, create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in gs if g is not None)
        hs = lib.autograd.grad(total, ts, allow_unused=True) if isinstance(total, lib.Tensor) else [None] * len(ts)
        out.append([np.zeros(a.shape) if h is None else h.detach().numpy() for h, a in zip(hs, arrays)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, **F64)
