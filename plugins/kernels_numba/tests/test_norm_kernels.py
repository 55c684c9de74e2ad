"""The numba Normalize kernel: the kit's checks, layers against PyTorch, thread-count independence."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import parametrize_plugin, run_check

torch = pytest.importorskip("torch")


@parametrize_plugin("lamina-kernels-numba")
def test_kit(case, check):
    run_check(case, check)


def _run(lib, make, x_np, seed=0):
    gen = np.random.default_rng(seed)
    layer = make(lib)
    with lib.no_grad():
        for p in layer.parameters():
            p.copy_(lib.from_numpy(gen.standard_normal(tuple(p.shape)).astype(np.float32)))
    x = lib.from_numpy(x_np.copy()).requires_grad_()
    y = layer(x)
    dy = lib.from_numpy(gen.standard_normal(tuple(y.shape)).astype(np.float32))
    (y * dy).sum().backward()
    out = [y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
    return out + [b.numpy() for b in layer.buffers() if b.dtype == lib.float32]


LAYERS = {
    "BatchNorm2d": (lambda lib: lib.nn.BatchNorm2d(6), (5, 6, 7, 3)),
    "BatchNorm1d": (lambda lib: lib.nn.BatchNorm1d(4), (9, 4)),
    "LayerNorm": (lambda lib: lib.nn.LayerNorm(24), (3, 70, 24)),
    "LayerNorm-2d": (lambda lib: lib.nn.LayerNorm((4, 5)), (66, 4, 5)),
    "RMSNorm": (lambda lib: lib.nn.RMSNorm(16), (130, 16)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_train_step_matches_pytorch(name):
    make, shape = LAYERS[name]
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32) * 2 + 0.5
    got, want = _run(lamina, make, x), _run(torch, make, x)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5)


def test_the_kernel_serves_batch_and_layer_norm():
    assert lamina.nn.BatchNorm1d is not None  # the op exists once lamina-norms is in use
    op = lamina.kernels.find_op("Normalize")
    assert [k.name for k in lamina.kernels.candidates(op, "cpu")][:1] == ["lamina-kernels-numba:NumbaNormalize"]
    from lamina_kernels_numba import norm

    Spec = op.Spec
    x = np.zeros((4, 3, 10), np.float32)
    args = [x, None, None, None, None, Spec((4, 3, 10), (0, 2), (1, 3, 1), 1e-5)]
    assert norm.supports(args, {})
    assert lamina.kernels.select(op, "cpu", args, {}).__name__ == "NumbaNormalize"
    assert not norm.supports([x, None, None, x[:1, :, :1], x[:1, :, :1], Spec((4, 3, 10), (0, 2), (1, 3, 1), 1e-5)], {})
    assert not norm.supports([x, None, None, None, None, Spec((4, 3, 10), (2,), (1, 3, 1), 1e-5)], {})  # instance
    assert not norm.supports([x.astype(np.float16), None, None, None, None, Spec((4, 3, 10), (0, 2), (1, 3, 1), 1e-5)],
                             {})


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_results_do_not_depend_on_the_thread_count(name):
    make, shape = LAYERS[name]
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(1)
        one = _run(lamina, make, x)
        lamina.set_num_threads(2)
        two = _run(lamina, make, x)
    finally:
        lamina.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_double_backward_falls_back_to_the_reference():
    x = lamina.randn(6, 3, 4, dtype=lamina.float64, requires_grad=True)
    w = lamina.randn(3, dtype=lamina.float64, requires_grad=True)
    b = lamina.randn(3, dtype=lamina.float64, requires_grad=True)

    def f(x, w, b):
        return lamina.nn.functional.batch_norm(x, None, None, w, b, training=True)

    assert lamina.testing.gradcheck(f, (x, w, b))
    assert lamina.testing.gradgradcheck(f, (x, w, b))
