"""A leaf's gradient is complete, hooked and accumulated as soon as the last edge into it delivers (not
at the end of the pass), and ``register_post_accumulate_grad_hook`` runs right after: what
DistributedDataParallel builds on; and ``ctx.set_materialize_grads(False)`` passing None for an output
that got no gradient (DDP's multi-output sink relies on it). Checked against PyTorch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _mlp(lib, seed=0):
    rng = np.random.default_rng(seed)
    ws = [lib.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in ((5, 4), (4, 3), (3, 2))]
    return ws


def _trace(lib):
    """Per weight (in post-hook order): its grad, and which weights already had a grad at that moment."""
    ws = _mlp(lib)
    seen = []
    for k, w in enumerate(ws):
        w.register_post_accumulate_grad_hook(
            lambda p, k=k: seen.append((k, p.grad.detach().clone().numpy(), [v.grad is not None for v in ws])))
    x = lib.tensor(np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5))
    h = x
    for w in ws:
        h = (h @ w).tanh()
    (h * h).sum().backward()
    return seen


def test_post_accumulate_hooks_run_during_backward_in_pytorch_order():
    ours, theirs = _trace(lamina), _trace(torch)
    assert [k for k, *_ in ours] == [k for k, *_ in theirs] == [2, 1, 0]
    for (_, g, done), (_, tg, tdone) in zip(ours, theirs):
        np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-7)
        assert done == tdone  # the last layer's weight is final before the first layer's is computed
    assert ours[0][2] == [False, False, True]


@pytest.mark.parametrize("lib", [lamina, torch], ids=["lamina", "torch"])
def test_hook_order_sum_of_edges_and_accumulation(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    log = []
    w.register_hook(lambda g: log.append(("tensor-hook", g.tolist())))
    handle = w.register_post_accumulate_grad_hook(lambda p: log.append(("post", p.grad.tolist())))
    (w * w + w * 3).sum().backward()  # three edges into w: one hook call with the whole gradient
    (w * 2).sum().backward()
    assert log == [("tensor-hook", [5.0, 7.0]), ("post", [5.0, 7.0]), ("tensor-hook", [2.0, 2.0]), ("post", [7.0, 9.0])]
    handle.remove()
    (w * 2).sum().backward()
    assert log[-1] == ("tensor-hook", [2.0, 2.0]) and len(log) == 5
    lib.autograd.grad((w * 5).sum(), w)  # no accumulation, no post hook
    assert len(log) == 6


@pytest.mark.parametrize("lib", [lamina, torch], ids=["lamina", "torch"])
def test_a_root_that_is_a_leaf_and_a_leaf_that_gets_no_gradient(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    unused = lib.tensor([1.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append("w"))
    unused.register_post_accumulate_grad_hook(lambda p: calls.append("unused"))
    w.backward(lib.tensor([1.0, 1.0]))
    (w * 2 + unused.detach()).sum().backward()
    assert calls == ["w", "w"] and unused.grad is None and w.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("lib", [lamina, torch], ids=["lamina", "torch"])
def test_registration_errors(lib):
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        lib.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda p: None)


@pytest.mark.parametrize("lib", [lamina, torch], ids=["lamina", "torch"])
@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(lib, materialize):
    seen = []

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append(None if gb is None else gb.tolist())
            return ga * 2 if gb is None else ga * 2 + gb * 3

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert seen == [[0.0, 0.0] if materialize else None] and x.grad.tolist() == [2.0, 2.0]
