"""A small graph convolutional network, written as a PyTorch user writes it: the symmetrically
normalised adjacency D^-1/2 (A + I) D^-1/2 as a sparse COO tensor, two layers relu(A @ X @ W1) and
A @ H @ W2, cross-entropy on labelled nodes, Adam steps; lamina and torch from the same weights, compared
step by step (losses, logits, weight gradients)."""

from __future__ import annotations

import lamina
import lamina.nn.functional as lF
import numpy as np
import pytest

torch = pytest.importorskip("torch")

N_NODES, N_FEAT, HIDDEN, N_CLASS, STEPS = 30, 8, 16, 3, 5


def _graph(rng):
    edges = set()
    while len(edges) < 60:
        a, b = rng.integers(0, N_NODES, size=2)
        if a != b:
            edges.add((min(a, b), max(a, b)))
    src = [a for a, b in edges] + [b for a, b in edges] + list(range(N_NODES))
    dst = [b for a, b in edges] + [a for a, b in edges] + list(range(N_NODES))
    idx = np.array([src, dst], dtype=np.int64)
    deg = np.bincount(idx[0], minlength=N_NODES).astype(np.float64)
    vals = 1.0 / np.sqrt(deg[idx[0]] * deg[idx[1]])
    return idx, vals.astype(np.float32)


def _run(m, F, idx, vals, x, y, w1, w2, train):
    adj = m.sparse_coo_tensor(m.as_tensor(idx), m.as_tensor(vals), (N_NODES, N_NODES)).coalesce()
    X = m.as_tensor(x)
    W1 = m.as_tensor(w1.copy()).requires_grad_()
    W2 = m.as_tensor(w2.copy()).requires_grad_()
    opt = m.optim.Adam([W1, W2], lr=0.01)
    target = m.as_tensor(y)
    mask = m.as_tensor(train)
    trace = []
    for _ in range(STEPS):
        h = m.relu(m.sparse.mm(adj, X @ W1))
        logits = adj @ (h @ W2)
        loss = F.cross_entropy(logits[mask], target[mask])
        opt.zero_grad()
        loss.backward()
        trace.append((loss.item(), logits.detach().numpy().copy(), W1.grad.numpy().copy(), W2.grad.numpy().copy()))
        opt.step()
    return trace


def test_gcn_training_matches_torch():
    rng = np.random.default_rng(40)
    idx, vals = _graph(rng)
    x = rng.standard_normal((N_NODES, N_FEAT)).astype(np.float32)
    y = rng.integers(0, N_CLASS, size=N_NODES).astype(np.int64)
    train = rng.random(N_NODES) < 0.5
    w1 = (rng.standard_normal((N_FEAT, HIDDEN)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, N_CLASS)) * 0.3).astype(np.float32)
    lam = _run(lamina, lF, idx, vals, x, y, w1, w2, train)
    tor = _run(torch, torch.nn.functional, idx, vals, x, y, w1, w2, train)
    for (ll, llog, lg1, lg2), (tl, tlog, tg1, tg2) in zip(lam, tor):
        assert abs(ll - tl) < 1e-5 * max(1.0, abs(tl))
        np.testing.assert_allclose(llog, tlog, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(lg1, tg1, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(lg2, tg2, rtol=1e-4, atol=1e-6)
    assert lam[-1][0] < lam[0][0]


def test_gcn_gradient_to_edge_weights():
    """Learnable edge weights: the gradient reaches the sparse values, as torch's."""
    rng = np.random.default_rng(41)
    idx, vals = _graph(rng)
    x = rng.standard_normal((N_NODES, N_FEAT))
    grads = []
    for m in (lamina, torch):
        v = m.as_tensor(vals.astype(np.float64)).requires_grad_()
        adj = m.sparse_coo_tensor(m.as_tensor(idx), v, (N_NODES, N_NODES))
        out = m.sparse.mm(adj, m.tanh(m.sparse.mm(adj, m.as_tensor(x))))
        (out ** 2).sum().backward()
        grads.append(v.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
