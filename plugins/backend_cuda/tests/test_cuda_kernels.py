"""The kernel pack on CPU: the .cu sources compile with nvcc for sm_80/sm_90, registration and
selection (explain) work, every kernel has a record, and the fused optimizer ops' reference agrees
with float64 and with lamina-optim's Adam/SGD."""

from __future__ import annotations

import shutil
import subprocess

import lamina
import numpy as np
import pytest
from _cuda_standin import standin_cuda
from lamina_backend_cuda import kernels, testing
from lamina_backend_cuda.kernels import _source
from lamina_backend_cuda.kernels import softmax as ksoftmax
from lamina_backend_cuda.testing_fused import target_op


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("name", sorted(_source.SOURCES))
def test_cuda_source_compiles_with_nvcc(tmp_path, name, arch):
    src = tmp_path / f"{name}.cu"
    src.write_text(_source.source(name))
    out = tmp_path / f"{name}.ptx"
    r = subprocess.run(["nvcc", "--ptx", f"-arch={arch}", *_source.options(name), "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ptx = out.read_text()
    for suffix in ("f32", "f64"):  # every kernel the Python side launches exists, unmangled
        for kernel in _KERNELS[name]:
            assert f".entry {kernel}_{suffix}(" in ptx, f"{kernel}_{suffix} missing from {name}.ptx"


_KERNELS = {
    "activation": [f"lm_{k}_{d}" for k in ("relu", "sigmoid", "tanh") for d in ("fwd", "bwd")],
    "softmax": [f"lm_{k}_{d}" for k in ("softmax", "log_softmax") for d in ("fwd", "bwd")],
    "optim": ["lm_adam_step", "lm_sgd_step"],
    "conv": ["lm_im2col", "lm_col2im"],
    "pool": ["lm_maxpool_fwd", "lm_maxpool_bwd"],
    "xent": ["lm_xent_fwd", "lm_xent_bwd"],
    "rnn": [f"lm_{k}_step_{d}" for k in ("lstm", "gru") for d in ("fwd", "bwd")],
    "norm": [f"lm_{k}" for k in ("group_norm_fwd", "group_norm_bwd", "row_norm_fwd", "row_norm_bwd",
                                 "row_norm_params")],
}


def test_every_registered_kernel_has_a_record():
    recorded = {(r.op, r.impl) for r in testing.records()[1:]}
    table = set()
    for op, impl, _ in kernels.table():
        if isinstance(op, str):   # registered by name: the record's op is the one of that name, impl its kernel
            op = target_op(op)
            impl = impl(op)
        table.add((op, impl))
    assert recorded == table and len(table) == 13
    for op, impl in table:
        assert issubclass(impl, op) and kernels.kernel_name(op).endswith(":" + impl.__name__)


def test_registration_happens_with_the_backend_and_is_idempotent():
    with standin_cuda():
        first = lamina.kernels.candidates("Softmax", "cuda")
        assert [k.name for k in first] == ["lamina-backend-cuda:CudaSoftmax"]
        kernels.register(lamina.kernels.registry)
        assert len(lamina.kernels.candidates("Softmax", "cuda")) == 1
        assert lamina.kernels.candidates("Softmax", "cpu") == []


def test_explain_falls_back_to_the_reference_for_non_cupy_arrays():
    with standin_cuda():
        x = lamina.randn(4, 8, device="cuda")
        text = lamina.kernels.explain("Softmax", x, 1)
        assert "kernel lamina-backend-cuda:CudaSoftmax (priority 10): does not support these inputs" in text
        assert text.endswith("-> reference implementation Softmax")
        y = lamina.softmax(x, 1)  # runs the reference on the stand-in
        np.testing.assert_allclose(y.cpu().numpy().sum(1), np.ones(4), rtol=1e-6)


class _FakeCupyArray:
    """Looks like a CuPy array to the supports predicates (module name and flags)."""

    __module__ = "cupy._core.core"

    def __init__(self, shape, dtype="float32", contiguous=True):
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)
        self.size = int(np.prod(shape))
        self.flags = type("F", (), {"c_contiguous": contiguous})()


@pytest.mark.parametrize("shape, dtype, contiguous, axis, ok", [
    ((4, 8), "float32", True, 1, True),
    ((2, 3, 5), "float64", True, 2, True),
    ((4, 8), "float32", True, 0, False),  # not the last axis
    ((4, 8), "float32", False, 1, False),  # strided
    ((4, 8), "float16", True, 1, False),  # no half kernels
    ((0, 8), "float32", True, 1, False),  # empty
])
def test_softmax_kernel_supports(shape, dtype, contiguous, axis, ok):
    assert ksoftmax.supports_last_axis([_FakeCupyArray(shape, dtype, contiguous), axis], {}) is ok
    assert _source.fits(_FakeCupyArray(shape, dtype, contiguous)) is (ok or axis == 0)
    assert _source.fits(np.ones(shape, dtype=dtype)) is False


@pytest.mark.parametrize("length, threads", [(1, 32), (33, 64), (1000, 1024), (5000, 1024)])
def test_row_threads_is_a_power_of_two(length, threads):
    assert _source.row_threads(length) == threads


def _run_records(kind, dtype):
    rec = next(r for r in testing.records()[1:] if r.op is kind)
    rng = np.random.default_rng(0)
    for s in rec.sample_inputs(np, dtype, rng):
        want = rec.reference(*s.args, **s.kwargs)
        args = [lamina.tensor(a) if a is not None else None for a in s.args]
        kind.apply(*args, **s.kwargs)
        yield s.name, args[0].numpy(), want


@pytest.mark.parametrize("dtype, tol", [("float64", (1e-12, 1e-12)), ("float32", (1e-5, 1e-6))])
@pytest.mark.parametrize("kind", ["AdamStep", "SGDStep"])
def test_fused_optimizer_reference_matches_float64_rule(kind, dtype, tol):
    pytest.importorskip("lamina_optim")
    for name, got, want in _run_records(target_op(kind), dtype):
        assert got.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(got, want, rtol=tol[0], atol=tol[1], err_msg=name)


@pytest.mark.parametrize("config", [
    {"lr": 1e-2}, {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}, {"lr": 1e-3, "betas": (0.3, 0.99)},
    {"lr": 1e-2, "maximize": True, "weight_decay": 0.01, "decoupled_weight_decay": True}])
def test_fused_adam_step_is_bitwise_lamina_optim_adam(config):
    fused = pytest.importorskip("lamina_optim.fused")
    rng = np.random.default_rng(2)
    init = rng.standard_normal((6, 7)).astype(np.float32)
    p_opt = lamina.nn.Parameter(lamina.tensor(init))
    opt = lamina.optim.Adam([p_opt], **config)
    p = lamina.tensor(init)
    m, v, vmax = lamina.zeros_like(p), lamina.zeros_like(p), lamina.zeros_like(p)
    beta1, beta2 = config.get("betas", (0.9, 0.999))
    for step in range(1, 6):
        g = lamina.tensor(rng.standard_normal((6, 7)).astype(np.float32))
        p_opt.grad = g.clone()
        opt.step()
        fused.adam_step_(p, g, m, v, vmax, lr=config["lr"], beta1=beta1, beta2=beta2, eps=1e-8,
                         weight_decay=config.get("weight_decay", 0.0), step=step,
                         amsgrad=config.get("amsgrad", False), maximize=config.get("maximize", False),
                         decoupled=config.get("decoupled_weight_decay", False))
        assert np.array_equal(p.numpy(), p_opt.detach().numpy()), step


@pytest.mark.parametrize("config", [
    {"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True}])
def test_fused_sgd_step_is_bitwise_lamina_optim_sgd(config):
    fused = pytest.importorskip("lamina_optim.fused")
    rng = np.random.default_rng(3)
    init = rng.standard_normal((5, 4)).astype(np.float32)
    p_opt = lamina.nn.Parameter(lamina.tensor(init))
    opt = lamina.optim.SGD([p_opt], **config)
    p, buf = lamina.tensor(init), lamina.zeros(5, 4)
    hyper = {k: v for k, v in config.items()}
    for step in range(4):
        g = lamina.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        p_opt.grad = g.clone()
        opt.step()
        fused.sgd_step_(p, g, buf, first=step == 0, **hyper)
        assert np.array_equal(p.numpy(), p_opt.detach().numpy()), step
