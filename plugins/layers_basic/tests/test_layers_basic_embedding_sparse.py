"""Embedding / EmbeddingBag / F.embedding(_bag) with ``sparse=True``: the weight gradient is torch's sparse
COO tensor (indices, values, is_coalesced, shape, dtype), padding rows left out, and torch's errors
(EmbeddingBag max mode refuses sparse weights; scale_grad_by_freq has no sparse gradient)."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lamina_sparse")


def _same_sparse(lg, tg, tol):
    assert lg.is_sparse and tg.layout == torch.sparse_coo
    assert tuple(lg.shape) == tuple(tg.shape) and lg.is_coalesced() == tg.is_coalesced()
    assert str(lg.dtype).split(".")[-1] == str(tg.dtype).split(".")[-1]
    np.testing.assert_array_equal(lg._indices().numpy(), tg._indices().clone().numpy())
    np.testing.assert_allclose(lg._values().detach().numpy(), tg._values().detach().clone().numpy(), rtol=tol,
                               atol=tol)


def _weights(dtype, shape=(10, 4), seed=0):
    w = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)


def _backward(ly, ty, seed=1):
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape)).astype(str(ty.dtype).split(".")[-1])
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))


EMB_GRID = [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"max_norm": 1.0}]
INDICES = [np.array([3, 1, 3, 9]), np.array([[0, 2, 2], [9, 0, 5]]), np.array(4), np.zeros((0,), dtype=np.int64),
           np.array([2, 2])]


# (torch itself fails on a 0-d input with padding_idx and sparse=True: those pairs are left out)
@pytest.mark.parametrize(("kwargs", "idx"), [(k, i) for k in EMB_GRID for i in INDICES
                                             if not (i.ndim == 0 and "padding_idx" in k)],
                         ids=lambda v: str(v.tolist()) if isinstance(v, np.ndarray) else str(v))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_sparse_gradient_is_torchs(kwargs, idx, dtype):
    lw, tw = _weights(dtype)
    ly = F.embedding(lamina.tensor(idx), lw, sparse=True, **kwargs)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, sparse=True, **kwargs)
    _backward(ly, ty)
    tol = 1e-6 if dtype == "float32" else 1e-12
    _same_sparse(lw.grad, tw.grad, tol)
    np.testing.assert_allclose(lw.detach().numpy(), tw.detach().numpy(), rtol=tol, atol=tol)  # max_norm


def test_sparse_gradient_densified_equals_the_dense_gradient():
    rng = np.random.default_rng(2)
    idx = lamina.tensor(rng.integers(0, 10, (4, 6)))
    w = rng.standard_normal((10, 3))
    ws = lamina.tensor(w, requires_grad=True)
    wd = lamina.tensor(w, requires_grad=True)
    g = lamina.tensor(rng.standard_normal((4, 6, 3)))
    F.embedding(idx, ws, padding_idx=1, sparse=True).backward(g)
    F.embedding(idx, wd, padding_idx=1).backward(g)
    np.testing.assert_allclose(ws.grad.to_dense().numpy(), wd.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_module_int32_and_accumulation():
    torch.manual_seed(0)
    t = torch.nn.Embedding(6, 2, sparse=True, padding_idx=0)
    m = nn.Embedding(6, 2, sparse=True, padding_idx=0)
    with lamina.no_grad():
        m.weight.copy_(lamina.tensor(t.weight.detach().numpy()))
    for idx in (np.array([[1, 0, 5]], dtype=np.int32), np.array([5, 5, 2], dtype=np.int32)):
        _backward(m(lamina.tensor(idx)), t(torch.tensor(idx)))
    _same_sparse(m.weight.grad, t.weight.grad, 1e-6)  # contiguous values: merged, as torch (4 entries)
    assert m.weight.grad._nnz() == 4
    assert repr(m) == repr(t)


def test_embedding_from_pretrained_sparse():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    m = nn.Embedding.from_pretrained(lamina.tensor(w), freeze=False, sparse=True)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, sparse=True)
    _backward(m(lamina.tensor([3, 1])), t(torch.tensor([3, 1])))
    _same_sparse(m.weight.grad, t.weight.grad, 1e-6)


def test_embedding_sparse_double_backward():
    lw, tw = _weights("float64", seed=3)
    idx = np.array([[0, 2, 2], [9, 0, 5]])
    (lg,) = lamina.autograd.grad((F.embedding(lamina.tensor(idx), lw, sparse=True, padding_idx=5) ** 3).sum(), lw,
                                 create_graph=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.embedding(torch.tensor(idx), tw, sparse=True,
                                                               padding_idx=5) ** 3).sum(), tw, create_graph=True)
    _same_sparse(lg, tg, 1e-12)
    (lg.to_dense() * lamina.tensor(np.arange(40.0).reshape(10, 4))).sum().backward()
    (tg.to_dense() * torch.tensor(np.arange(40.0).reshape(10, 4))).sum().backward()
    np.testing.assert_allclose(lw.grad.to_dense().numpy(), tw.grad.to_dense().numpy(), rtol=1e-12)


def test_scale_grad_by_freq_has_no_sparse_gradient():
    for lib, w in zip((lamina, torch), _weights("float32")):
        fn = lib.nn.functional.embedding
        y = fn(lib.tensor([1, 1, 2]), w, sparse=True, scale_grad_by_freq=True)
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
            y.sum().backward()
    for lib, w in zip((lamina, torch), _weights("float32")):
        y = lib.nn.functional.embedding_bag(lib.tensor([[1, 1, 2]]), w, sparse=True, scale_grad_by_freq=True)
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
            y.sum().backward()


BAG_GRID = [
    ({"mode": "sum"}, [0, 2, 2, 4, 1], [0, 2]),
    ({"mode": "mean"}, [0, 2, 2, 4, 1], [0, 2]),
    ({"mode": "sum", "padding_idx": 2}, [0, 2, 2, 4, 1], [0, 2]),
    ({"mode": "mean", "padding_idx": 2}, [0, 2, 2, 4, 1], [0, 2]),
    ({"mode": "sum"}, [0, 2, 2, 4, 1], [0, 2, 5]),                      # an empty bag
    ({"mode": "mean", "include_last_offset": True}, [0, 2, 2, 4, 1], [0, 2, 5]),
    ({"mode": "mean"}, [[0, 2, 9], [4, 1, 2]], None),                    # fixed-size bags (2-D input)
    ({"mode": "sum", "max_norm": 1.0}, [0, 2, 2, 4, 1], [0, 3]),
]


@pytest.mark.parametrize(("kwargs", "idx", "offsets"), BAG_GRID, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_bag_sparse_gradient_is_torchs(kwargs, idx, offsets, dtype):
    lw, tw = _weights(dtype)
    lo = None if offsets is None else lamina.tensor(offsets)
    to = None if offsets is None else torch.tensor(offsets)
    ly = F.embedding_bag(lamina.tensor(idx), lw, lo, sparse=True, **kwargs)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, to, sparse=True, **kwargs)
    _backward(ly, ty)
    tol = 1e-6 if dtype == "float32" else 1e-12
    _same_sparse(lw.grad, tw.grad, tol)


def test_embedding_bag_per_sample_weights_sparse():
    psw = np.random.default_rng(4).standard_normal(5)
    lw, tw = _weights("float64")
    lp, tp = lamina.tensor(psw, requires_grad=True), torch.tensor(psw, requires_grad=True)
    lm = nn.EmbeddingBag(10, 4, mode="sum", sparse=True, padding_idx=2, _weight=lw.detach())
    tm = torch.nn.EmbeddingBag(10, 4, mode="sum", sparse=True, padding_idx=2, _weight=tw.detach())
    args = ([0, 2, 2, 4, 1], [0, 2])
    _backward(lm(*(lamina.tensor(a) for a in args), per_sample_weights=lp),
              tm(*(torch.tensor(a) for a in args), per_sample_weights=tp))
    _same_sparse(lm.weight.grad, tm.weight.grad, 1e-12)
    np.testing.assert_allclose(lp.grad.numpy(), tp.grad.numpy(), rtol=1e-12)   # dense, as torch


def test_embedding_bag_module_sparse_weight_grad():
    lw, tw = _weights("float32")
    lm = nn.EmbeddingBag(10, 4, mode="mean", sparse=True, _weight=lw.detach())
    tm = torch.nn.EmbeddingBag(10, 4, mode="mean", sparse=True, _weight=tw.detach())
    idx, off = [1, 3, 3, 7], [0, 1]
    _backward(lm(lamina.tensor(idx), lamina.tensor(off)), tm(torch.tensor(idx), torch.tensor(off)))
    _same_sparse(lm.weight.grad, tm.weight.grad, 1e-6)
    assert repr(lm) == repr(tm)


def test_embedding_bag_max_mode_refuses_sparse_weights():
    for lib, w in zip((lamina, torch), _weights("float32")):
        with pytest.raises(ValueError, match="max mode does not support sparse weights"):
            lib.nn.functional.embedding_bag(lib.tensor([[1, 2]]), w, mode="max", sparse=True)
        m = lib.nn.EmbeddingBag(10, 4, mode="max", sparse=True)
        with pytest.raises(ValueError, match="max mode does not support sparse weights"):
            m(lib.tensor([[1, 2]]))


@pytest.mark.parametrize("padding_idx", [None, 6])
def test_accumulated_layout_follows_torch(padding_idx):
    """Two backward calls through a transposed lookup: the values equal torch's. lamina merges the entries;
    torch concatenates non-contiguous values (no padding_idx) and merges contiguous ones (a padding_idx gathers
    the rows, so they are contiguous even when no row is padding): there the layout is torch's too."""
    lw, tw = _weights("float32")
    for idx in ([4, 0, 2], [3, 1, 0]):
        for lib, w in ((lamina, lw), (torch, tw)):
            y = lib.nn.functional.embedding(lib.tensor(idx), w, sparse=True, padding_idx=padding_idx)
            (y.t() * lib.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3))).sum().backward()
    _same_sparse(lw.grad.coalesce(), tw.grad.coalesce(), 1e-6)
    if padding_idx is not None:
        _same_sparse(lw.grad, tw.grad, 1e-6)
