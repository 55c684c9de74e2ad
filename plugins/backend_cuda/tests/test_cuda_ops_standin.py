"""The core's op table (tests/_optable.py) run on device ``cuda`` through the stand-in backend:
every op's output and input gradients equal the CPU run (same xp code, different device path)."""

from __future__ import annotations

import pathlib
import sys

import lamina
import numpy as np
import pytest
from _cuda_standin import standin_cuda

_CORE_TESTS = pathlib.Path(__file__).resolve().parents[3] / "tests"
if not (_CORE_TESTS / "_optable.py").exists():  # an installed plugin without the repository
    pytest.skip("the core's op table (tests/_optable.py) is not available", allow_module_level=True)
sys.path.insert(0, str(_CORE_TESTS))
from _optable import ALL  # noqa: E402
from _oracle import sample  # noqa: E402


@pytest.fixture(scope="module")
def cuda():
    with standin_cuda() as backend:
        yield backend


def _run(op, hosts, device):
    xs = [lamina.tensor(h, device=device).requires_grad_(op.grad and h.dtype.kind == "f") for h in hosts]
    with lamina.device(device):  # tensors the table builds itself (masks, indices) go there too
        out = op.fn(lamina, *xs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, lamina.Tensor)]
    grads = []
    if op.grad:
        diff = [o for o in outs if o.is_floating_point() and o.requires_grad]
        if diff:
            sum((o * o).sum() for o in diff).backward()
        grads = [None if x.grad is None else x.grad.cpu().numpy() for x in xs]
    return [o.detach().cpu().numpy() for o in outs], grads, outs


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_op_on_cuda_equals_cpu(cuda, op):
    rng = np.random.default_rng(0)
    for shapes in op.shapes[:2]:
        hosts = [sample(rng, s, d).astype(np.float32) for s, d in zip(shapes, op.domains())]
        got, got_g, outs = _run(op, hosts, "cuda")
        want, want_g, _ = _run(op, hosts, "cpu")
        assert all(o.device == lamina.device("cuda:0") for o in outs), op.name
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=f"{op.name} {shapes} output")
        for g, w in zip(got_g, want_g):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_array_equal(g, w, err_msg=f"{op.name} {shapes} gradient")
