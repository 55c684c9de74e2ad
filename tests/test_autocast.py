"""lamina.autocast against torch.autocast on CPU: the dtype every listed op returns inside a region, nesting,
the decorator form, the flags and their deprecations, the weight cache, and a small MLP's loss and
gradients under autocast."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _name(dt) -> str:
    return str(dt).rpartition(".")[2]


def _cases(mod):
    F = mod.nn.functional
    g = np.random.default_rng(0)
    a = g.standard_normal((4, 8)).astype(np.float32)
    x = mod.tensor(a)
    w = mod.tensor(g.standard_normal((3, 8)).astype(np.float32))
    b = mod.tensor(g.standard_normal(3).astype(np.float32))
    xb = x.bfloat16()
    t = mod.tensor([0, 1, 2, 3])
    img = mod.tensor(g.standard_normal((1, 2, 6, 6)).astype(np.float32))
    spd = mod.tensor((np.eye(4) * 3 + a[:, :4] @ a[:, :4].T * 0.1).astype(np.float32))
    return {
        # lower_precision_fp
        "mm": lambda: mod.mm(x, w.t()), "matmul": lambda: mod.matmul(x, w.t()), "@": lambda: x @ w.t(),
        "Tensor.mm": lambda: x.mm(w.t()), "bmm": lambda: mod.bmm(x[None], w.t()[None]),
        "addmm": lambda: mod.addmm(b, x, w.t()), "baddbmm": lambda: mod.baddbmm(b[None, None], x[None], w.t()[None]),
        "addbmm": lambda: mod.addbmm(b[None], x[None], w.t()[None]), "einsum": lambda: mod.einsum("ij,kj->ik", x, w),
        "tensordot": lambda: mod.tensordot(x, w, ([1], [1])), "inner": lambda: mod.inner(x, w),
        "linear": lambda: F.linear(x, w, b), "nn.Linear": lambda: mod.nn.Linear(8, 3)(x),
        "conv1d": lambda: F.conv1d(x[None], mod.ones(2, 4, 3)), "conv2d": lambda: F.conv2d(img, mod.ones(3, 2, 3, 3)),
        "nn.Conv2d": lambda: mod.nn.Conv2d(2, 3, 3)(img),
        "conv_transpose2d": lambda: F.conv_transpose2d(img, mod.ones(2, 3, 3, 3)),
        "prelu": lambda: F.prelu(x, mod.tensor([0.2])),
        "sdpa": lambda: F.scaled_dot_product_attention(x[None], x[None], x[None]),
        "MultiheadAttention": lambda: mod.nn.MultiheadAttention(8, 2)(x[:, None], x[:, None], x[:, None])[0],
        # not autocast ops: the input's dtype
        "dot": lambda: mod.dot(x[0], w[0]), "mv": lambda: mod.mv(x, w[0]), "outer": lambda: mod.outer(x[0], w[0]),
        "addmv": lambda: mod.addmv(x[:, 0], x, w[0]), "exp_bf16": lambda: mod.exp(xb), "sum_bf16": lambda: xb.sum(),
        "softmax_bf16": lambda: mod.softmax(xb, 1), "layer_norm_bf16": lambda: F.layer_norm(xb, (8,)),
        "relu_bf16": lambda: F.relu(xb), "gelu_bf16": lambda: F.gelu(xb), "add_mixed": lambda: xb + x,
        "max_pool2d_bf16": lambda: F.max_pool2d(img.bfloat16(), 2),
        "pad_constant_bf16": lambda: F.pad(xb[None], (1, 1)),
        "float64_mm": lambda: mod.mm(x.double(), w.double().t()),
        "int_mm": lambda: mod.mm(mod.ones(2, 2, dtype=mod.int64), mod.ones(2, 2, dtype=mod.int64)),
        # fp32
        "prod": lambda: xb.prod(), "quantile": lambda: mod.quantile(xb, 0.5), "cdist": lambda: mod.cdist(xb, xb),
        "trace": lambda: mod.trace(xb[:4, :4]), "polar": lambda: mod.polar(xb, xb),
        "mse_loss": lambda: F.mse_loss(xb, xb), "l1_loss": lambda: F.l1_loss(xb, xb),
        "smooth_l1_loss": lambda: F.smooth_l1_loss(xb, xb), "huber_loss": lambda: F.huber_loss(xb, xb),
        "cross_entropy": lambda: F.cross_entropy(xb, t),
        "nn.CrossEntropyLoss": lambda: mod.nn.CrossEntropyLoss()(xb, t),
        "nll_loss": lambda: F.nll_loss(xb, t),
        "binary_cross_entropy": lambda: F.binary_cross_entropy(xb.sigmoid(), xb.sigmoid()),
        "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(xb, xb.sigmoid()),
        "kl_div": lambda: F.kl_div(xb, xb, reduction="batchmean"),
        "margin_ranking_loss": lambda: F.margin_ranking_loss(xb, xb, mod.ones(4, 8)),
        "hinge_embedding_loss": lambda: F.hinge_embedding_loss(xb, mod.ones(4, 8)),
        "cosine_embedding_loss": lambda: F.cosine_embedding_loss(xb, xb, mod.ones(4)),
        "soft_margin_loss": lambda: F.soft_margin_loss(xb, mod.ones(4, 8)),
        "triplet_margin_loss": lambda: F.triplet_margin_loss(xb, xb, xb),
        "multi_margin_loss": lambda: F.multi_margin_loss(xb, t),
        "poisson_nll_loss": lambda: F.poisson_nll_loss(xb, xb.abs()),
        "avg_pool3d": lambda: F.avg_pool3d(img.bfloat16()[None], 2),
        "adaptive_avg_pool3d": lambda: F.adaptive_avg_pool3d(img.bfloat16()[None], 1),
        "grid_sample": lambda: F.grid_sample(img.bfloat16(), mod.zeros(1, 2, 2, 2), align_corners=False),
        "pad_reflect": lambda: F.pad(xb[None], (1, 1), mode="reflect"),
        "pad_replicate": lambda: F.pad(xb[None], (1, 1), mode="replicate"),
        "linalg.inv": lambda: mod.linalg.inv(spd.bfloat16()),
        "linalg.cholesky": lambda: mod.linalg.cholesky(spd.bfloat16()),
        "linalg.eigh": lambda: mod.linalg.eigh(spd.bfloat16())[0],
        "linalg.svd": lambda: mod.linalg.svd(spd.bfloat16())[1],
        "linalg.qr": lambda: mod.linalg.qr(spd.bfloat16())[0],
        "linalg.solve": lambda: mod.linalg.solve(spd.bfloat16(), xb[:4, :1]),
        "inverse": lambda: mod.inverse(spd.bfloat16()), "fft.fft": lambda: mod.fft.fft(xb),
        "fft.rfft": lambda: mod.fft.rfft(xb), "fft.irfft": lambda: mod.fft.irfft(mod.fft.rfft(xb)),
        # promote
        "cat": lambda: mod.cat([xb, x]), "cat_bf16": lambda: mod.cat([xb, xb]),
        "cat_f64": lambda: mod.cat([x.double(), xb]),
        "stack": lambda: mod.stack([xb, x]), "index_copy": lambda: x.index_copy(0, mod.tensor([0]), xb[:1]),
        "cat_int": lambda: mod.cat([xb, t[:, None].expand(4, 8)]),
        "cat_f64_first": lambda: mod.cat([x.double(), xb]), "cat_f32_first": lambda: mod.cat([x, xb.half(), xb]),
    }


CASES = sorted(_cases(torch))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_output_dtype_inside_autocast_matches_torch(name, dtype):
    if dtype == "float16" and name in ("sdpa", "MultiheadAttention", "conv1d", "conv2d", "nn.Conv2d",
                                       "conv_transpose2d", "prelu"):
        pytest.skip("torch 2.13 has no float16 CPU kernel for this op")
    def outcome(mod):
        with mod.autocast("cpu", dtype=getattr(mod, dtype)):
            try:
                return _name(_cases(mod)[name]().dtype)
            except RuntimeError as e:  # two different 16-bit types in a promote op
                return f"RuntimeError {'prioritize' in str(e)}"

    assert outcome(lamina) == outcome(torch)


@pytest.mark.parametrize("name", ["mm", "linear", "nn.Linear", "conv2d", "cat", "prod", "cross_entropy"])
def test_outside_autocast_nothing_is_cast(name):
    got = _name(_cases(lamina)[name]().dtype)
    assert got == _name(_cases(torch)[name]().dtype)
    assert got == ("bfloat16" if name in ("prod", "cross_entropy") else "float32")


def test_promote_of_two_16_bit_types_raises_as_torch():
    h, b = lamina.ones(2).half(), lamina.ones(2).bfloat16()
    with torch.autocast("cpu"), pytest.raises(RuntimeError, match="prioritize"):
        torch.cat([torch.ones(2).half(), torch.ones(2).bfloat16()])
    with lamina.autocast("cpu"), pytest.raises(RuntimeError, match="prioritize"):
        lamina.cat([h, b])


def test_values_are_torch_values():
    g = np.random.default_rng(1)
    a, w = g.standard_normal((5, 16)).astype(np.float32), g.standard_normal((16, 4)).astype(np.float32)
    with torch.autocast("cpu"):
        ref = torch.tensor(a) @ torch.tensor(w)
    with lamina.autocast("cpu"):
        out = lamina.tensor(a) @ lamina.tensor(w)
    assert out.dtype is lamina.bfloat16
    np.testing.assert_allclose(np.asarray(out.float()), ref.float().numpy(), rtol=2 ** -7, atol=2e-2)
    # the inputs are rounded to bfloat16 first: the same as casting by hand
    by_hand = lamina.tensor(a).bfloat16() @ lamina.tensor(w).bfloat16()
    np.testing.assert_array_equal(out._data.view(np.uint16), by_hand._data.view(np.uint16))


def test_nesting_and_disabling():
    assert not lamina.is_autocast_enabled("cpu")
    with lamina.autocast("cpu"):
        assert lamina.is_autocast_enabled("cpu") and lamina.get_autocast_dtype("cpu") is lamina.bfloat16
        with lamina.autocast("cpu", enabled=False):
            assert not lamina.is_autocast_enabled("cpu")
            assert (lamina.ones(2, 2) @ lamina.ones(2, 2)).dtype is lamina.float32
        assert lamina.is_autocast_enabled("cpu")
        with lamina.autocast("cpu", dtype=lamina.float16):
            assert (lamina.ones(2, 2) @ lamina.ones(2, 2)).dtype is lamina.float16
        assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16
        assert (lamina.ones(2, 2) @ lamina.ones(2, 2)).dtype is lamina.bfloat16
    assert not lamina.is_autocast_enabled("cpu")


def test_state_is_restored_after_an_exception():
    with pytest.raises(ValueError), lamina.autocast("cpu"):
        raise ValueError("boom")
    assert not lamina.is_autocast_enabled("cpu")


def test_decorator_form():
    @lamina.autocast("cpu")
    def f(x, w):
        assert lamina.is_autocast_enabled("cpu")
        return x @ w

    @torch.autocast("cpu")
    def g(x, w):
        return x @ w

    assert f(lamina.ones(2, 2), lamina.ones(2, 2)).dtype is lamina.bfloat16
    assert g(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16
    assert not lamina.is_autocast_enabled("cpu")

    @lamina.autocast("cpu")
    def depth(n):  # one decorator instance re-entered recursively
        return lamina.is_autocast_enabled("cpu") if n == 0 else depth(n - 1)

    assert depth(3) and not lamina.is_autocast_enabled("cpu")


def test_the_four_spellings():
    assert lamina.amp.autocast is lamina.autocast
    with pytest.warns(FutureWarning, match=r"lamina\.cpu\.amp\.autocast\(args\.\.\.\)` is deprecated"):
        ctx = lamina.cpu.amp.autocast()
    with ctx:
        assert lamina.is_autocast_enabled("cpu") and lamina.get_autocast_dtype("cpu") is lamina.bfloat16
    from lamina.cpu.amp import autocast as cpu_autocast

    with pytest.warns(FutureWarning):
        cpu_autocast(dtype=lamina.float16)
    with pytest.warns(FutureWarning, match="cuda"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # no GPU here: disabled, with a warning
            ctx = lamina.cuda.amp.autocast()
    assert isinstance(ctx, lamina.autocast)


def test_constructor_errors_and_warnings_as_torch():
    with pytest.raises(ValueError, match="device_type"):
        lamina.autocast(1)
    with pytest.raises(ValueError, match="device_type"):
        torch.autocast(1)
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        lamina.autocast("foo")
    with pytest.raises(RuntimeError):
        torch.autocast("foo")
    for dt in ("float32", "float64"):
        with pytest.warns(UserWarning, match="CPU Autocast only supports"):
            ctx = lamina.autocast("cpu", dtype=getattr(lamina, dt))
        with pytest.warns(UserWarning, match="CPU Autocast only supports"):
            torch.autocast("cpu", dtype=getattr(torch, dt))
        with ctx:
            assert not lamina.is_autocast_enabled("cpu")
            assert lamina.get_autocast_dtype("cpu") is getattr(lamina, dt)  # torch sets it all the same
    with lamina.autocast("cpu:0"):
        assert lamina.is_autocast_enabled("cpu")
    assert lamina.amp.is_autocast_available("cpu") and lamina.amp.is_autocast_available("cuda")
    if not lamina.cuda.is_available():
        with pytest.warns(UserWarning, match="Disabling autocast"):
            ctx = lamina.autocast("cuda")
        with ctx:
            assert not lamina.is_autocast_enabled("cuda")


def test_flags_and_deprecations_as_torch():
    assert lamina.is_autocast_enabled() is torch.is_autocast_enabled() is False
    assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16 and lamina.get_autocast_dtype("cuda") is lamina.float16
    assert lamina.is_autocast_cache_enabled() is torch.is_autocast_cache_enabled() is True
    for name, args, new in [("is_autocast_cpu_enabled", (), "is_autocast_enabled('cpu')"),
                            ("get_autocast_cpu_dtype", (), "get_autocast_dtype('cpu')"),
                            ("get_autocast_gpu_dtype", (), "get_autocast_dtype('cuda')")]:
        with pytest.warns(DeprecationWarning, match=new.replace("(", r"\(").replace(")", r"\)")):
            getattr(lamina, name)(*args)
        with pytest.warns(DeprecationWarning):
            getattr(torch, name)(*args)
    try:
        lamina.set_autocast_enabled("cpu", True)
        assert lamina.is_autocast_enabled("cpu") and (lamina.ones(2, 2) @ lamina.ones(2, 2)).dtype is lamina.bfloat16
        lamina.set_autocast_dtype("cpu", lamina.float16)
        assert (lamina.ones(2, 2) @ lamina.ones(2, 2)).dtype is lamina.float16
        with pytest.warns(DeprecationWarning):
            lamina.set_autocast_cpu_dtype(lamina.bfloat16)
        assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16
        with pytest.warns(DeprecationWarning):
            lamina.set_autocast_cpu_enabled(False)
        assert not lamina.is_autocast_enabled("cpu")
        with pytest.warns(DeprecationWarning):
            lamina.set_autocast_gpu_dtype(lamina.bfloat16)
        assert lamina.get_autocast_dtype("cuda") is lamina.bfloat16
        lamina.set_autocast_enabled(True)  # one argument: cuda
        assert lamina.is_autocast_enabled("cuda") and not lamina.is_autocast_enabled("cpu")
        lamina.set_autocast_cache_enabled(False)
        assert not lamina.is_autocast_cache_enabled()
    finally:
        lamina.set_autocast_enabled(False)
        lamina.set_autocast_enabled("cpu", False)
        lamina.set_autocast_dtype("cuda", lamina.float16)
        lamina.set_autocast_dtype("cpu", lamina.bfloat16)
        lamina.set_autocast_cache_enabled(True)
    with pytest.raises(TypeError):
        lamina.set_autocast_enabled("cpu", 1)
    with pytest.raises(TypeError):
        torch.set_autocast_enabled("cpu", 1)
    with pytest.raises(TypeError):
        lamina.is_autocast_enabled(1)
    with pytest.raises(RuntimeError):
        lamina.get_autocast_dtype("foo")
    assert lamina.autocast_increment_nesting() == 1 and lamina.autocast_decrement_nesting() == 0


def test_weight_cast_is_cached_within_a_region():
    w = lamina.ones(3, 3, requires_grad=True)
    x = lamina.ones(2, 3)
    with lamina.autocast("cpu"):
        y1, y2 = x @ w, x @ w
        assert y1.grad_fn.next_functions[1][0] is y2.grad_fn.next_functions[1][0]  # one cast node for w
        (y1.sum() + y2.sum()).float().backward()
    assert w.grad.dtype is lamina.float32 and w.grad.tolist() == [[4.0] * 3] * 3
    from lamina.autograd import autocast_state

    assert autocast_state.state.cache == {}  # cleared when the outermost region exits
    with lamina.autocast("cpu", cache_enabled=False):
        y1, y2 = x @ w, x @ w
        assert y1.grad_fn.next_functions[1][0] is not y2.grad_fn.next_functions[1][0]
        assert autocast_state.state.cache == {}


def test_a_plugin_op_opts_in_with_the_public_decorator():
    @lamina.amp.autocast_op("fp32")
    def my_loss(a, b):
        return ((a - b) ** 2).mean()

    @lamina.amp.autocast_op("lower_precision_fp")
    def my_proj(a, b):
        return a @ b

    x = lamina.ones(2, 2)
    with lamina.autocast("cpu"):
        assert my_loss(x.bfloat16(), x.bfloat16()).dtype is lamina.float32
        assert my_proj(x, x).dtype is lamina.bfloat16
    assert my_proj(x, x).dtype is lamina.float32 and my_proj.__name__ == "my_proj"
    with pytest.raises(ValueError, match="policy must be one of"):
        lamina.amp.autocast_op("fp16")


def _mlp(mod, seed_weights):
    w1, b1, w2, b2 = (mod.tensor(a, requires_grad=True) for a in seed_weights)
    return w1, b1, w2, b2


def test_mlp_forward_backward_under_autocast_matches_torch():
    g = np.random.default_rng(0)
    weights = [g.standard_normal((32, 16)).astype(np.float32) * 0.25, g.standard_normal(32).astype(np.float32) * 0.1,
               g.standard_normal((5, 32)).astype(np.float32) * 0.2, g.standard_normal(5).astype(np.float32) * 0.1]
    x = g.standard_normal((8, 16)).astype(np.float32)
    y = g.integers(0, 5, 8)
    results = {}
    for mod in (lamina, torch):
        F = mod.nn.functional
        w1, b1, w2, b2 = _mlp(mod, weights)
        with mod.autocast("cpu"):
            h = F.relu(F.linear(mod.tensor(x), w1, b1))
            logits = F.linear(h, w2, b2)
            loss = F.cross_entropy(logits, mod.tensor(y))
        assert _name(h.dtype) == _name(logits.dtype) == "bfloat16" and _name(loss.dtype) == "float32"
        loss.backward()
        results[mod.__name__] = (loss.item(), np.asarray(logits.detach().float()),
                                 [np.asarray(p.grad) if mod is lamina else p.grad.numpy() for p in (w1, b1, w2, b2)])
        assert all(_name(p.grad.dtype) == "float32" for p in (w1, b1, w2, b2))
    (l_loss, l_logits, l_grads), (t_loss, t_logits, t_grads) = results["lamina"], results["torch"]
    assert abs(l_loss - t_loss) < 1e-2 * max(1.0, abs(t_loss))
    np.testing.assert_allclose(l_logits, t_logits, rtol=2e-2, atol=3e-2)
    for lg, tg in zip(l_grads, t_grads):
        np.testing.assert_allclose(lg, tg, rtol=5e-2, atol=2e-2)


def test_state_is_per_thread_as_torch():
    import threading

    seen = {}

    def probe(mod):
        seen[mod.__name__] = (mod.is_autocast_enabled("cpu"), _name((mod.ones(2, 2) @ mod.ones(2, 2)).dtype))

    for mod in (lamina, torch):
        with mod.autocast("cpu"):
            t = threading.Thread(target=probe, args=(mod,))
            t.start()
            t.join()
            assert mod.is_autocast_enabled("cpu")
    assert seen["lamina"] == seen["torch"] == (False, "float32")


def test_custom_fwd_and_custom_bwd_as_torch():
    seen = {}

    def make(mod):
        class MatMulF32(mod.autograd.Function):
            @staticmethod
            @mod.amp.custom_fwd(device_type="cpu", cast_inputs=mod.float32)
            def forward(ctx, a, b):
                seen[mod.__name__, "fwd"] = (_name(a.dtype), mod.is_autocast_enabled("cpu"))
                ctx.save_for_backward(a, b)
                return a @ b

            @staticmethod
            @mod.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen[mod.__name__, "bwd"] = mod.is_autocast_enabled("cpu")
                a, b = ctx.saved_tensors
                return g @ b.T, a.T @ g

        class Recorded(mod.autograd.Function):
            @staticmethod
            @mod.amp.custom_fwd(device_type="cpu")
            def forward(ctx, a):
                return a * 2

            @staticmethod
            @mod.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen[mod.__name__, "recorded_bwd"] = mod.is_autocast_enabled("cpu")
                return g * 2

        return MatMulF32, Recorded

    for mod in (lamina, torch):
        mm, rec = make(mod)
        x = mod.ones(2, 2, dtype=mod.bfloat16, requires_grad=True)
        with mod.autocast("cpu"):
            y = mm.apply(x, x)
            z = rec.apply(mod.ones(2, requires_grad=True))
            z.sum().backward()  # backward inside the region: custom_bwd restores the forward's state
        seen[mod.__name__, "out"] = _name(y.dtype)
        y.float().sum().backward()
        seen[mod.__name__, "grad"] = _name(x.grad.dtype)
    for key in ("fwd", "bwd", "out", "grad", "recorded_bwd"):
        assert seen["lamina", key] == seen["torch", key], key
    assert seen["lamina", "fwd"] == ("float32", False) and seen["lamina", "grad"] == "bfloat16"
    with pytest.raises(TypeError):
        lamina.amp.custom_fwd(lambda ctx: 0)
