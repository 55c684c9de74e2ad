"""Embedding / EmbeddingBag / one_hot: PyTorch parity (outputs, weight and per-sample-weight gradients)."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck

EMB_GRID = [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
            {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}, {"scale_grad_by_freq": True, "padding_idx": 0}]


@pytest.mark.parametrize("kwargs", EMB_GRID, ids=str)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 2, 4)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_parity(kwargs, shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 4)).astype(dtype)
    idx = rng.integers(0, 10, shape)
    idx.flat[0] = idx.flat[-1]  # a repeated index accumulates
    lw, tw = lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.embedding(lamina.tensor(idx), lw, **kwargs)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, **kwargs)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(lw.detach().numpy(), tw.detach().numpy(), rtol=tol, atol=tol)  # max_norm renorm
    assert y.dtype == lw.dtype


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 3}, {"scale_grad_by_freq": True}], ids=str)
@pytest.mark.parametrize("vocab, shape, dim", [(65, (32, 64), 128), (3000, (700,), 40), (5, (4, 4096), 8)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_backward_many_rows_parity(kwargs, vocab, shape, dim, dtype):
    # >= 2**14 gradient elements: the sorted reduceat scatter-add (smaller ones use add.at); many repeats per row
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    w = rng.standard_normal((vocab, dim)).astype(dtype)
    idx = rng.integers(0, vocab, shape)
    lw, tw = lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    g = rng.standard_normal(shape + (dim,)).astype(dtype)
    gl = lamina.tensor(np.asfortranarray(g)) if dtype == "float64" else lamina.tensor(g)   # non-contiguous dy too
    F.embedding(lamina.tensor(idx), lw, **kwargs).backward(gl)
    torch.nn.functional.embedding(torch.tensor(idx), tw, **kwargs).backward(torch.tensor(g))
    tol = 1e-4 if dtype == "float32" else 1e-12   # float32: sums of up to ~3,300 rows, in another order than torch
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=tol, atol=tol)
    assert lw.grad.dtype == lw.dtype
    if "padding_idx" in kwargs:
        assert not lw.grad.numpy()[3].any()


def test_embedding_module_init_repr_state_dict_and_padding():
    torch = pytest.importorskip("torch")
    kw = {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True, "sparse": True}
    m = nn.Embedding(10, 3, **kw)
    assert repr(m) == repr(torch.nn.Embedding(10, 3, **kw)) and list(m.state_dict()) == ["weight"]
    assert (m.weight.detach().numpy()[0] == 0).all()
    lamina.manual_seed(0)
    big = nn.Embedding(1000, 50).weight.detach().numpy()
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1) < 0.01  # N(0, 1) like PyTorch
    e = nn.Embedding(6, 2, padding_idx=3)
    e(lamina.tensor([[3, 1, 3]])).sum().backward()
    assert (e.weight.grad.numpy()[3] == 0).all() and (e.weight.grad.numpy()[1] == 1).all()


def test_from_pretrained_shares_storage_and_freezes():
    w = lamina.randn(5, 3)
    e = nn.Embedding.from_pretrained(w, padding_idx=1)
    assert not e.weight.requires_grad and e.padding_idx == 1
    np.testing.assert_array_equal(e(lamina.tensor([1])).numpy()[0], w.numpy()[1])  # not zeroed, as PyTorch
    e2 = nn.Embedding.from_pretrained(w, freeze=False)
    assert e2.weight.requires_grad
    b = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not b.weight.requires_grad and b.mode == "sum"
    with pytest.raises(lamina.ShapeError, match=r"Embedding.from_pretrained: .*\(2-D\), got shape \[5\]"):
        nn.Embedding.from_pretrained(lamina.randn(5))


def test_embedding_gradcheck():
    w = lamina.randn(6, 3, dtype=lamina.float64, requires_grad=True)
    idx = lamina.tensor([[0, 2, 2], [5, 1, 0]])
    assert gradcheck(lambda t: F.embedding(idx, t), (w,))
    assert gradcheck(lambda t: F.embedding_bag(idx, t, mode="max"), (w,))
    psw = lamina.randn(2, 3, dtype=lamina.float64, requires_grad=True)
    assert gradcheck(lambda t, p: F.embedding_bag(idx, t, mode="sum", per_sample_weights=p), (w, psw))


BAG_GRID = [
    {"offsets": [0, 2, 2, 5]}, {"offsets": [0, 3, 8], "include_last_offset": True},
    {"offsets": [0, 4], "padding_idx": 1}, {"two_d": True}, {"two_d": True, "padding_idx": 3},
    {"offsets": [0, 1, 6], "psw": True}, {"offsets": [0, 4], "max_norm": 1.0},
    {"offsets": [0, 0, 8]},
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", BAG_GRID, ids=str)
def test_embedding_bag_parity(mode, case):
    torch = pytest.importorskip("torch")
    case = dict(case)
    if case.pop("psw", False):
        if mode != "sum":
            pytest.skip("per_sample_weights only for mode='sum'")
        psw = True
    else:
        psw = False
    rng = np.random.default_rng(1)
    w = rng.standard_normal((10, 4))
    idx = rng.integers(0, 10, (2, 4)) if case.pop("two_d", False) else np.array([1, 3, 1, 4, 5, 1, 7, 2])
    lkw, tkw = {}, {}
    for k, v in case.items():
        lkw[k] = lamina.tensor(np.array(v)) if k == "offsets" else v
        tkw[k] = torch.tensor(np.array(v)) if k == "offsets" else v
    if psw:
        p = rng.standard_normal(idx.shape)
        lkw["per_sample_weights"] = lp = lamina.tensor(p, requires_grad=True)
        tkw["per_sample_weights"] = tp = torch.tensor(p, requires_grad=True)
    lw, tw = lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.embedding_bag(lamina.tensor(idx), lw, mode=mode, **lkw)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, mode=mode, **tkw)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    if psw:
        np.testing.assert_allclose(lp.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_bag_scale_grad_by_freq_divides_by_index_count():
    # PyTorch 2.x CPU divides by the count of a different index here (it indexes counts by sorted
    # position); lamina uses the documented rule, the same as F.embedding: the index's frequency.
    w = lamina.zeros(10, 2, requires_grad=True)
    idx = lamina.tensor([1, 3, 1, 4, 5, 1, 7, 2])
    y = F.embedding_bag(idx, w, lamina.tensor([0, 4]), mode="sum", scale_grad_by_freq=True)
    y.backward(lamina.tensor([[1.0, 10.0], [100.0, 1000.0]]))
    g = w.grad.numpy()[:, 0]
    np.testing.assert_allclose(g[[1, 2, 3, 4, 5, 7]], [102 / 3, 100, 1, 1, 100, 100], rtol=1e-6)


def test_embedding_bag_module_repr_and_forward():
    torch = pytest.importorskip("torch")
    for kw in ({}, {"max_norm": 2.0, "mode": "max", "padding_idx": 1, "include_last_offset": True},
               {"mode": "sum", "norm_type": 1.0, "scale_grad_by_freq": True}):
        assert repr(nn.EmbeddingBag(10, 3, **kw)) == repr(torch.nn.EmbeddingBag(10, 3, **kw))
    m = nn.EmbeddingBag(10, 3, mode="sum")
    out = m(lamina.tensor([1, 2, 3, 4]), lamina.tensor([0, 3]))
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), np.stack([w[[1, 2, 3]].sum(0), w[4]]), rtol=1e-6)


ERRORS = [
    (lambda: nn.Embedding(10, 3)(lamina.tensor([[1, 10]])), IndexError,
     r"Embedding: index 10 is out of range; expected indices in \[0, 9\]"),
    (lambda: nn.Embedding(10, 3)(lamina.tensor([-2])), IndexError, r"Embedding: index -2 is out of range"),
    (lambda: F.embedding(lamina.tensor([12]), lamina.randn(10, 3)), IndexError, r"embedding: index 12 is out"),
    (lambda: nn.Embedding(10, 3)(lamina.tensor([1.0])), TypeError, r"Embedding: expected indices of dtype int64"),
    (lambda: nn.Embedding(10, 3, padding_idx=10), ValueError, r"Embedding: padding_idx must be within num_embeddings"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([1, 11]), lamina.tensor([0])), IndexError,
     r"EmbeddingBag: index 11 is out of range"),
    (lambda: nn.EmbeddingBag(10, 3, mode="median"), ValueError, r"mode must be one of \['sum', 'mean', 'max'\]"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([1, 2])), ValueError, r"offsets has to be a 1D Tensor"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([[1, 2]]), lamina.tensor([0])), ValueError,
     r"if input is 2D, then offsets has to be None"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([1, 2]), lamina.tensor([1])), ValueError,
     r"offsets\[0\] has to be 0"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([1, 2]), lamina.tensor([0, 3])), ValueError,
     r"offsets\[-1\] can not be greater than input's length 2"),
    (lambda: nn.EmbeddingBag(10, 3)(lamina.tensor([1, 2]), lamina.tensor([0]), lamina.ones(2)), NotImplementedError,
     r"per_sample_weights is only supported for mode='sum'"),
    (lambda: nn.EmbeddingBag(10, 3, mode="max", scale_grad_by_freq=True)(lamina.tensor([[1]])), ValueError,
     r"max mode does not support scaling the gradient by the frequency"),
]


@pytest.mark.parametrize("call,error,match", ERRORS, ids=[e[2][:30] for e in ERRORS])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(lamina.tensor(idx), 5).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx), 5).numpy())
    assert F.one_hot(lamina.tensor([2, 0])).shape == (2, 3)


def test_max_norm_renormalises_in_place_only_looked_up_rows():
    w = lamina.tensor(np.full((4, 2), 3.0))
    F.embedding(lamina.tensor([1, 1, 2]), w, max_norm=1.0)
    norms = np.linalg.norm(w.numpy(), axis=1)
    np.testing.assert_allclose(norms[[1, 2]], 1.0, rtol=1e-6)
    np.testing.assert_allclose(norms[[0, 3]], np.sqrt(18.0))
