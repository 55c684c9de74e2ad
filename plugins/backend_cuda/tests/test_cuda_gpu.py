"""On a CUDA device (marked ``gpu``; skipped without one; the conformance kit runs in test_cuda_kit.py):
every fused kernel is chosen and agrees with its reference, the op table and a training step against
the CPU backend (float32 rtol 1e-4, atol 1e-5), memory statistics and out-of-memory mapping."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_backend_cuda import testing

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not lamina.cuda.is_available(), reason="no CUDA device")]

RTOL, ATOL = 1e-4, 1e-5


def _kernel_cases():
    return [pytest.param(r, dt, id=f"{r.name}-{dt}") for r in testing.records()[1:] for dt in ("float32", "float64")]


@pytest.mark.parametrize("record, dtype", _kernel_cases())
def test_kernel_is_chosen_and_agrees_with_reference(record, dtype):
    import cupy

    tol = (RTOL, ATOL) if dtype == "float32" else (1e-10, 1e-12)
    for s in record.sample_inputs(np, dtype, np.random.default_rng(0)):
        cpu_args = [lamina.tensor(a) if isinstance(a, np.ndarray) else a for a in s.args]
        gpu_args = [a.to("cuda") if isinstance(a, lamina.Tensor) else a for a in cpu_args]
        assert f"-> lamina-backend-cuda:{record.impl.__name__}" in lamina.kernels.explain(
            record.op, *gpu_args, **s.kwargs)
        with lamina.no_grad():
            got = record.op.apply(*gpu_args, **s.kwargs)
            ref_cpu = record.op.apply(*cpu_args, **s.kwargs)  # the reference implementation on NumPy
        got, ref_cpu = (o[0] if isinstance(o, tuple) else o for o in (got, ref_cpu))  # first output (y)
        assert isinstance(got.array, cupy.ndarray) and got.dtype == ref_cpu.dtype
        np.testing.assert_allclose(got.cpu().numpy(), ref_cpu.numpy(), *tol, err_msg=s.name)
        want = record.reference(*(np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in s.args),
                                **s.kwargs)
        np.testing.assert_allclose(got.cpu().numpy(), want, *(1e-3, 1e-4) if dtype == "float32" else tol)


@pytest.mark.parametrize("name, fn", [("relu", lambda x: x.relu()), ("sigmoid", lambda x: x.sigmoid()),
                                      ("tanh", lambda x: x.tanh()), ("softmax", lambda x: x.softmax(-1)),
                                      ("log_softmax", lambda x: x.log_softmax(-1))])
@pytest.mark.parametrize("shape", [(5, 7), (3, 2, 2000), (1,)])
def test_fused_kernel_gradients_match_cpu(name, fn, shape):
    rng = np.random.default_rng(1)
    host = rng.standard_normal(shape).astype(np.float32) * 3
    dy = rng.standard_normal(shape).astype(np.float32)
    out = {}
    for dev in ("cpu", "cuda"):
        x = lamina.tensor(host, device=dev, requires_grad=True)
        y = fn(x)
        (y * lamina.tensor(dy, device=dev)).sum().backward()
        out[dev] = (y.detach().cpu().numpy(), x.grad.cpu().numpy())
    for got, want in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(got, want, RTOL, ATOL, err_msg=name)


def test_double_backward_through_a_kernel_uses_the_reference():
    x = lamina.tensor([0.5, -1.0, 2.0], device="cuda", dtype=lamina.float64, requires_grad=True)
    assert lamina.testing.gradgradcheck(lambda t: t.sigmoid(), (x,))


def test_op_table_parity_with_cpu():
    import pathlib
    import sys

    core_tests = pathlib.Path(__file__).resolve().parents[3] / "tests"
    sys.path.insert(0, str(core_tests))
    from _optable import ALL
    from _oracle import sample

    rng = np.random.default_rng(0)
    for op in ALL:
        hosts = [sample(rng, s, d).astype(np.float32) for s, d in zip(op.shapes[0], op.domains())]
        res = {}
        for dev in ("cpu", "cuda"):
            with lamina.device(dev):
                out = op.fn(lamina, *[lamina.tensor(h) for h in hosts])
            outs = out if isinstance(out, (tuple, list)) else (out,)
            res[dev] = [o.detach().cpu().numpy() for o in outs if isinstance(o, lamina.Tensor)]
        for got, want in zip(res["cuda"], res["cpu"]):
            np.testing.assert_allclose(got, want, RTOL, ATOL, err_msg=op.name)


def test_memory_statistics_and_empty_cache():
    lamina.cuda.empty_cache()
    base = lamina.cuda.memory_allocated()
    x = lamina.empty(1024, 1024, device="cuda")
    assert lamina.cuda.memory_allocated() >= base + 4 * 2**20
    assert lamina.cuda.max_memory_allocated() >= lamina.cuda.memory_allocated()
    del x
    lamina.cuda.empty_cache()
    assert lamina.cuda.memory_allocated() == base


def test_out_of_memory_names_the_bytes():
    with pytest.raises(lamina.OutOfMemoryError, match=r"bytes"):
        lamina.empty(2**40, 2**10, dtype=lamina.uint8, device="cuda")
    x = lamina.ones(4, device="cuda")
    with pytest.raises(lamina.OutOfMemoryError, match=r"tried to allocate \d+ bytes"):
        x.expand(2**38, 4) * 2  # the op's output allocation goes through the guarded allocator


def test_numpy_message_and_device_moves():
    x = lamina.arange(6, device="cuda").reshape(2, 3)
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    assert np.array_equal(x.cpu().numpy(), np.arange(6).reshape(2, 3))
